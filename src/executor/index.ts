/** Running tool calls: the executor, its runs and their settings. */
export { createExecutor, DEFAULT_MAX_CONCURRENCY } from "./create-executor.ts";
export type {
  Executor,
  ExecutorOptions,
  ExecutorConfiguration,
  LiveRun,
  RunOptions,
  ToolSettings,
} from "./executor-types.ts";
