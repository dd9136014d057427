/**
 * An AI SDK `generateText` loop whose tools run through Volley: the calls of each model step
 * become one Volley run, and nothing else in the loop changes. The AI SDK alone already starts
 * a step's calls at once; what Volley adds is what a real API needs: the weather API's limit of
 * two requests at once holds, the booking API's 503 is retried, and each step is in the history
 * and the dashboard.
 *
 *   node examples/agents/ai-sdk-generate-text.ts
 *
 * With no OPENAI_API_KEY the model is Volley's mock Chat Completions server, reached through the
 * AI SDK's OpenAI-compatible provider; with OPENAI_API_KEY it is a real one (OPENAI_BASE_URL and
 * VOLLEY_MODEL for other endpoints). The other way round, `aiSdkModel(model)` from
 * `volley/ai-sdk` gives Volley's own agent any AI SDK model.
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, stepCountIs } from "ai";
import { createExecutor, type RunResult, type ToolResult } from "volley";
import { aiSdkTools } from "volley/ai-sdk";
import { fakeTool, startMockOpenAI } from "volley/testing";
import { z } from "zod";
import { weather } from "./tools.ts";

// The booking API of ./tools.ts, as it behaves today: its first answer is a 503.
let bookingAttempts = 0;
const flights = fakeTool({
  name: "flights",
  description: "Flights from one city to another today",
  input: z.object({ from: z.string(), to: z.string() }),
  latencyMs: 900,
  retry: { attempts: 3, initialDelayMs: 100 },
  fail: () => (++bookingAttempts === 1 ? "503 Service Unavailable" : undefined),
  output: ({ from, to }) => [{ from, to, departs: "17:40", priceEur: 129 }],
});

const apiKey = process.env.OPENAI_API_KEY;
const mock = apiKey
  ? undefined
  : await startMockOpenAI({
      script: [
        {
          toolCalls: [
            { id: "oslo", name: "weather", arguments: { city: "Oslo" } },
            { id: "rome", name: "weather", arguments: { city: "Rome" } },
            { id: "lima", name: "weather", arguments: { city: "Lima" } },
            { id: "to_lima", name: "flights", arguments: { from: "Oslo", to: "Lima" } },
          ],
        },
        { content: "Lima is the warmest at 19 °C; a flight leaves Oslo at 17:40 for 129 EUR." },
      ],
    });
const provider = createOpenAICompatible({
  name: mock ? "volley-mock" : "openai",
  baseURL: mock?.baseURL ?? process.env.OPENAI_BASE_URL ?? "https://api.openai.com/v1",
  apiKey: apiKey ?? "mock",
});

// Each model step's calls become one Volley run: its figures arrive with its `run-end` event.
const runs: RunResult[] = [];
const executor = createExecutor({
  tools: [weather, flights],
  maxConcurrency: 8,
  onEvent: (event) => event.type === "run-end" && runs.push(event.result),
});
try {
  const result = await generateText({
    model: provider.chatModel(process.env.VOLLEY_MODEL ?? "gpt-4.1-mini"),
    tools: aiSdkTools(executor),
    prompt: "I'm in Oslo. Which is warmest today, Oslo, Rome or Lima? Find me a flight there.",
    stopWhen: stepCountIs(4),
  });
  for (const [index, step] of result.steps.entries()) {
    for (const toolResult of step.toolResults)
      console.log(
        `step ${index + 1}: ${toolResult.toolName} ${toolResult.toolCallId} → ${JSON.stringify(toolResult.output)}`,
      );
  }
  for (const run of runs) {
    const weatherCalls = run.results.filter((call) => call.name === "weather");
    const retried = run.results.filter((call) => call.attempts > 1);
    console.log(`Volley ran the step's ${run.stats.calls} calls in ${run.stats.wallMs.toFixed(0)} ms:`);
    console.log(
      `  weather: ${weatherCalls.length} calls, at most ${mostAtOnce(weatherCalls)} at once (the API allows 2; the AI SDK alone would send all ${weatherCalls.length} together)`,
    );
    for (const call of retried)
      console.log(
        `  ${call.name} ${call.id}: answered after ${call.attempts} attempts (the AI SDK alone would hand the model the 503)`,
      );
  }
  console.log(`\n${result.text}`);
} finally {
  await mock?.close();
}

/** Most of these calls that ran at the same moment. */
function mostAtOnce(calls: readonly ToolResult[]): number {
  return Math.max(
    0,
    ...calls.map(
      (call) => calls.filter((other) => other.startedAt <= call.startedAt && call.startedAt < other.endedAt).length,
    ),
  );
}
