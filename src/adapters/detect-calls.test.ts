import { describe, expect, it } from "vitest";
import { detectCalls } from "./detect-calls.ts";

describe("detectCalls", () => {
  const chatToolCalls = [{ id: "call_1", type: "function", function: { name: "search", arguments: '{"q":"tides"}' } }];

  it("reads Volley's own calls, bare or under `calls`", () => {
    const calls = [
      { id: "a", name: "search", args: { q: "tides" } },
      { name: "summarize", args: { text: { $ref: "a" } } },
    ];
    expect(detectCalls(calls)).toEqual({ format: "volley", calls });
    expect(detectCalls({ calls })).toEqual({ format: "volley", calls });
  });

  it("reads OpenAI Chat Completions: a message, its tool_calls, or a whole completion", () => {
    const expected = { format: "openai-chat", calls: [{ id: "call_1", name: "search", args: '{"q":"tides"}' }] };
    expect(detectCalls({ role: "assistant", content: null, tool_calls: chatToolCalls })).toEqual(expected);
    expect(detectCalls(chatToolCalls)).toEqual(expected);
    expect(
      detectCalls({
        id: "chatcmpl-1",
        choices: [{ index: 0, message: { role: "assistant", tool_calls: chatToolCalls } }],
      }),
    ).toEqual(expected);
  });

  it("reads OpenAI Responses output, skipping items that are not calls", () => {
    const output = [
      { type: "reasoning", id: "rs_1" },
      { type: "function_call", call_id: "fc_1", name: "search", arguments: '{"q":"x"}' },
    ];
    const expected = { format: "openai-responses", calls: [{ id: "fc_1", name: "search", args: '{"q":"x"}' }] };
    expect(detectCalls(output)).toEqual(expected);
    expect(detectCalls({ id: "resp_1", output })).toEqual(expected);
  });

  it("reads an Anthropic message or its content, skipping text blocks", () => {
    const content = [
      { type: "text", text: "Let me look." },
      { type: "tool_use", id: "toolu_1", name: "search", input: { q: "x" } },
    ];
    const expected = { format: "anthropic", calls: [{ id: "toolu_1", name: "search", args: { q: "x" } }] };
    expect(detectCalls({ role: "assistant", content })).toEqual(expected);
    expect(detectCalls(content)).toEqual(expected);
  });

  it("reads Gemini: a generateContent response, a Content, or its parts, skipping text parts", () => {
    const parts = [
      { text: "Looking." },
      { functionCall: { id: "g1", name: "search", args: { q: "x" } } },
      { functionCall: { name: "search", args: { q: "y" } } },
    ];
    const expected = {
      format: "gemini",
      calls: [
        { id: "g1", name: "search", args: { q: "x" } },
        { id: "gemini_call_1", name: "search", args: { q: "y" } },
      ],
    };
    expect(detectCalls({ candidates: [{ content: { role: "model", parts }, finishReason: "STOP" }] })).toEqual(
      expected,
    );
    expect(detectCalls({ role: "model", parts })).toEqual(expected);
    expect(detectCalls(parts)).toEqual(expected);
  });

  it("names what arrived when it is no known format", () => {
    expect(() => detectCalls([])).toThrow(/got an empty array/);
    expect(() => detectCalls({ tools: [] })).toThrow(/got an object with keys tools/);
    expect(() => detectCalls([{ name: "a" }, 3])).toThrow(/item 3 \(number\) is not a call/);
    expect(() => detectCalls("search")).toThrow(/got "search" \(string\)/);
    expect(() => detectCalls(null)).toThrow(expect.objectContaining({ code: "invalid_call_list" }));
  });
});
