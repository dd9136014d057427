/** Volley as an MCP server: a gateway in front of an executor's tools, over stdio or Streamable HTTP. */
export { createMcpGateway, type McpGateway, type McpGatewayOptions } from "./mcp-gateway.ts";
export { startMcpHttp, DEFAULT_MCP_PORT, type RunningMcpHttp, type StartMcpHttpOptions } from "./start-mcp-http.ts";
export { BATCH_TOOL_NAME } from "./batch-tool.ts";
