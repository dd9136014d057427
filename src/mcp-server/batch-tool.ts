import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import type { ToolCall, ToolResult } from "../run/types.ts";

/** The gateway's own tool, which runs several calls in one request. */
export const BATCH_TOOL_NAME = "run_tool_calls";

/** How the batch tool is listed: what a model reads to use it. */
export function batchToolDefinition(toolNames: readonly string[]): McpTool {
  return {
    name: BATCH_TOOL_NAME,
    description:
      "Runs several of the other tools in one request, each call as early as its inputs allow and as many at once as the tools bear. " +
      "Give each call an id. A call can use the output of another call of the same request: where a value should go, write " +
      '{"$ref": "<that call\'s id>", "path": "/json/pointer/into/its/output"} (leave out "path" for the whole output); the call then waits for that one. ' +
      "Returns every call's result, in the order given: its output, or the error it met.",
    inputSchema: {
      type: "object",
      properties: {
        calls: {
          type: "array",
          minItems: 1,
          items: {
            type: "object",
            properties: {
              id: {
                type: "string",
                description: "A name for this call, unique in the request, that other calls can refer to",
              },
              name: { type: "string", enum: [...toolNames], description: "The tool to call" },
              args: {
                type: "object",
                description: "The tool's arguments; any value may be a $ref to another call's output",
              },
            },
            required: ["id", "name"],
          },
        },
      },
      required: ["calls"],
    },
    annotations: { title: "Run tool calls together" },
  };
}

/** The calls a batch request asks for, or why it can't be read. */
export function batchCalls(args: Record<string, unknown> | undefined): ToolCall[] | string {
  const calls = args?.calls;
  if (!Array.isArray(calls) || calls.length === 0) return '"calls" must be a non-empty array of { id, name, args }';
  return calls.map((call): ToolCall => {
    const { id, name, args: callArgs } = (call ?? {}) as { id?: unknown; name?: unknown; args?: unknown };
    // Fields of the wrong type are passed on: the executor answers each such call with what is wrong.
    const toolCall: ToolCall = { id: id as string, name: name as string };
    if (callArgs !== undefined) toolCall.args = callArgs as Record<string, unknown>;
    return toolCall;
  });
}

/** Every call's result, as the model reads it: JSON text, and the same as structured content. */
export function batchResult(results: readonly ToolResult[]): CallToolResult {
  const summary = {
    results: results.map((result) =>
      result.ok
        ? { id: result.id, ok: true, output: result.output }
        : { id: result.id, ok: false, error: result.error.message },
    ),
  };
  return { content: [{ type: "text", text: JSON.stringify(summary) }], structuredContent: summary };
}
