import { convertArrayToReadableStream, MockLanguageModelV4 } from "ai/test";
import { describe, expect, it } from "vitest";
import { createAgent } from "../agent/index.ts";
import { defineTool } from "../index.ts";
import { aiSdkModel } from "./index.ts";

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

describe("aiSdkModel", () => {
  it("lets the agent drive any AI SDK language model, tool results fed back by name", async () => {
    const model = new MockLanguageModelV4({
      doStream: [
        {
          stream: convertArrayToReadableStream([
            { type: "stream-start", warnings: [] },
            { type: "tool-call", toolCallId: "t1", toolName: "weather", input: '{"city":"Oslo"}' },
            { type: "tool-call", toolCallId: "t2", toolName: "weather", input: '{"city":"Rome"}' },
            { type: "finish", finishReason: { unified: "tool-calls", raw: "tool_calls" }, usage },
          ]),
        },
        {
          stream: convertArrayToReadableStream([
            { type: "stream-start", warnings: [] },
            { type: "text-start", id: "x" },
            { type: "text-delta", id: "x", delta: "Oslo cold, " },
            { type: "text-delta", id: "x", delta: "Rome warm." },
            { type: "text-end", id: "x" },
            { type: "finish", finishReason: { unified: "stop", raw: "stop" }, usage },
          ]),
        },
      ],
    });
    const weather = defineTool({
      name: "weather",
      input: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      execute: (args) => `${String(args.city)}: ok`,
    });
    const result = await createAgent({ model: aiSdkModel(model), tools: [weather] }).run("Weather?");
    expect(result).toMatchObject({
      answer: "Oslo cold, Rome warm.",
      finish: "answer",
      usage: { inputTokens: 20, outputTokens: 10 },
    });
    expect(result.steps[0]?.run?.results.map((item) => [item.id, item.output])).toEqual([
      ["t1", "Oslo: ok"],
      ["t2", "Rome: ok"],
    ]);
    const secondPrompt = model.doStreamCalls[1]?.prompt ?? [];
    const toolResults = secondPrompt
      .filter((message) => message.role === "tool")
      .flatMap(
        (message) => message.content as { type: string; toolCallId?: string; toolName?: string; output?: unknown }[],
      );
    expect(toolResults.map((part) => [part.type, part.toolCallId, part.toolName, part.output])).toEqual([
      ["tool-result", "t1", "weather", { type: "text", value: "Oslo: ok" }],
      ["tool-result", "t2", "weather", { type: "text", value: "Rome: ok" }],
    ]);
  });
});
