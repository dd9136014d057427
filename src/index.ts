export * from "./executor/index.ts";
export * from "./tool/index.ts";
export * from "./run/index.ts";
export { ToolError, VolleyError, type ToolErrorOptions, type VolleyErrorCode } from "./errors/index.ts";
export * from "./scheduler/index.ts";
export * from "./shared/index.ts";
export * from "./adapters/index.ts";
export * from "./backend/index.ts";
export * from "./worker/index.ts";
