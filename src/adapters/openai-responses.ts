import type { ToolCall, ToolResult } from "../run/types.ts";
import type { Tool } from "../tool/define-tool.ts";
import { markedResultText, toolJsonSchema } from "./tool-json-schema.ts";
import { withPositions, type CallsOptions } from "./positional-references.ts";

/** An item of a Responses API `output`; only `function_call` items are calls. */
export interface OpenAIResponsesItem {
  type?: string;
  call_id?: string;
  name?: string;
  arguments?: string;
}

export interface OpenAIResponsesFunctionCallOutput {
  type: "function_call_output";
  call_id: string;
  output: string;
}

export interface OpenAIResponsesToolDefinition {
  type: "function";
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
  strict: false;
}

/** OpenAI Responses: `function_call` items in, `function_call_output` items out. */
export const openaiResponses = {
  /** The calls among a response's `output` items (other items are skipped). */
  calls(output: readonly OpenAIResponsesItem[] | null | undefined, options?: CallsOptions): ToolCall[] {
    const calls = (output ?? [])
      .filter((item) => item?.type === "function_call")
      .map((item) => ({
        ...(typeof item.call_id === "string" && item.call_id !== "" ? { id: item.call_id } : {}),
        name: item.name ?? "",
        args: item.arguments ?? "",
      }));
    return withPositions(calls, options);
  },

  /** One `function_call_output` item per result, in call order. */
  outputs(results: readonly ToolResult[]): OpenAIResponsesFunctionCallOutput[] {
    return results.map((result) => ({
      type: "function_call_output",
      call_id: result.id,
      output: markedResultText(result),
    }));
  },

  /** The `tools` array of a request. */
  tools(tools: readonly Tool[]): OpenAIResponsesToolDefinition[] {
    return tools.map((tool) => ({
      type: "function",
      name: tool.name,
      ...(tool.description ? { description: tool.description } : {}),
      parameters: toolJsonSchema(tool),
      strict: false,
    }));
  },
};
