import type { ToolCall, ToolResult } from "../run/types.ts";
import type { Tool } from "../tool/define-tool.ts";
import { toolJsonSchema } from "./tool-json-schema.ts";
import { withPositions, type CallsOptions } from "./positional-references.ts";

/** A part of a Gemini `Content`; only `functionCall` parts are calls. */
export interface GeminiPart {
  functionCall?: { id?: string; name?: string; args?: Record<string, unknown> };
}

export interface GeminiFunctionResponsePart {
  functionResponse: { id?: string; name: string; response: Record<string, unknown> };
}

export interface GeminiTool {
  functionDeclarations: { name: string; description?: string; parametersJsonSchema: Record<string, unknown> }[];
}

/** Ids Volley makes for calls that came without one; they are not sent back. */
const MADE_ID_PREFIX = "gemini_call_";

/** Google Gemini: `functionCall` parts in (ids made when missing), `functionResponse` parts out. */
export const gemini = {
  /** The calls of a `Content` (or its `parts`); other parts are skipped. */
  calls(
    content: { parts?: readonly GeminiPart[] } | readonly GeminiPart[] | null | undefined,
    options?: CallsOptions,
  ): ToolCall[] {
    const parts = Array.isArray(content)
      ? content
      : ((content as { parts?: readonly GeminiPart[] } | null | undefined)?.parts ?? []);
    const calls = (parts as GeminiPart[])
      .filter((part) => part?.functionCall !== undefined)
      .map((part, index) => {
        const call = part.functionCall as NonNullable<GeminiPart["functionCall"]>;
        return {
          id: typeof call.id === "string" && call.id !== "" ? call.id : `${MADE_ID_PREFIX}${index}`,
          name: call.name ?? "",
          ...(call.args === undefined ? {} : { args: call.args }),
        };
      });
    return withPositions(calls, options);
  },

  /** One `functionResponse` part per result, in call order: `{ output }` or `{ error: { type, message } }`. */
  parts(results: readonly ToolResult[]): GeminiFunctionResponsePart[] {
    return results.map((result) => ({
      functionResponse: {
        ...(result.id.startsWith(MADE_ID_PREFIX) ? {} : { id: result.id }),
        name: result.name,
        response: result.ok
          ? { output: result.output ?? null }
          : { error: { type: result.error?.type, message: result.error?.message } },
      },
    }));
  },

  /** The `tools` entry of a request. */
  tools(tools: readonly Tool[]): GeminiTool[] {
    return [
      {
        functionDeclarations: tools.map((tool) => ({
          name: tool.name,
          ...(tool.description ? { description: tool.description } : {}),
          parametersJsonSchema: toolJsonSchema(tool),
        })),
      },
    ];
  },
};
