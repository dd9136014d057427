import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";

/** Where an MCP server is: a command to run over stdio, a Streamable HTTP URL, or a client you connected yourself. */
export type McpServerSource =
  | { command: string; args?: readonly string[]; env?: Record<string, string>; cwd?: string }
  | { url: string | URL; headers?: Record<string, string> }
  | { client: Client };

/** Longer than any Volley time limit: Volley's own timeouts and cancellation govern calls. */
const NO_SDK_TIMEOUT_MS = 2_147_483_647;

/**
 * One MCP server, connected on demand. A server that closes (crashes, restarts) fails the
 * calls it had in flight and is connected again for the next call; a server that never
 * completes the handshake fails fast with the reason.
 */
export class McpConnection {
  readonly label: string;
  readonly #source: McpServerSource;
  readonly #connectTimeoutMs: number;
  #client: Promise<Client> | undefined;

  constructor(source: McpServerSource, connectTimeoutMs: number) {
    this.#source = source;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.label = "client" in source ? "the given MCP client" : "command" in source ? `MCP server \`${[source.command, ...(source.args ?? [])].join(" ")}\`` : `MCP server at ${String(source.url)}`;
  }

  /** The connected client, connecting (or reconnecting) first when needed. */
  client(): Promise<Client> {
    this.#client ??= this.#connect().catch((error: unknown) => {
      this.#client = undefined;
      throw error;
    });
    return this.#client;
  }

  async listTools(): Promise<McpTool[]> {
    const client = await this.client();
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return tools;
  }

  async callTool(name: string, args: Record<string, unknown>, signal: AbortSignal, onProgress: (update: { progress: number; total?: number; message?: string }) => void): Promise<CallToolResult> {
    const client = await this.client();
    return (await client.callTool({ name, arguments: args }, undefined, {
      signal,
      timeout: NO_SDK_TIMEOUT_MS,
      onprogress: (update) => onProgress({ progress: update.progress, ...(update.total === undefined ? {} : { total: update.total }), ...(update.message === undefined ? {} : { message: update.message }) }),
    })) as CallToolResult;
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined && !("client" in this.#source)) await (await client.catch(() => undefined))?.close();
  }

  async #connect(): Promise<Client> {
    const source = this.#source;
    if ("client" in source) return source.client;
    const transport: Transport =
      "command" in source
        ? new StdioClientTransport({ command: source.command, args: [...(source.args ?? [])], ...(source.env ? { env: source.env } : {}), ...(source.cwd ? { cwd: source.cwd } : {}), stderr: "ignore" })
        : new StreamableHTTPClientTransport(new URL(source.url), source.headers ? { requestInit: { headers: source.headers } } : undefined);
    const client = new Client({ name: "volley", version: "0.1.0" });
    client.onclose = () => {
      // Forget a closed connection, so that the next call connects again.
      if (this.#client !== undefined) void this.#client.then((current) => current === client && (this.#client = undefined), () => undefined);
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.label} did not complete the MCP handshake within ${this.#connectTimeoutMs} ms`)), this.#connectTimeoutMs);
    });
    try {
      await Promise.race([client.connect(transport), timedOut]);
      return client;
    } catch (error) {
      await client.close().catch(() => undefined);
      throw new Error(`Could not connect to ${this.label}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}
