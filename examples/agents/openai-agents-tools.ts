/**
 * An OpenAI Agents SDK agent whose function tools Volley runs: the Agent, its tools and `run()`
 * stay as the SDK has them; `volleyFunctionTools` puts an executor behind the tools, so the calls
 * of one response share each tool's limit, retryable failures are retried, and every call is in
 * Volley's history.
 *
 *   node examples/agents/openai-agents-tools.ts
 *
 * With no OPENAI_API_KEY, the model is Volley's mock Chat Completions server, whose scripted
 * model asks for four weather calls at once, then answers. With OPENAI_API_KEY it asks a real model.
 */
import { Agent, OpenAIChatCompletionsModel, Runner, tool } from "@openai/agents";

import OpenAI from "openai";
import { ToolError } from "volley";
import { volleyFunctionTools } from "volley/openai-agents";
import { startMockOpenAI } from "volley/testing";
import { z } from "zod";

let busy = true;
const weather = tool({
  name: "weather",
  description: "Today's weather in a city",
  parameters: z.object({ city: z.string() }),
  // Errors reach Volley, which retries the retryable ones.
  errorFunction: null,
  execute: async ({ city }) => {
    if (city === "Lima" && busy) {
      busy = false;
      throw new ToolError("the weather API is busy", { retryable: true });
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
    return JSON.stringify({
      city,
      celsius: ({ Oslo: 4, Rome: 17, Lima: 19, Cairo: 28 } as Record<string, number>)[city],
    });
  },
});

const mock = process.env.OPENAI_API_KEY
  ? undefined
  : await startMockOpenAI({
      script: [
        {
          toolCalls: ["Oslo", "Rome", "Lima", "Cairo"].map((city) => ({
            id: city.toLowerCase(),
            name: "weather",
            arguments: { city },
          })),
        },
        { content: "Cairo is warmest at 28 °C." },
      ],
    });

// The weather API allows two requests at once, and is worth a second try when busy.
const { tools, executor } = volleyFunctionTools([weather], {
  tools: { weather: { concurrency: 2 } },
  retry: { attempts: 2, initialDelayMs: 50 },
});
const agent = new Agent({
  name: "traveller",
  instructions: "Answer in one sentence.",
  tools,
  ...(mock
    ? { model: new OpenAIChatCompletionsModel(new OpenAI({ baseURL: mock.baseURL, apiKey: "mock" }), "mock-model") }
    : {}),
});

try {
  const started = performance.now();
  // Tracing off: this example sends nothing anywhere.
  const result = await new Runner({ tracingDisabled: true }).run(
    agent,
    "Where is it warmest: Oslo, Rome, Lima or Cairo?",
  );
  for (const item of result.newItems)
    if (item.type === "tool_call_output_item") console.log(`✓ ${item.rawItem.callId}: ${String(item.output)}`);
  console.log(`\n${String(result.finalOutput)}`);
  const figures = executor.stats().tools.weather;
  console.log(
    `\n${(performance.now() - started).toFixed(0)} ms; weather: ${figures?.calls ?? 0} calls, ${figures?.retries ?? 0} retried, at most 2 at once`,
  );
} finally {
  await mock?.close();
}
