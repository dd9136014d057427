import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { ToolResult } from "../run/types.ts";

/** The content block types of MCP: an upstream server's blocks pass through as they came. */
const BLOCK_TYPES = new Set(["text", "image", "audio", "resource", "resource_link"]);

function isContentBlocks(value: unknown): value is CallToolResult["content"] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (block) =>
        block !== null && typeof block === "object" && BLOCK_TYPES.has(String((block as { type?: unknown }).type)),
    )
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * A Volley result as MCP's: a failure is an `isError` result whose text is Volley's message for
 * the model; text stays text; an object is JSON text and structured content; an upstream
 * server's content blocks pass through.
 */
export function toCallToolResult(result: ToolResult): CallToolResult {
  if (!result.ok) return { isError: true, content: [{ type: "text", text: result.error.message }] };
  const { output } = result;
  if (typeof output === "string") return { content: [{ type: "text", text: output }] };
  if (isContentBlocks(output)) return { content: output };
  const text = JSON.stringify(output ?? null);
  return isPlainObject(output)
    ? { content: [{ type: "text", text }], structuredContent: output }
    : { content: [{ type: "text", text }] };
}
