import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type RequestId,
  type Tool as McpTool,
} from "@modelcontextprotocol/sdk/types.js";
import { randomUUID } from "node:crypto";
import { toolJsonSchema } from "../adapters/tool-json-schema.ts";
import { invalidOption } from "../errors/volley-error.ts";
import type { Executor } from "../executor/executor-types.ts";
import { mcpAnnotationsOf } from "../mcp/mcp-tools.ts";
import type { ApprovalDecision, ApprovalRequest, RunEvent } from "../run/types.ts";
import type { Tool } from "../tool/define-tool.ts";
import { BATCH_TOOL_NAME, batchCalls, batchResult, batchToolDefinition } from "./batch-tool.ts";
import { toCallToolResult } from "./call-results.ts";

export interface McpGatewayOptions {
  /** Runs every call, so that limits, locks, retries and history hold across all clients. */
  executor: Executor;
  /** The name the gateway gives in the MCP handshake. @default "volley" */
  name?: string;
  /** Its version there. @default "1" */
  version?: string;
  /** Offer `run_tool_calls`, which runs several calls in one request, with `$ref` data flow. @default true */
  batchTool?: boolean;
}

export interface McpGateway {
  /** Serves one client over `transport` (stdio, or one Streamable HTTP session), with the shared executor. */
  connect(transport: Transport): Promise<Server>;
  /** Clients connected now. */
  readonly connections: number;
  /**
   * An approval policy for the gateway's executor (`createExecutor({ approve })`): a call that
   * needs approval is asked of the person at the client that made it, through MCP elicitation,
   * when that client supports it; otherwise it is left to `approve`/`deny`, the dashboard, or a
   * decision recorded in the history.
   */
  approveThroughClients(request: ApprovalRequest): Promise<ApprovalDecision>;
  /**
   * Tells every connected client that the tool list changed
   * (`notifications/tools/list_changed`); call it after `executor.setTools`. Their next
   * `tools/list` gets the new list.
   */
  toolsChanged(): Promise<void>;
  /** Disconnects every client. */
  close(): Promise<void>;
}

/** Its MCP listing: upstream tools keep their schema and annotations; local ones give their JSON Schema. */
function listingOf(tool: Tool): McpTool {
  let inputSchema: McpTool["inputSchema"];
  try {
    inputSchema = { type: "object", ...toolJsonSchema(tool) };
  } catch {
    // A schema that can't describe itself still validates calls: the client just isn't told its shape.
    inputSchema = { type: "object" };
  }
  const annotations = mcpAnnotationsOf(tool) ?? (tool.idempotent ? { idempotentHint: true } : undefined);
  return {
    name: tool.name,
    ...(tool.description ? { description: tool.description } : {}),
    inputSchema,
    ...(annotations !== undefined ? { annotations } : {}),
  };
}

/**
 * Volley as an MCP server: a gateway in front of an executor's tools (local ones, and upstream
 * MCP servers' through `mcpTools`). Every `tools/call` of every client is a Volley run of the one
 * executor, so per-tool limits, read/write locks, retries, timeouts, caching, approvals and the
 * history hold across all of them. A client's cancellation cancels the call; progress reaches it
 * as progress notifications; failures are `isError` results in Volley's words.
 */
export function createMcpGateway(options: McpGatewayOptions): McpGateway {
  const where = "createMcpGateway";
  if (options === null || typeof options !== "object") invalidOption(where, "options", "{ executor }", options);
  const { executor, name = "volley", version = "1", batchTool = true } = options;
  if (typeof executor?.run !== "function")
    invalidOption(where, "executor", "an executor made by createExecutor()", executor);
  if (typeof batchTool !== "boolean") invalidOption(where, "batchTool", "a boolean", batchTool);
  const servers = new Set<Server>();
  /**
   * The client connection and request of each run this gateway started, while it runs. Asking
   * that client goes out as part of that request: over Streamable HTTP, a server request with no
   * request of its own rides the client's optional standalone stream, and is lost when the
   * client has not opened it (yet).
   */
  const callerOfRun = new Map<string, { server: Server; requestId: RequestId }>();
  /** The listing of the executor's tools, made again only when they changed. */
  let listed: { tools: readonly Tool[]; listing: McpTool[]; names: string[] } | undefined;
  const current = (): { listing: McpTool[]; names: string[] } => {
    if (listed?.tools !== executor.tools) {
      const names = executor.tools.map((tool) => tool.name);
      listed = {
        tools: executor.tools,
        names,
        listing: [
          ...executor.tools.map(listingOf),
          ...(batchTool && !names.includes(BATCH_TOOL_NAME) ? [batchToolDefinition(names)] : []),
        ],
      };
    }
    return listed;
  };

  const serve = (server: Server): void => {
    const clientName = (): string => server.getClientVersion()?.name ?? "an MCP client";
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: current().listing }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
      const { name: toolName, arguments: args } = request.params;
      const progressToken = request.params._meta?.progressToken;
      // Progress goes out in order, and all of it before the result: a client forgets a
      // request's progress token once it has the answer.
      let progressSent = Promise.resolve();
      const onEvent =
        progressToken === undefined
          ? undefined
          : (event: RunEvent): void => {
              if (event.type !== "call-progress") return;
              const { progress, total, message } = event;
              const params = {
                progressToken,
                progress,
                ...(total !== undefined ? { total } : {}),
                ...(message !== undefined ? { message } : {}),
              };
              progressSent = progressSent
                .then(() => extra.sendNotification({ method: "notifications/progress", params }))
                .catch(() => undefined);
            };
      const runId = `mcp-${randomUUID()}`;
      const runOptions = {
        runId,
        signal: extra.signal,
        name: `MCP · ${clientName()}: ${toolName}`,
        ...(onEvent ? { onEvent } : {}),
      };
      if (batchTool && toolName === BATCH_TOOL_NAME && !current().names.includes(BATCH_TOOL_NAME)) {
        const calls = batchCalls(args);
        if (typeof calls === "string") return { isError: true, content: [{ type: "text", text: calls }] };
        callerOfRun.set(runId, { server, requestId: extra.requestId });
        try {
          const { results } = await executor.run(calls, runOptions);
          await progressSent;
          return batchResult(results);
        } finally {
          callerOfRun.delete(runId);
        }
      }
      callerOfRun.set(runId, { server, requestId: extra.requestId });
      try {
        const { results } = await executor.run(
          [{ id: String(extra.requestId), name: toolName, args: args ?? {} }],
          runOptions,
        );
        await progressSent;
        return toCallToolResult(results[0] as (typeof results)[number]);
      } finally {
        callerOfRun.delete(runId);
      }
    });
  };

  return {
    async connect(transport) {
      const server = new Server({ name, version }, { capabilities: { tools: { listChanged: true } } });
      serve(server);
      servers.add(server);
      server.onclose = () => servers.delete(server);
      await server.connect(transport);
      return server;
    },
    get connections() {
      return servers.size;
    },
    async approveThroughClients(request) {
      const caller = callerOfRun.get(request.runId);
      if (caller?.server.getClientCapabilities()?.elicitation === undefined) return undefined;
      const { server, requestId } = caller;
      const asked = await server.elicitInput(
        {
          message: `Allow the call of "${request.name}" with ${JSON.stringify(request.args).slice(0, 2000)}?`,
          requestedSchema: {
            type: "object",
            properties: {
              approve: {
                type: "boolean",
                title: "Run it",
                description: `Let "${request.name}" run with these arguments`,
              },
              reason: { type: "string", title: "Why (optional)" },
            },
            required: ["approve"],
          },
        },
        { relatedRequestId: requestId },
      );
      const reason =
        typeof asked.content?.reason === "string" && asked.content.reason !== "" ? asked.content.reason : undefined;
      if (asked.action === "accept")
        return { approved: asked.content?.approve === true, ...(reason !== undefined ? { reason } : {}) };
      return {
        approved: false,
        reason: `${asked.action === "decline" ? "declined" : "dismissed"} at ${server.getClientVersion()?.name ?? "the client"}`,
      };
    },
    async toolsChanged() {
      // A client that has gone meanwhile just misses the news.
      await Promise.all([...servers].map((server) => server.sendToolListChanged().catch(() => undefined)));
    },
    async close() {
      await Promise.all([...servers].map((server) => server.close()));
    },
  };
}
