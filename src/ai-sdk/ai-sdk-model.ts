import { jsonSchema, streamText, tool, type LanguageModel, type ModelMessage, type ToolSet } from "ai";
import type { OpenAIChatToolDefinition } from "../adapters/openai-chat.ts";
import type { ChatMessage, ChatModel, ChatModelEvent, ChatModelRequest } from "../agent/chat-model.ts";
import { invalidOption } from "../errors/volley-error.ts";

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The agent's transcript as AI SDK model messages; tool results name their tool, as the SDK asks. */
function toModelMessages(messages: readonly ChatMessage[]): ModelMessage[] {
  const toolNames = new Map<string, string>();
  return messages.map((message): ModelMessage => {
    switch (message.role) {
      case "system":
      case "user":
        return { role: message.role, content: message.content };
      case "assistant":
        for (const call of message.tool_calls ?? []) toolNames.set(call.id, call.function.name);
        return {
          role: "assistant",
          content: [
            ...(message.content ? [{ type: "text" as const, text: message.content }] : []),
            ...(message.tool_calls ?? []).map((call) => ({
              type: "tool-call" as const,
              toolCallId: call.id,
              toolName: call.function.name,
              input: parseArguments(call.function.arguments),
            })),
          ],
        };
      case "tool":
        return {
          role: "tool",
          content: [
            {
              type: "tool-result",
              toolCallId: message.tool_call_id,
              toolName: toolNames.get(message.tool_call_id) ?? "",
              output: { type: "text", value: message.content },
            },
          ],
        };
    }
  });
}

/** The AI SDK's finish reasons in the Chat Completions words that `ChatModel` speaks. */
const FINISH_REASONS: Partial<Record<string, string>> = {
  "tool-calls": "tool_calls",
  "content-filter": "content_filter",
};

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException("The model's stream was aborted", "AbortError");
}

/** Tools the model may call, without `execute`: Volley runs them, not the AI SDK. */
function toToolSet(tools: readonly OpenAIChatToolDefinition[]): ToolSet {
  return Object.fromEntries(
    tools.map(({ function: definition }) => [
      definition.name,
      tool({
        ...(definition.description ? { description: definition.description } : {}),
        inputSchema: jsonSchema(definition.parameters),
      }),
    ]),
  );
}

/**
 * A `ChatModel` on any Vercel AI SDK language model (Anthropic, Gemini, OpenAI, Mistral…),
 * streaming. Tool calls are handed on as the SDK completes them, for the agent to start at once.
 */
export function aiSdkModel(model: LanguageModel): ChatModel {
  if (model === null || (typeof model !== "object" && typeof model !== "string"))
    invalidOption("aiSdkModel", "model", "an AI SDK language model", model);
  return {
    model: typeof model === "string" ? model : model.modelId,
    async *stream({ messages, tools, signal }: ChatModelRequest): AsyncGenerator<ChatModelEvent> {
      const result = streamText({
        model,
        // The transcript keeps system messages where they are, as Chat Completions does.
        allowSystemInMessages: true,
        messages: toModelMessages(messages),
        tools: toToolSet(tools),
        ...(signal ? { abortSignal: signal } : {}),
      });
      for await (const part of result.fullStream) {
        if (part.type === "text-delta") yield { type: "text-delta", text: part.text };
        else if (part.type === "tool-call") {
          // Even a call the SDK found invalid is handed on: Volley answers it in words the model can act on.
          const input: unknown = part.input;
          yield {
            type: "tool-call",
            id: part.toolCallId,
            name: part.toolName,
            arguments: typeof input === "string" ? input : JSON.stringify(input ?? {}),
          };
        } else if (part.type === "finish") {
          yield {
            type: "finish",
            reason: FINISH_REASONS[part.finishReason] ?? part.finishReason,
            usage: { inputTokens: part.totalUsage.inputTokens ?? 0, outputTokens: part.totalUsage.outputTokens ?? 0 },
          };
        } else if (part.type === "error") {
          throw part.error instanceof Error ? part.error : new Error(String(part.error));
        } else if (part.type === "abort") {
          throw abortReason(signal);
        }
      }
      // An aborted stream may simply end: it must not pass for a finished turn.
      if (signal?.aborted) throw abortReason(signal);
    },
  };
}
