/**
 * An agent whose tool calls start while the model is still writing its message.
 *
 *   node examples/agents/eager-agent.ts
 *
 * With no OPENAI_API_KEY it talks to Volley's mock Chat Completions server, which streams a
 * scripted reply at 40 tokens per second after 400 ms, as a hosted model would: no key, no
 * network. With OPENAI_API_KEY it asks a real model (OPENAI_BASE_URL and VOLLEY_MODEL point it
 * at any OpenAI-compatible endpoint).
 */
import OpenAI from "openai";
import { createAgent, openaiModel } from "volley/agent";
import { startMockOpenAI } from "volley/testing";
import { flights, weather } from "./tools.ts";

const question = "I'm in Oslo. Where is it warmest today, Rome or Lima, and how do I get there?";
const mock = process.env.OPENAI_API_KEY
  ? undefined
  : await startMockOpenAI({
      timeToFirstTokenMs: 400,
      tokensPerSecond: 40,
      script: [
        {
          toolCalls: [
            { id: "rome_weather", name: "weather", arguments: { city: "Rome" }, tokens: 30 },
            { id: "lima_weather", name: "weather", arguments: { city: "Lima" }, tokens: 30 },
            { id: "to_rome", name: "flights", arguments: { from: "Oslo", to: "Rome" }, tokens: 30 },
            { id: "to_lima", name: "flights", arguments: { from: "Oslo", to: "Lima" }, tokens: 30 },
          ],
        },
        {
          content:
            "Lima is warmest at 19 °C, just ahead of Rome at 17 °C. A flight leaves Oslo for Lima at 17:40 for 129 EUR.",
        },
      ],
    });
const client = mock
  ? new OpenAI({ baseURL: mock.baseURL, apiKey: "mock" })
  : new OpenAI({ baseURL: process.env.OPENAI_BASE_URL });
const agent = createAgent({
  model: openaiModel({ client, model: process.env.VOLLEY_MODEL ?? "gpt-4.1-mini" }),
  tools: [weather, flights],
  system: "Be brief.",
});

const started = performance.now();
const at = (): string => `+${((performance.now() - started) / 1000).toFixed(2)}s`;
// Calls of this step that ended before the model had written the step's last call.
let endedWhileWriting = 0;
let endedThisStep = 0;
try {
  for await (const event of agent.stream(question)) {
    if (event.type === "tool-call-start") {
      console.log(`${at()}  start ${event.name} ${event.callId}`);
      endedWhileWriting = endedThisStep;
    }
    if (event.type === "tool-call-end") {
      endedThisStep++;
      console.log(
        `${at()}  ${event.result.ok ? "done " : "fail "} ${event.result.name} ${event.result.id} (${event.result.durationMs.toFixed(0)} ms)`,
      );
    }
    if (event.type === "step-end" && event.step.figures) {
      // The step's figures keep the model's writing apart from the tools' own parallelism.
      const { toolsBusyMs, toolsSumMs, toolsSpeedup, overlapMs, savedMs } = event.step.figures;
      console.log(
        `${at()}  step: model and tools ${(event.step.durationMs / 1000).toFixed(2)} s; tools busy ${toolsBusyMs.toFixed(0)} ms for ${toolsSumMs.toFixed(0)} ms of work (${toolsSpeedup?.toFixed(2) ?? "–"}×)`,
      );
      console.log(
        `         ${overlapMs.toFixed(0)} ms of tool time ran while the model was still writing; ${endedWhileWriting} of ${event.step.run?.stats.calls ?? 0} calls had ended by then; done ${savedMs.toFixed(0)} ms sooner than after the whole message`,
      );
      endedWhileWriting = endedThisStep = 0;
    }
    if (event.type === "answer") {
      console.log(`\n${event.result.answer}\n`);
      console.log(`${event.result.steps.length} model steps, ${(event.result.durationMs / 1000).toFixed(2)} s in all.`);
    }
  }
} finally {
  await mock?.close();
}
