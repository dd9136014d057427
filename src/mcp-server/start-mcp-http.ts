import { randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { invalidOption, VolleyError } from "../errors/volley-error.ts";
import { listenOn, unguardedAddressProblem } from "../shared/listen.ts";
import { isLoopbackHostname } from "../shared/loopback.ts";
import type { McpGateway } from "./mcp-gateway.ts";

export interface StartMcpHttpOptions {
  gateway: McpGateway;
  /** Address to listen on. Anything but loopback requires `token`. @default "127.0.0.1" */
  host?: string;
  /** Port to listen on; 0 picks a free one. @default 4371 */
  port?: number;
  /** Clients must send `Authorization: Bearer <token>`; without one, only loopback names are answered. */
  token?: string;
  /** Largest request body. @default 4 MiB */
  maxBodyBytes?: number;
}

export interface RunningMcpHttp {
  /** The MCP endpoint, e.g. `http://127.0.0.1:4371/mcp`. */
  readonly url: string;
  /** Ends every session and stops listening. */
  close(): Promise<void>;
}

export const DEFAULT_MCP_PORT = 4371;
const MCP_PATH = "/mcp";

function refuse(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { "content-type": "application/json" });
  // A JSON-RPC error without an id: the request was refused before it was read as one.
  response.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(request: IncomingMessage, limit: number): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new RangeError(`The request body is over this server's limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
}

/**
 * Serves an MCP gateway over Streamable HTTP at `/mcp`, one session per client. As `volley serve`:
 * bound to 127.0.0.1 unless told otherwise, and then only with a token; without a token only
 * requests addressed to a loopback name are answered; a browser's request from another site
 * is refused.
 */
export async function startMcpHttp(options: StartMcpHttpOptions): Promise<RunningMcpHttp> {
  const where = "startMcpHttp";
  if (options === null || typeof options !== "object") invalidOption(where, "options", "{ gateway }", options);
  const { gateway, host = "127.0.0.1", port = DEFAULT_MCP_PORT, token, maxBodyBytes = 4 * 1024 * 1024 } = options;
  if (typeof gateway?.connect !== "function")
    invalidOption(where, "gateway", "a gateway made by createMcpGateway()", gateway);
  if (typeof host !== "string" || host === "") invalidOption(where, "host", "an address such as 127.0.0.1", host);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    invalidOption(where, "port", "an integer from 0 to 65535", port);
  if (token !== undefined && (typeof token !== "string" || token.length < 16))
    invalidOption(where, "token", "a string of 16 characters or more", token);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1)
    invalidOption(where, "maxBodyBytes", "an integer from 1 and up", maxBodyBytes);
  const unguarded = unguardedAddressProblem(where, host, token);
  if (unguarded !== undefined) throw new VolleyError("invalid_option", unguarded);

  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", `http://${request.headers.host ?? "localhost"}`);
    if (url.pathname !== MCP_PATH) return refuse(response, 404, `The MCP endpoint is ${MCP_PATH}`);
    if (token === undefined && !isLoopbackHostname(url.hostname))
      return refuse(response, 403, `Host "${url.hostname}" is not a loopback name; set a token to serve other names`);
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== url.origin)
      return refuse(response, 403, `Refused a request from another site (${origin})`);
    if (token !== undefined && !sameToken(request.headers.authorization ?? "", `Bearer ${token}`))
      return refuse(response, 401, "Send the server's token as Authorization: Bearer <token>");

    let body: unknown;
    if (request.method === "POST") {
      try {
        body = await readBody(request, maxBodyBytes);
      } catch (error) {
        return refuse(
          response,
          error instanceof RangeError ? 413 : 400,
          error instanceof Error ? error.message : String(error),
        );
      }
    }
    const sessionId = request.headers["mcp-session-id"];
    const known = typeof sessionId === "string" ? sessions.get(sessionId) : undefined;
    if (known !== undefined) return known.handleRequest(request, response, body);
    if (request.method !== "POST" || !isInitializeRequest(body))
      return refuse(
        response,
        typeof sessionId === "string" ? 404 : 400,
        "No such session: start one with an initialize request",
      );
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await gateway.connect(transport);
    await transport.handleRequest(request, response, body);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) refuse(response, 500, error instanceof Error ? error.message : String(error));
      else response.end();
    });
  });
  const origin = await listenOn(server, port, host);
  return {
    url: `${origin}${MCP_PATH}`,
    close: async () => {
      await Promise.all([...sessions.values()].map((transport) => transport.close()));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
