import { describe, expect, it } from "vitest";
import type { ChatMessage } from "./chat-model.ts";
import { estimateTokens, historyWindow } from "./history-window.ts";

const turn = (question: string, answer: string): ChatMessage[] => [
  { role: "user", content: question },
  {
    role: "assistant",
    content: null,
    tool_calls: [{ id: `${question}-call`, type: "function", function: { name: "look", arguments: "{}" } }],
  },
  { role: "tool", tool_call_id: `${question}-call`, content: "x".repeat(40) },
  { role: "assistant", content: answer },
];
const conversation = [...turn("one", "1"), ...turn("two", "2"), ...turn("three", "3")];
const count = (message: ChatMessage): number => (message.role === "tool" ? 10 : 1);

describe("historyWindow", () => {
  it("keeps everything within the limits", () => {
    expect(historyWindow(conversation, { messages: undefined, tokens: undefined, countTokens: count })).toBe(
      conversation,
    );
    expect(historyWindow(conversation, { messages: 12, tokens: 39, countTokens: count })).toBe(conversation);
  });

  it("keeps the newest messages that fit a token budget, from a user's message on", () => {
    // Each turn counts 13; 30 tokens hold two turns and part of a third, which is left out whole.
    const window = historyWindow(conversation, { messages: undefined, tokens: 30, countTokens: count });
    expect(window).toEqual(conversation.slice(4));
    expect(historyWindow(conversation, { messages: undefined, tokens: 5, countTokens: count })).toEqual([]);
  });

  it("takes the tighter of a message limit and a token budget", () => {
    expect(historyWindow(conversation, { messages: 5, tokens: 30, countTokens: count })).toEqual(conversation.slice(8));
    expect(historyWindow(conversation, { messages: 9, tokens: 100, countTokens: count })).toEqual(
      conversation.slice(4),
    );
  });

  it("estimates tokens as a quarter of the message's JSON", () => {
    expect(estimateTokens({ role: "user", content: "x".repeat(400) })).toBe(
      Math.ceil(JSON.stringify({ role: "user", content: "x".repeat(400) }).length / 4),
    );
  });
});
