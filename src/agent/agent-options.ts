import { estimateTokens } from "./history-window.ts";
import { invalidOption, rejectUnknownOptions } from "../errors/volley-error.ts";
import { AGENT_OPTION_KEYS, type AgentOptions } from "./agent-types.ts";

/** The agent's options, checked, with their defaults. */
export type CheckedAgentOptions = AgentOptions &
  Required<Pick<AgentOptions, "maxSteps" | "countTokens" | "mode" | "maxReplans" | "positionalReferences">>;

/** Checks `createAgent`'s options as `createExecutor` checks its own: a bad one is a clear error. */
export function checkAgentOptions(options: AgentOptions): CheckedAgentOptions {
  const where = "createAgent";
  if (options === null || typeof options !== "object")
    invalidOption(where, "options", "{ model, tools | executor, ... }", options);
  rejectUnknownOptions(where, options, AGENT_OPTION_KEYS);
  const {
    model,
    tools,
    system,
    maxSteps = 10,
    store,
    maxHistoryMessages,
    maxHistoryTokens,
    countTokens = estimateTokens,
    timeoutMs,
    mode = "tools",
    maxReplans = 1,
    positionalReferences = false,
    approve,
    maxConcurrency,
    parallel,
    instrumentation,
  } = options;
  if (instrumentation !== undefined && typeof instrumentation?.turnStart !== "function")
    invalidOption(
      where,
      "instrumentation",
      "an AgentInstrumentation, such as createTracing() from volley/otel",
      instrumentation,
    );
  if (maxHistoryMessages !== undefined && (!Number.isInteger(maxHistoryMessages) || maxHistoryMessages < 1))
    invalidOption(where, "maxHistoryMessages", "an integer from 1 and up", maxHistoryMessages);
  if (maxHistoryTokens !== undefined && (!Number.isInteger(maxHistoryTokens) || maxHistoryTokens < 1))
    invalidOption(where, "maxHistoryTokens", "an integer from 1 and up", maxHistoryTokens);
  if (typeof countTokens !== "function")
    invalidOption(where, "countTokens", "a function from a message to its token count", countTokens);
  if (typeof model?.stream !== "function")
    invalidOption(where, "model", "a ChatModel, such as openaiModel({ client, model })", model);
  if ((tools === undefined) === (options.executor === undefined))
    invalidOption(where, "tools", "given, or `executor` given instead (one of them)", tools);
  if (!Number.isInteger(maxSteps) || maxSteps < 1)
    invalidOption(where, "maxSteps", "an integer from 1 and up", maxSteps);
  if (system !== undefined && typeof system !== "string") invalidOption(where, "system", "a string", system);
  if (typeof positionalReferences !== "boolean")
    invalidOption(where, "positionalReferences", "a boolean", positionalReferences);
  if (timeoutMs !== undefined && !(timeoutMs > 0))
    invalidOption(where, "timeoutMs", "a number of milliseconds above 0", timeoutMs);
  if (mode !== "tools" && mode !== "plan") invalidOption(where, "mode", '"tools" or "plan"', mode);
  if (!Number.isInteger(maxReplans) || maxReplans < 0)
    invalidOption(where, "maxReplans", "an integer from 0 and up", maxReplans);
  if (approve !== undefined && (typeof approve !== "function" || options.executor !== undefined))
    invalidOption(
      where,
      "approve",
      "a function, with `tools` (an executor of your own takes `approve` itself)",
      approve,
    );
  if (maxConcurrency !== undefined && (!Number.isInteger(maxConcurrency) || maxConcurrency < 1))
    invalidOption(where, "maxConcurrency", "an integer from 1 and up", maxConcurrency);
  if (parallel !== undefined && typeof parallel !== "boolean") invalidOption(where, "parallel", "a boolean", parallel);
  // A resumed turn learns from the runs' history which calls ran: it must be the conversations' store.
  if (options.executor?.history !== undefined && store !== undefined && options.executor.history !== store)
    invalidOption(
      where,
      "store",
      "the store the executor records its runs in (its `history`): a resumed turn reads there which calls ran",
      store,
    );
  return {
    ...options,
    maxSteps,
    countTokens,
    mode,
    maxReplans,
    positionalReferences,
  };
}
