import type { Server } from "node:http";
import { createAdaptorServer, upgradeWebSocket, type WebSocketServerLike } from "@hono/node-server";
import type { WebSocketServer } from "ws";
import type { Hono } from "hono";
import { invalidOption, VolleyError } from "../errors/volley-error.ts";
import { listenOn, unguardedAddressProblem } from "../shared/listen.ts";
import { createServerApp, type ServerAppOptions } from "./create-server-app.ts";
import type { LiveConversations } from "./live-conversations.ts";
import type { LiveRuns } from "./live-runs.ts";

/** A WebSocket server for the app's upgrades, or undefined when `ws` is not installed. */
async function webSocketServer(): Promise<WebSocketServer | undefined> {
  try {
    const { WebSocketServer } = await import("ws");
    return new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  } catch {
    return undefined;
  }
}

export interface StartServerOptions extends ServerAppOptions {
  /** Address to listen on. Anything but loopback requires `token`. @default "127.0.0.1" */
  host?: string;
  /** Port to listen on; 0 picks a free one. @default 4370 */
  port?: number;
}

export interface RunningServer {
  /** Where the dashboard is, e.g. `http://127.0.0.1:4370/`. */
  readonly url: string;
  readonly app: Hono;
  readonly runs: LiveRuns;
  /** The served agent's turns, when it serves one. */
  readonly conversations: LiveConversations | undefined;
  /** Cancels the runs and turns still going, ends every open event stream and socket, and stops listening. */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 4370;

/** Serves Volley's HTTP API and dashboard. Bound to 127.0.0.1 unless told otherwise, and then only with a token. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const where = "startServer";
  if (options === null || typeof options !== "object") invalidOption(where, "options", "an options object", options);
  const { host = "127.0.0.1", port = DEFAULT_PORT, ...appOptions } = options;
  if (typeof host !== "string" || host === "") invalidOption(where, "host", "an address such as 127.0.0.1", host);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    invalidOption(where, "port", "an integer from 0 to 65535", port);
  const unguarded = unguardedAddressProblem(where, host, appOptions.token);
  if (unguarded !== undefined) throw new VolleyError("invalid_option", unguarded);
  // Conversations take a WebSocket too, where `ws` (an optional peer) is installed.
  const sockets = appOptions.agent === undefined ? undefined : await webSocketServer();
  const { app, runs, conversations } = createServerApp({
    ...appOptions,
    ...(sockets === undefined ? {} : { upgradeWebSocket }),
  });
  const server = createAdaptorServer({
    fetch: app.fetch,
    hostname: host,
    // ws's own types mark `noServer` optional, which the adapter's structural type under exactOptionalPropertyTypes does not.
    ...(sockets === undefined ? {} : { websocket: { server: sockets as unknown as WebSocketServerLike } }),
  }) as Server;
  const origin = await listenOn(server, port, host);
  return {
    url: `${origin}/`,
    app,
    runs,
    conversations,
    close: async () => {
      // Cancelled runs end at once, and their event streams end with them; then nothing is open.
      runs.cancelAll("the server is shutting down");
      conversations?.cancelAll("the server is shutting down");
      for (const socket of sockets?.clients ?? []) socket.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 2000);
      await closed;
      clearTimeout(force);
    },
  };
}
