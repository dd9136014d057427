import { describeValue, VolleyError } from "../errors/volley-error.ts";
import type { ToolCall } from "../run/types.ts";
import { anthropic, type AnthropicContentBlock } from "./anthropic.ts";
import { gemini, type GeminiPart } from "./gemini.ts";
import { openaiChat, type OpenAIChatToolCall } from "./openai-chat.ts";
import { openaiResponses } from "./openai-responses.ts";

export type CallFormat = "volley" | "openai-chat" | "openai-responses" | "anthropic" | "gemini";

export interface DetectedCalls {
  format: CallFormat;
  calls: ToolCall[];
}

type Shape = Record<string, unknown>;

function isShape(value: unknown): value is Shape {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

const isChatToolCall = (item: unknown): boolean => isShape(item) && (isShape(item.function) || item.type === "custom");
const isResponsesItem = (item: unknown): boolean => isShape(item) && typeof item.type === "string" && "call_id" in item;
const isAnthropicBlock = (item: unknown): boolean => isShape(item) && item.type === "tool_use";
const isGeminiPart = (item: unknown): boolean => isShape(item) && isShape(item.functionCall);
const isVolleyCall = (item: unknown): boolean =>
  isShape(item) && typeof item.name === "string" && !("type" in item) && !("function" in item);

/**
 * Tool calls in whichever format they were written: Volley's own (an array of calls, or
 * `{ calls }`), an OpenAI Chat Completions message, its `tool_calls` or a whole completion, an
 * OpenAI Responses `output` or response, an Anthropic message or its `content`, or a Gemini
 * response, `Content` or its `parts`.
 * Throws `invalid_call_list` naming what arrived when it is none of these.
 */
export function detectCalls(input: unknown): DetectedCalls {
  if (isShape(input)) {
    if (Array.isArray(input.calls)) return detectCalls(input.calls);
    if (Array.isArray(input.tool_calls)) return { format: "openai-chat", calls: openaiChat.calls(input) };
    if (Array.isArray(input.choices)) {
      const message = (input.choices as unknown[])
        .map((choice) => (isShape(choice) ? choice.message : undefined))
        .find(isShape);
      if (message !== undefined) return { format: "openai-chat", calls: openaiChat.calls(message) };
    }
    if (Array.isArray(input.output)) return detectCalls(input.output);
    if (Array.isArray(input.content) && (input.content as unknown[]).some(isAnthropicBlock)) {
      return { format: "anthropic", calls: anthropic.calls(input.content as AnthropicContentBlock[]) };
    }
    if (Array.isArray(input.candidates)) {
      const content = (input.candidates as unknown[])
        .map((candidate) => (isShape(candidate) ? candidate.content : undefined))
        .find(isShape);
      if (content !== undefined) return detectCalls(content);
    }
    if (Array.isArray(input.parts) && (input.parts as unknown[]).some(isGeminiPart))
      return { format: "gemini", calls: gemini.calls(input.parts as GeminiPart[]) };
  }
  if (Array.isArray(input) && input.length > 0) {
    if (input.every(isVolleyCall)) return { format: "volley", calls: input as ToolCall[] };
    if (input.every(isChatToolCall))
      return { format: "openai-chat", calls: openaiChat.calls({ tool_calls: input as OpenAIChatToolCall[] }) };
    if (input.some(isResponsesItem) && input.every(isShape))
      return { format: "openai-responses", calls: openaiResponses.calls(input) };
    if (input.some(isAnthropicBlock) && input.every(isShape))
      return { format: "anthropic", calls: anthropic.calls(input) };
    if (input.some(isGeminiPart) && input.every(isShape)) return { format: "gemini", calls: gemini.calls(input) };
  }
  throw new VolleyError(
    "invalid_call_list",
    `Expected tool calls: an array of { name, args?, id? }, { calls: [...] }, an OpenAI message with tool_calls or Responses output, an Anthropic message with tool_use blocks, or Gemini content with functionCall parts; got ${describeShape(input)}`,
  );
}

function describeShape(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "an empty array";
    const odd: unknown = (value as unknown[]).find((item) => !isVolleyCall(item));
    return `an array whose item ${describeValue(odd)}${isShape(odd) ? ` has keys ${Object.keys(odd).slice(0, 6).join(", ") || "(none)"}` : ""} is not a call`;
  }
  if (isShape(value)) return `an object with keys ${Object.keys(value).slice(0, 8).join(", ") || "(none)"}`;
  return describeValue(value);
}
