import type { ToolCall, ToolResult } from "../run/types.ts";
import type { Tool } from "../tool/define-tool.ts";
import { markedResultText, toolJsonSchema } from "./tool-json-schema.ts";
import { withPositions, type CallsOptions } from "./positional-references.ts";

/** A tool call in an OpenAI Chat Completions assistant message: a function call, or a custom tool's free text. */
export interface OpenAIChatToolCall {
  id?: string | undefined;
  type?: string | undefined;
  function?: { name?: string | undefined; arguments?: string | undefined } | undefined;
  custom?: { name?: string | undefined; input?: string | undefined } | undefined;
}

export interface OpenAIChatToolMessage {
  role: "tool";
  tool_call_id: string;
  content: string;
}

export interface OpenAIChatToolDefinition {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

/** OpenAI Chat Completions: `tool_calls` in, `role: "tool"` messages out. */
export const openaiChat = {
  /** The calls of an assistant message; its arguments stay raw JSON text for Volley to parse. None when it has no `tool_calls`. */
  calls(
    message: { tool_calls?: readonly OpenAIChatToolCall[] | null | undefined } | null | undefined,
    options?: CallsOptions,
  ): ToolCall[] {
    const calls = (message?.tool_calls ?? []).map((call) => ({
      ...(typeof call.id === "string" && call.id !== "" ? { id: call.id } : {}),
      // A custom tool's input is free text: it arrives as the `input` argument.
      ...(call.type === "custom"
        ? { name: call.custom?.name ?? "", args: { input: call.custom?.input ?? "" } }
        : { name: call.function?.name ?? "", args: call.function?.arguments ?? "" }),
    }));
    return withPositions(calls, options);
  },

  /** One `role: "tool"` message per result, in call order. A failure's content is its error message, marked as an error. */
  messages(results: readonly ToolResult[]): OpenAIChatToolMessage[] {
    return results.map((result) => ({
      role: "tool",
      tool_call_id: result.id,
      content: markedResultText(result),
    }));
  },

  /** The `tools` array of a request. */
  tools(tools: readonly Tool[]): OpenAIChatToolDefinition[] {
    return tools.map((tool) => ({
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        parameters: toolJsonSchema(tool),
      },
    }));
  },
};
