import type { RunningServer, startServer as StartServer } from "../server/start-server.ts";
import { MemoryRunStore } from "../store/memory-run-store.ts";
import { configuredAgent } from "./agent-config.ts";
import { CliError } from "./cli-error.ts";
import { untilStopped } from "./until-stopped.ts";
import { openWorkspace } from "./workspace.ts";

export interface ServeCommandOptions {
  configPath: string | undefined;
  cwd: string;
  host: string;
  port: number;
  token: string | undefined;
  maxConcurrency: number | undefined;
  corsOrigins: string[] | undefined;
  /** Send the calls to `volley worker` processes through this Redis. */
  redisUrl: string | undefined;
  prefix: string | undefined;
  stdout: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/** `volley serve`: the HTTP API and dashboard over the config's tools, until SIGINT or SIGTERM. */
export async function serveCommand(options: ServeCommandOptions): Promise<number> {
  // Hono is an optional peer: loaded only to serve.
  let startServer: typeof StartServer;
  try {
    ({ startServer } = await import("../server/start-server.ts"));
  } catch {
    throw new CliError("volley serve needs Hono: npm install hono @hono/node-server");
  }
  const workspace = await openWorkspace({
    configPath: options.configPath,
    cwd: options.cwd,
    maxConcurrency: options.maxConcurrency,
    redisUrl: options.redisUrl,
    prefix: options.prefix,
  });
  let running: RunningServer;
  let served: Awaited<ReturnType<typeof configuredAgent>> | undefined;
  // Conversations are kept in the history; without one, in memory while the server runs.
  const store = workspace.store ?? (workspace.config.agent ? new MemoryRunStore() : undefined);
  try {
    if (workspace.config.agent)
      served = await configuredAgent({
        config: workspace.config.agent,
        overrides: {},
        env: options.env,
        executor: workspace.executor,
        store,
      });
    running = await startServer({
      executor: workspace.executor,
      ...(store ? { store } : {}),
      ...(served ? { agent: served.agent } : {}),
      host: options.host,
      port: options.port,
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
    });
  } catch (error) {
    await workspace.close();
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw new CliError(
        `Port ${options.port} on ${options.host} is in use: pass --port <another>, or 0 for any free one`,
      );
    throw new CliError((error as Error).message, { cause: error });
  }
  const address =
    options.token === undefined ? running.url : `${running.url}#token=${encodeURIComponent(options.token)}`;
  options.stdout.write(
    `Volley is serving ${workspace.config.tools.length} tools\n  dashboard  ${address}\n  API        ${running.url}api/\n`,
  );
  if (served)
    options.stdout.write(
      `  agent      ${served.model}${served.baseURL ? ` at ${served.baseURL}` : ""}: chat at ${address.replace(/#.*/, "")}#/chat, conversations at ${running.url}api/conversations\n`,
    );
  if (!workspace.store)
    options.stdout.write(
      '  history    off ("history": false in the config): the dashboard shows this server\'s runs only\n',
    );

  await untilStopped();
  await running.close();
  await workspace.close();
  return 0;
}
