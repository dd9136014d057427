import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Tool as McpTool,
} from "@modelcontextprotocol/sdk/types.js";
import { isProcessAlive } from "../shared/process-alive.ts";

/** Where an MCP server is: a command to run over stdio, a Streamable HTTP URL, or a client you connected yourself. */
export type McpServerSource =
  | { command: string; args?: readonly string[]; env?: Record<string, string>; cwd?: string }
  | { url: string | URL; headers?: Record<string, string> }
  | { client: Client };

/** Longer than any Volley time limit: Volley's own timeouts and cancellation govern calls. */
const NO_SDK_TIMEOUT_MS = 2_147_483_647;
/** How much of a server's stderr is kept, to say why it stopped. */
const STDERR_TAIL_CHARS = 2000;
/** How often the handshake looks whether the server's process is still there. */
const EXIT_CHECK_MS = 50;

/**
 * The variables a server started with `npx` or `uvx` needs to reach its registry through a proxy
 * or a private CA. The SDK passes a server only a few variables (HOME, PATH…), by design; these
 * are added to them.
 */
const NETWORK_VARIABLES =
  /^(https?_proxy|no_proxy|all_proxy|node_extra_ca_certs|ssl_cert_file|ssl_cert_dir|npm_config_.+|uv_index_url|pip_index_url)$/i;

function networkEnvironment(): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && NETWORK_VARIABLES.test(name)) inherited[name] = value;
  return inherited;
}

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
  #connections = 0;
  readonly #listChanged = new Set<() => void>();

  constructor(source: McpServerSource, connectTimeoutMs: number) {
    this.#source = source;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.label =
      "client" in source
        ? "the given MCP client"
        : "command" in source
          ? `MCP server \`${[source.command, ...(source.args ?? [])].join(" ")}\``
          : `MCP server at ${String(source.url)}`;
  }

  /** The connected client, connecting (or reconnecting) first when needed. */
  client(): Promise<Client> {
    this.#client ??= this.#connect().catch((error: unknown) => {
      this.#client = undefined;
      throw error;
    });
    return this.#client;
  }

  /**
   * Calls `listener` when the server says its tool list changed, and when it was connected again
   * (a restarted server may list other tools). Returns a function that stops it.
   */
  onToolListChanged(listener: () => void): () => void {
    this.#listChanged.add(listener);
    return () => this.#listChanged.delete(listener);
  }

  #toolListChanged(): void {
    for (const listener of this.#listChanged) listener();
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

  async callTool(
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
    onProgress: (update: { progress: number; total?: number; message?: string }) => void,
  ): Promise<CallToolResult> {
    const client = await this.client();
    return (await client.callTool({ name, arguments: args }, undefined, {
      signal,
      timeout: NO_SDK_TIMEOUT_MS,
      onprogress: (update) =>
        onProgress({
          progress: update.progress,
          ...(update.total === undefined ? {} : { total: update.total }),
          ...(update.message === undefined ? {} : { message: update.message }),
        }),
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
    let stderrTail = "";
    let transport: Transport;
    if ("command" in source) {
      const env = { ...networkEnvironment(), ...source.env };
      const stdio = new StdioClientTransport({
        command: source.command,
        args: [...(source.args ?? [])],
        env,
        ...(source.cwd ? { cwd: source.cwd } : {}),
        stderr: "pipe",
      });
      // Always read, so that a chatty server never blocks on a full pipe; the tail says why a server stopped.
      stdio.stderr?.on(
        "data",
        (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString()).slice(-STDERR_TAIL_CHARS)),
      );
      transport = stdio;
    } else {
      transport = new StreamableHTTPClientTransport(
        new URL(source.url),
        source.headers ? { requestInit: { headers: source.headers } } : undefined,
      );
    }
    const client = new Client({ name: "volley", version: "0.1.0" });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.#toolListChanged());
    client.onclose = () => {
      // Forget a closed connection, so that the next call connects again.
      if (this.#client !== undefined)
        void this.#client.then(
          (current) => current === client && (this.#client = undefined),
          () => undefined,
        );
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    let exitCheck: ReturnType<typeof setInterval> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.label} did not complete the MCP handshake within ${this.#connectTimeoutMs} ms`)),
        this.#connectTimeoutMs,
      );
    });
    // A server that exits at once (a package npm does not have, a crash on start) fails now, not at the time limit.
    const exited = new Promise<never>((_, reject) => {
      if (!(transport instanceof StdioClientTransport)) return;
      exitCheck = setInterval(() => {
        const pid = transport.pid;
        // Asked of the process itself: its pipes may outlive it, held by a child of its own.
        if (pid !== null && !isProcessAlive(pid)) reject(new Error("it exited before the MCP handshake"));
      }, EXIT_CHECK_MS);
    });
    try {
      await Promise.race([client.connect(transport), timedOut, exited]);
      // A server connected again may be another version of itself, with other tools.
      if (this.#connections++ > 0) queueMicrotask(() => this.#toolListChanged());
      return client;
    } catch (error) {
      // Not awaited: a server whose pipes outlive it takes seconds to close, and the reason is known now.
      void client.close().catch(() => undefined);
      const said = stderrTail.trim();
      throw new Error(
        `Could not connect to ${this.label}: ${error instanceof Error ? error.message : String(error)}${said === "" ? "" : `. It printed:\n${said}`}`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
      clearInterval(exitCheck);
    }
  }
}
