import type { StdioServerTransport as StdioTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { createMcpGateway as CreateMcpGateway, startMcpHttp as StartMcpHttp } from "../mcp-server/index.ts";
import { CliError } from "./cli-error.ts";
import { untilStopped } from "./until-stopped.ts";
import { openWorkspace } from "./workspace.ts";

export interface McpCommandOptions {
  configPath: string | undefined;
  cwd: string;
  /** Serve Streamable HTTP on this port; undefined serves one client over stdio. */
  port: number | undefined;
  host: string;
  token: string | undefined;
  maxConcurrency: number | undefined;
  redisUrl: string | undefined;
  prefix: string | undefined;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WritableStream;
}

/**
 * `volley mcp`: the config's tools (local modules and upstream MCP servers) as one MCP server,
 * over stdio for a client that starts it (Claude Desktop, Cursor, an SDK), or over Streamable
 * HTTP for many. Every call is a run of one executor, recorded in the config's history, so that
 * `volley serve` on the same history shows them and decides their approvals.
 */
export async function mcpCommand(options: McpCommandOptions): Promise<number> {
  let createMcpGateway: typeof CreateMcpGateway;
  let startMcpHttp: typeof StartMcpHttp;
  let StdioServerTransport: typeof StdioTransport;
  try {
    ({ createMcpGateway, startMcpHttp } = await import("../mcp-server/index.ts"));
    ({ StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js"));
  } catch {
    throw new CliError("volley mcp needs the MCP SDK: npm install @modelcontextprotocol/sdk");
  }
  const workspace = await openWorkspace({
    configPath: options.configPath,
    cwd: options.cwd,
    maxConcurrency: options.maxConcurrency,
    redisUrl: options.redisUrl,
    prefix: options.prefix,
    // Calls that need approval are asked of the client that made them, when it can ask a person.
    // Runs start only once the gateway below serves a client.
    approve: (request) => gateway.approveThroughClients(request),
  });
  const gateway = createMcpGateway({ executor: workspace.executor });
  // An upstream server's new tool list reaches the executor (the workspace sees to it), then every client.
  workspace.config.onToolsChange(() => void gateway.toolsChanged());
  const tools = `${workspace.config.tools.length} tools`;
  try {
    if (options.port === undefined) {
      // stdout carries the protocol: everything for a person goes to stderr.
      const transport = new StdioServerTransport();
      const closed = new Promise<void>((resolve) => {
        transport.onclose = resolve;
        process.stdin.once("end", resolve);
      });
      await gateway.connect(transport);
      options.stderr.write(`volley mcp: serving ${tools} over stdio\n`);
      await Promise.race([closed, untilStopped()]);
    } else {
      let running: Awaited<ReturnType<typeof StartMcpHttp>>;
      try {
        running = await startMcpHttp({
          gateway,
          host: options.host,
          port: options.port,
          ...(options.token !== undefined ? { token: options.token } : {}),
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
          throw new CliError(
            `Port ${options.port} on ${options.host} is in use: pass --port <another>, or 0 for any free one`,
          );
        throw new CliError((error as Error).message, { cause: error });
      }
      options.stdout.write(`Volley is serving ${tools} over MCP\n  endpoint  ${running.url}\n`);
      await untilStopped();
      await running.close();
    }
  } finally {
    await gateway.close();
    await workspace.close();
  }
  return 0;
}
