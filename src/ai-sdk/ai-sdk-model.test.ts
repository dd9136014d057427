import { convertArrayToReadableStream, MockLanguageModelV4 } from "ai/test";
import { describe, expect, it } from "vitest";
import { createAgent } from "../agent/index.ts";
import { defineTool } from "../index.ts";
import { chatModelContract, type ScriptedTurn, type SeenRequest } from "../agent/chat-model.contract.ts";
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

/** The stream an AI SDK provider sends for a scripted turn. */
function streamOf(turn: ScriptedTurn) {
  const text = turn.text ?? "";
  const words = text.split(/(?<= )/).filter((word) => word !== "");
  return {
    stream: convertArrayToReadableStream([
      { type: "stream-start" as const, warnings: [] },
      ...(words.length === 0
        ? []
        : [
            { type: "text-start" as const, id: "t" },
            ...words.map((delta) => ({ type: "text-delta" as const, id: "t", delta })),
            { type: "text-end" as const, id: "t" },
          ]),
      ...(turn.toolCalls ?? []).map((call) => ({
        type: "tool-call" as const,
        toolCallId: call.id,
        toolName: call.name,
        input: JSON.stringify(call.args),
      })),
      {
        type: "finish" as const,
        finishReason:
          turn.toolCalls === undefined
            ? { unified: "stop" as const, raw: "stop" }
            : { unified: "tool-calls" as const, raw: "tool_calls" },
        usage,
      },
    ]),
  };
}

chatModelContract("aiSdkModel on an AI SDK provider", {
  start(script) {
    const model = new MockLanguageModelV4({ doStream: script.map(streamOf) });
    const seen = (): SeenRequest[] =>
      model.doStreamCalls.map((call) => ({
        roles: call.prompt.map((message) => message.role),
        toolResults: call.prompt.flatMap((message) =>
          message.role === "tool"
            ? message.content.flatMap((part) =>
                part.type === "tool-result" && part.output.type === "text"
                  ? [[part.toolCallId, part.output.value] as [string, string]]
                  : [],
              )
            : [],
        ),
        toolNames: (call.tools ?? []).map((tool) => tool.name),
      }));
    return Promise.resolve({ model: aiSdkModel(model), seen, close: () => Promise.resolve() });
  },
});
