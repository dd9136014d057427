import type { Server } from "node:http";
import { createAdaptorServer } from "@hono/node-server";
import type { Hono } from "hono";
import { invalidOption, VolleyError } from "../errors/volley-error.ts";
import { listenOn, unguardedAddressProblem } from "../shared/listen.ts";
import { createServerApp, type ServerAppOptions } from "./create-server-app.ts";
import type { LiveRuns } from "./live-runs.ts";

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
  /** Cancels the runs still going, ends every open event stream, and stops listening. */
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
  const { app, runs } = createServerApp(appOptions);
  const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  const origin = await listenOn(server, port, host);
  return {
    url: `${origin}/`,
    app,
    runs,
    close: async () => {
      // Cancelled runs end at once, and their event streams end with them; then nothing is open.
      runs.cancelAll("the server is shutting down");
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 2000);
      await closed;
      clearTimeout(force);
    },
  };
}
