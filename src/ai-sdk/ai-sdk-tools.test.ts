import { generateText, stepCountIs } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createExecutor, defineTool, type RunEvent } from "../index.ts";
import { aiSdkTools } from "./index.ts";

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

/** A model that asks for three tool calls in one step, then answers with text. */
function scriptedModel(): MockLanguageModelV4 {
  return new MockLanguageModelV4({
    doGenerate: [
      {
        content: [
          { type: "tool-call", toolCallId: "c1", toolName: "weather", input: '{"city":"Oslo"}' },
          { type: "tool-call", toolCallId: "c2", toolName: "weather", input: '{"city":"Rome"}' },
          { type: "tool-call", toolCallId: "c3", toolName: "weather", input: '{"city":7}' },
        ],
        finishReason: { unified: "tool-calls", raw: "tool_calls" },
        usage,
        warnings: [],
      },
      {
        content: [{ type: "text", text: "Oslo is cold, Rome is warm." }],
        finishReason: { unified: "stop", raw: "stop" },
        usage,
        warnings: [],
      },
    ],
  });
}

describe("aiSdkTools", () => {
  it("runs an AI SDK step's tool calls through Volley: one run, its limits, its error words", async () => {
    let running = 0;
    let mostAtOnce = 0;
    const weather = defineTool({
      name: "weather",
      description: "Weather for a city",
      input: z.object({ city: z.string() }),
      concurrency: 1,
      execute: async ({ city }) => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running--;
        return { city, temperature: city === "Oslo" ? 2 : 24 };
      },
    });
    const events: RunEvent[] = [];
    const executor = createExecutor({ tools: [weather], onEvent: (event) => events.push(event) });
    const result = await generateText({
      model: scriptedModel(),
      tools: aiSdkTools(executor),
      prompt: "Weather in Oslo and Rome?",
      stopWhen: stepCountIs(3),
    });

    expect(result.text).toBe("Oslo is cold, Rome is warm.");
    const [first] = result.steps;
    expect(first?.toolResults.map((item): unknown[] => [item.toolCallId, item.output as unknown])).toEqual([
      ["c1", { city: "Oslo", temperature: 2 }],
      ["c2", { city: "Rome", temperature: 24 }],
    ]);
    // The third call's city is a number: the AI SDK's JSON Schema check or Volley's own answers it.
    expect(first?.content.some((part) => part.type === "tool-error" && part.toolCallId === "c3")).toBe(true);
    // The tool's own limit held, and the step's calls made one Volley run.
    expect(mostAtOnce).toBe(1);
    const starts = events.filter(
      (event): event is Extract<RunEvent, { type: "call-start" }> => event.type === "call-start",
    );
    expect(new Set(starts.map((event) => event.runId)).size).toBe(1);
    expect(starts.map((event) => event.callId).sort()).toEqual(["c1", "c2"]);
  });

  it("hands the model Volley's error message when a call fails in Volley", async () => {
    const flaky = defineTool({
      name: "weather",
      input: z.object({ city: z.string() }),
      execute: () => Promise.reject(new Error("upstream 503")),
    });
    const executor = createExecutor({ tools: [flaky] });
    const result = await generateText({
      model: scriptedModel(),
      tools: aiSdkTools(executor),
      prompt: "?",
      stopWhen: stepCountIs(3),
    });
    const errors = result.steps[0]?.content.filter((part) => part.type === "tool-error") ?? [];
    expect(errors.map((part) => (part as { error: Error }).error.message)).toContain("upstream 503");
  });

  it("checks what it is given", () => {
    const executor = createExecutor({ tools: [defineTool({ name: "t", execute: () => 1 })] });
    expect(Object.keys(aiSdkTools(executor))).toEqual(["t"]);
    expect(() => aiSdkTools(executor, { only: ["nope"] })).toThrow(
      "aiSdkTools: expected `only` to be names of the executor's tools (t)",
    );
    expect(() => aiSdkTools({} as never)).toThrow(
      "aiSdkTools: expected `executor` to be an executor made by createExecutor()",
    );
  });

  it("never mixes the calls of two steps that arrive in the same turn, even with the same ids", async () => {
    const echo = defineTool({ name: "echo", input: z.object({ text: z.string() }), execute: ({ text }) => text });
    const stepAsking = (text: string) =>
      new MockLanguageModelV4({
        doGenerate: [
          {
            content: [{ type: "tool-call", toolCallId: "call_0", toolName: "echo", input: JSON.stringify({ text }) }],
            finishReason: { unified: "tool-calls", raw: "tool_calls" },
            usage,
            warnings: [],
          },
          {
            content: [{ type: "text", text: "done" }],
            finishReason: { unified: "stop", raw: "stop" },
            usage,
            warnings: [],
          },
        ],
      });
    const runs: string[] = [];
    const executor = createExecutor({
      tools: [echo],
      onEvent: (event) => event.type === "run-start" && runs.push(event.runId),
    });
    const tools = aiSdkTools(executor);
    // Two conversations at once: both models name their call `call_0`.
    const [first, second] = await Promise.all(
      ["from the first", "from the second"].map((text) =>
        generateText({ model: stepAsking(text), tools, prompt: "echo", stopWhen: stepCountIs(2) }),
      ),
    );
    expect(first?.steps[0]?.toolResults.map((result): unknown => result.output)).toEqual(["from the first"]);
    expect(second?.steps[0]?.toolResults.map((result): unknown => result.output)).toEqual(["from the second"]);
    expect(runs).toHaveLength(2);
  });
});
