import { VolleyError } from "../errors/volley-error.ts";
import { isStandardSchema } from "../tool/input-validator.ts";
import type { Tool } from "../tool/define-tool.ts";

interface StandardJsonSchemaProps {
  jsonSchema?: { input?: (options: { target: string }) => Record<string, unknown> };
}

/**
 * A tool's input as JSON Schema, for a provider's tool definitions: a JSON Schema as given, or
 * converted by a Standard Schema that can convert itself (zod, arktype). No input accepts any
 * object.
 */
export function toolJsonSchema(tool: Tool): Record<string, unknown> {
  const input = tool.input;
  if (input === undefined) return { type: "object", properties: {} };
  if (!isStandardSchema(input)) return input;
  const convert = (input["~standard"] as StandardJsonSchemaProps).jsonSchema?.input;
  if (typeof convert !== "function") {
    throw new VolleyError(
      "invalid_tool",
      `Tool "${tool.name}": its ${input["~standard"].vendor} schema can't describe itself as JSON Schema. Give \`input\` as a JSON Schema object, or as a schema that implements Standard JSON Schema (zod 4, arktype; for valibot, @valibot/to-json-schema).`,
    );
  }
  // Providers take the schema itself; the dialect marker only confuses some of them.
  const schema = { ...convert({ target: "draft-2020-12" }) };
  delete schema.$schema;
  return schema;
}

/** The part of a `ToolResult` that says what came of it. */
type ResultLike = { ok: boolean; output?: unknown; error?: { type: string; message: string } | undefined };

/** What the model reads for a result: the output (text as it is, anything else as JSON), or the error. */
export function resultText(result: ResultLike): string {
  if (!result.ok) return result.error?.message ?? "The call failed.";
  if (typeof result.output === "string") return result.output;
  return JSON.stringify(result.output ?? null);
}

/** `resultText`, with a failure marked `Error (<type>):`, for formats that have no error flag (OpenAI's). */
export function markedResultText(result: ResultLike): string {
  return result.ok ? resultText(result) : `Error (${result.error?.type ?? "tool_error"}): ${resultText(result)}`;
}
