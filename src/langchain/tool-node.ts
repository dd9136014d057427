import { isAIMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { markedResultText } from "../adapters/tool-json-schema.ts";
import { invalidOption, VolleyError } from "../errors/volley-error.ts";
import type { Executor } from "../executor/executor-types.ts";

export interface VolleyToolNodeOptions {
  /** The state's key for its messages. @default "messages" */
  messagesKey?: string;
  /** What each node run is called in the history and on the dashboard. @default "LangGraph tools" */
  name?: string;
}

/**
 * A drop-in for LangGraph's prebuilt `ToolNode`: a node that takes the last AI message's
 * `tool_calls`, runs them through a Volley executor (its limits, `$ref` dependencies, retries,
 * approvals, history and tracing) and returns one `ToolMessage` per call, in call order. A
 * failed call is a `ToolMessage` with `status: "error"` and words the model can act on; the node
 * itself never throws for a call. Takes a messages state (`{ messages }`) or a list of messages,
 * and answers in the same shape.
 */
export function volleyToolNode(
  executor: Executor,
  options: VolleyToolNodeOptions = {},
): (
  state: BaseMessage[] | Record<string, unknown>,
  config?: { signal?: AbortSignal },
) => Promise<ToolMessage[] | Record<string, ToolMessage[]>> {
  const where = "volleyToolNode";
  if (typeof executor?.run !== "function")
    invalidOption(where, "executor", "an executor made by createExecutor()", executor);
  if (options === null || typeof options !== "object") invalidOption(where, "options", "an options object", options);
  const { messagesKey = "messages", name = "LangGraph tools" } = options;
  return async (state, config) => {
    const messages = Array.isArray(state) ? state : state?.[messagesKey];
    if (!Array.isArray(messages))
      throw new VolleyError(
        "invalid_option",
        `${where}: expected the state to hold its messages under "${messagesKey}", or to be a list of messages`,
      );
    const last: unknown = messages.at(-1);
    if (!isAIMessage(last as BaseMessage))
      throw new VolleyError("invalid_option", `${where}: the last message is not an AI message with tool calls`);
    const calls = (
      (last as { tool_calls?: { id?: string; name: string; args: Record<string, unknown> }[] }).tool_calls ?? []
    ).map((call) => ({
      ...(call.id ? { id: call.id } : {}),
      name: call.name,
      args: call.args ?? {},
    }));
    const { results } = await executor.run(calls, { name, ...(config?.signal ? { signal: config.signal } : {}) });
    const replies = results.map(
      (result) =>
        new ToolMessage({
          content: markedResultText(result),
          tool_call_id: result.id,
          name: result.name,
          status: result.ok ? "success" : "error",
        }),
    );
    return Array.isArray(state) ? replies : { [messagesKey]: replies };
  };
}
