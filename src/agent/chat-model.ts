import type { OpenAIChatToolDefinition } from "../adapters/openai-chat.ts";

/** A message of the transcript, in the Chat Completions shape that most models understand. */
export type ChatMessage =
  | { role: "system" | "user"; content: string }
  | {
      role: "assistant";
      content: string | null;
      tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
    }
  | { role: "tool"; tool_call_id: string; content: string };

/** What a model streams: text as it comes, each tool call once its arguments are complete, then the end. */
export type ChatModelEvent =
  | { type: "text-delta"; text: string }
  | { type: "tool-call"; id: string; name: string; arguments: string }
  /** `reason` in Chat Completions words: `stop`, `tool_calls`, `length`, `content_filter`, or the provider's own. */
  /** `model`: the model that answered, when the provider says. */
  | { type: "finish"; reason: string; usage: TokenUsage | undefined; model?: string };

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatModelRequest {
  messages: readonly ChatMessage[];
  tools: readonly OpenAIChatToolDefinition[];
  signal?: AbortSignal | undefined;
}

/**
 * The seam between the agent and a model: anything that can stream a turn. An aborted
 * `signal` ends the stream with an error, never with a finish. `chat-model.contract.ts` is the
 * suite every implementation passes.
 */
export interface ChatModel {
  /** The model's name, for traces and logs. */
  readonly model?: string;
  stream(request: ChatModelRequest): AsyncIterable<ChatModelEvent>;
}
