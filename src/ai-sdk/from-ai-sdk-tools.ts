import type { StandardSchemaV1 } from "@standard-schema/spec";
import { asSchema, type ToolSet } from "ai";
import { invalidOption, unknownKeyMessage, VolleyError } from "../errors/volley-error.ts";
import { defineTool, withToolOptions, type Tool, type ToolContext, type ToolOptions } from "../tool/define-tool.ts";
import { isStandardSchema, type JsonSchema } from "../tool/input-validator.ts";

export interface FromAiSdkToolsOptions {
  /** Volley's options for each tool, by its name in the set: limits, retries, caching, approval. */
  tools?: Record<string, ToolOptions>;
}

type AiSdkTool = ToolSet[string];
type AiSdkExecute = (
  input: unknown,
  options: { toolCallId: string; messages: []; abortSignal: AbortSignal; context: object },
) => unknown;
type AiSdkApprovalRule = (
  input: unknown,
  options: { toolCallId: string; messages: []; context: object },
) => boolean | PromiseLike<boolean>;

/** The tool's description, if it has one; one written as a function of the AI SDK's context is asked with none. */
function described(aiTool: AiSdkTool): { description?: string } {
  const { description } = aiTool;
  const text = typeof description === "function" ? description({ context: {} }) : description;
  return text === undefined ? {} : { description: text };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === "object" && Symbol.asyncIterator in value;
}

/** The tool's input as Volley takes it: a Standard Schema (zod, valibot, arktype) as it is, anything else as its JSON Schema. */
async function inputOf(name: string, inputSchema: AiSdkTool["inputSchema"]): Promise<StandardSchemaV1 | JsonSchema> {
  if (isStandardSchema(inputSchema)) return inputSchema;
  try {
    const schema: unknown = await asSchema(inputSchema).jsonSchema;
    return schema as JsonSchema;
  } catch (error) {
    throw new VolleyError("invalid_tool", `AI SDK tool "${name}": its inputSchema can't be read as JSON Schema`, {
      cause: error,
    });
  }
}

/**
 * Existing AI SDK tools (`tool({ description, inputSchema, execute, needsApproval })`) as Volley
 * tools, named by their keys in the set, with Volley's options per tool over them. `execute`
 * gets `toolCallId` (the Volley call's id) and `abortSignal` (aborted on a timeout or a cancel); a
 * tool that streams its output answers with its last value. An approval rule is asked with the
 * arguments alone (there is no call id yet).
 */
export async function fromAiSdkTools(toolSet: ToolSet, options: FromAiSdkToolsOptions = {}): Promise<Tool[]> {
  const where = "fromAiSdkTools";
  if (toolSet === null || typeof toolSet !== "object") invalidOption(where, "toolSet", "an AI SDK tool set", toolSet);
  if (options === null || typeof options !== "object") invalidOption(where, "options", "an options object", options);
  const names = Object.keys(toolSet);
  const volleyOptions = options.tools ?? {};
  for (const name of Object.keys(volleyOptions)) {
    if (!names.includes(name))
      throw new VolleyError("invalid_option", `${where}: tools: ${unknownKeyMessage(name, names, "tool")}`);
  }
  return Promise.all(
    names.map(async (name) => {
      const aiTool = toolSet[name] as AiSdkTool;
      const execute = aiTool.execute as AiSdkExecute | undefined;
      if (typeof execute !== "function")
        invalidOption(where, `toolSet.${name}.execute`, "a function: Volley runs tools that execute here", execute);
      const rule = aiTool.needsApproval as boolean | AiSdkApprovalRule | undefined;
      const tool: Tool = defineTool({
        name,
        ...described(aiTool),
        input: await inputOf(name, aiTool.inputSchema),
        ...(rule === undefined
          ? {}
          : {
              needsApproval:
                typeof rule === "function"
                  ? async (args: unknown) => rule(args, { toolCallId: "", messages: [], context: {} })
                  : rule,
            }),
        execute: async (args: unknown, context: ToolContext) => {
          const output = execute(args, {
            toolCallId: context.callId,
            messages: [],
            abortSignal: context.signal,
            context: {},
          });
          if (!isAsyncIterable(output)) return await output;
          let last: unknown;
          for await (const value of output) last = value;
          return last;
        },
      });
      const own = volleyOptions[name];
      return own === undefined ? tool : withToolOptions(tool, own);
    }),
  );
}
