export {
  mcpAnnotationsOf,
  mcpTools,
  type McpHints,
  type McpToolOverrides,
  type McpToolSet,
  type McpToolsOptions,
} from "./mcp-tools.ts";
export type { McpServerSource } from "./mcp-connection.ts";
