import type { ToolCall, ToolResult } from "../run/types.ts";
import type { Tool } from "../tool/define-tool.ts";
import { resultText, toolJsonSchema } from "./tool-json-schema.ts";
import { withPositions, type CallsOptions } from "./positional-references.ts";

/** A content block of an Anthropic message; only `tool_use` blocks are calls. */
export interface AnthropicContentBlock {
  type?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

export interface AnthropicToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content: string;
  is_error?: true;
}

export interface AnthropicToolDefinition {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

/** Anthropic Messages: `tool_use` blocks in, one user message of `tool_result` blocks out. */
export const anthropic = {
  /** The calls of an assistant message (or its `content` array); other blocks are skipped. */
  calls(
    message:
      { content?: readonly AnthropicContentBlock[] | string } | readonly AnthropicContentBlock[] | null | undefined,
    options?: CallsOptions,
  ): ToolCall[] {
    const content = Array.isArray(message) ? message : (message as { content?: unknown } | null | undefined)?.content;
    if (!Array.isArray(content)) return [];
    const calls = (content as AnthropicContentBlock[])
      .filter((block) => block?.type === "tool_use")
      .map((block) => ({
        ...(typeof block.id === "string" && block.id !== "" ? { id: block.id } : {}),
        name: block.name ?? "",
        ...(block.input === undefined ? {} : { args: block.input as Record<string, unknown> | string }),
      }));
    return withPositions(calls, options);
  },

  /** The user message that answers every call, in call order; failures have `is_error: true`. */
  message(results: readonly ToolResult[]): { role: "user"; content: AnthropicToolResultBlock[] } {
    return {
      role: "user",
      content: results.map((result) => ({
        type: "tool_result",
        tool_use_id: result.id,
        content: resultText(result),
        ...(result.ok ? {} : { is_error: true as const }),
      })),
    };
  },

  /** The `tools` array of a request. */
  tools(tools: readonly Tool[]): AnthropicToolDefinition[] {
    return tools.map((tool) => ({
      name: tool.name,
      ...(tool.description ? { description: tool.description } : {}),
      input_schema: toolJsonSchema(tool),
    }));
  },
};
