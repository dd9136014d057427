/** Tools: how one is defined, validated, limited and retried. */
export { defineTool, isTool, withToolOptions } from "./define-tool.ts";
export type {
  ProgressUpdate,
  RateLimit,
  ResourceClaim,
  Tool,
  ToolArguments,
  ToolCacheOptions,
  ToolContext,
  ToolDefinition,
  ToolOptions,
  WorkerOptions,
} from "./define-tool.ts";
export type { JsonSchema } from "./input-validator.ts";
export { DEFAULT_RETRY, type RetryPolicy } from "./retry-policy.ts";
