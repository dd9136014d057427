import type { ChatMessage } from "./chat-model.ts";

export interface HistoryLimits {
  /** Most messages. */
  messages: number | undefined;
  /** Most tokens, as `countTokens` counts them. */
  tokens: number | undefined;
  countTokens: (message: ChatMessage) => number;
}

/**
 * A rough token count for a message: its JSON's length over four, the rule of thumb for English
 * with OpenAI's tokenizers. Give the agent `countTokens` for your model's own.
 */
export function estimateTokens(message: ChatMessage): number {
  return Math.ceil(JSON.stringify(message).length / 4);
}

/**
 * The newest messages of a conversation's earlier turns that fit the limits, starting at a
 * user's message, so that the window never opens between a tool call and its result.
 */
export function historyWindow(earlier: readonly ChatMessage[], limits: HistoryLimits): readonly ChatMessage[] {
  let start = limits.messages === undefined ? 0 : Math.max(0, earlier.length - limits.messages);
  if (limits.tokens !== undefined) {
    let tokens = 0;
    let fits = earlier.length;
    while (fits > start) {
      tokens += limits.countTokens(earlier[fits - 1] as ChatMessage);
      if (tokens > limits.tokens) break;
      fits--;
    }
    start = fits;
  }
  if (start === 0) return earlier;
  while (start < earlier.length && earlier[start]?.role !== "user") start++;
  return earlier.slice(start);
}
