import { markedResultText } from "../adapters/tool-json-schema.ts";
import { invalidOption, unknownKeyMessage, VolleyError } from "../errors/volley-error.ts";
import { createExecutor } from "../executor/create-executor.ts";
import type { Executor, ExecutorOptions } from "../executor/executor-types.ts";
import { defineTool, withToolOptions, type ToolOptions } from "../tool/define-tool.ts";

/** What a call's invocation carries that the original tool needs back: its run context and details. */
interface Invocation {
  runContext: unknown;
  details: { toolCall?: { callId?: string }; signal?: AbortSignal } | undefined;
}

/**
 * The part of an OpenAI Agents SDK function tool (`tool()` from `@openai/agents`) that Volley
 * uses. `invoke` is typed loosely: each tool types its own context.
 */
export interface FunctionToolLike {
  type: "function";
  name: string;
  description: string;
  /** A JSON Schema of its arguments. */
  parameters: object;
  invoke(runContext: never, input: string, details?: never): Promise<unknown>;
}

export interface VolleyFunctionToolsOptions extends Omit<ExecutorOptions, "tools"> {
  /** Volley's options per tool, by name: limits, retries, cache, approval, resource locks. */
  tools?: Record<string, ToolOptions>;
}

let invocations = 0;

/**
 * OpenAI Agents SDK function tools whose calls run through a Volley executor: give the tools it
 * returns to an `Agent` unchanged (same names, descriptions and schemas). Calls of one model
 * response, which the SDK starts together, share each tool's limits; retries, timeouts,
 * approvals and the history are Volley's. A call that fails is answered with Volley's words for
 * the model. A tool made with the SDK's default `errorFunction` turns its own errors into text
 * before Volley sees them: make it with `errorFunction: null` for Volley to retry them.
 */
export function volleyFunctionTools<T extends FunctionToolLike[]>(
  functionTools: T,
  options: VolleyFunctionToolsOptions = {},
): { tools: T; executor: Executor } {
  const where = "volleyFunctionTools";
  const given: unknown = functionTools;
  if (!Array.isArray(given)) invalidOption(where, "functionTools", "an array of function tools", given);
  if (options === null || typeof options !== "object") invalidOption(where, "options", "an options object", options);
  const { tools: perTool = {}, ...executorOptions } = options;
  const names = functionTools.map((each, index) => {
    if (each?.type !== "function" || typeof each.invoke !== "function")
      invalidOption(where, `functionTools[${index}]`, "a function tool made by tool() from @openai/agents", each);
    return each.name;
  });
  for (const name of Object.keys(perTool))
    if (!names.includes(name))
      throw new VolleyError("invalid_option", `${where}: tools: ${unknownKeyMessage(name, names, "tool")}`);

  /** Each call in flight, by its Volley call id: what its tool's own invoke needs. */
  const inFlight = new Map<string, Invocation>();
  const volleyTools = functionTools.map((original) => {
    const tool = defineTool({
      name: original.name,
      description: original.description,
      input: original.parameters as Record<string, unknown>,
      execute: (args: Record<string, unknown>, { callId, signal }) => {
        const invocation = inFlight.get(callId);
        return original.invoke(invocation?.runContext as never, JSON.stringify(args), {
          ...invocation?.details,
          signal,
        } as never);
      },
    });
    const own = perTool[original.name];
    return own === undefined ? tool : withToolOptions(tool, own);
  });
  const executor = createExecutor({ ...executorOptions, tools: volleyTools });

  const wrapped = functionTools.map((original) => ({
    ...original,
    invoke: async (runContext: unknown, input: string, details?: Invocation["details"]): Promise<unknown> => {
      const id = details?.toolCall?.callId || `agents_call_${++invocations}`;
      inFlight.set(id, { runContext, details });
      try {
        const { results } = await executor.run([{ id, name: original.name, args: input }], {
          name: `Agents SDK: ${original.name}`,
          ...(details?.signal ? { signal: details.signal } : {}),
        });
        const [result] = results;
        if (result === undefined) throw new VolleyError("run_closed", `${where}: the call got no result`);
        return result.ok ? result.output : markedResultText(result);
      } finally {
        inFlight.delete(id);
      }
    },
  }));
  return { tools: wrapped as unknown as T, executor };
}
