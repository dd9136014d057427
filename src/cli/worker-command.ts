import type { startWorker as StartWorker } from "../bullmq/start-worker.ts";
import { CliError } from "./cli-error.ts";
import { untilStopped } from "./until-stopped.ts";
import { findConfig, loadConfig } from "./load-config.ts";

export interface WorkerCommandOptions {
  configPath: string | undefined;
  cwd: string;
  redisUrl: string;
  concurrency: number | undefined;
  prefix: string | undefined;
  stdout: NodeJS.WriteStream;
}

/** Redis connection options from a `redis://user:password@host:port/db` URL. */
function connectionOf(url: string): { host: string; port: number; username?: string; password?: string; db?: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--redis takes a URL such as redis://127.0.0.1:6379, got "${url}"`);
  }
  if (parsed.protocol !== "redis:") throw new CliError(`--redis takes a redis:// URL, got "${url}"`);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  return {
    host: parsed.hostname || "127.0.0.1",
    port: Number(parsed.port || 6379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
  };
}

/** `volley worker`: runs the config's tools for callers that send calls through Redis with `bullmqBackend`, until SIGINT or SIGTERM. */
export async function workerCommand(options: WorkerCommandOptions): Promise<number> {
  let startWorker: typeof StartWorker;
  try {
    ({ startWorker } = await import("../bullmq/start-worker.ts"));
  } catch {
    throw new CliError("volley worker needs BullMQ: npm install bullmq ioredis");
  }
  const path = findConfig(options.configPath, options.cwd);
  if (path === undefined) throw new CliError("No volley.config.json (or .ts, .js) here: pass --config <file> naming the tools this worker runs");
  const config = await loadConfig(path, options.cwd);
  if (config.tools.length === 0) {
    await config.close();
    throw new CliError(`${path} names no tools for this worker to run`);
  }
  const connection = connectionOf(options.redisUrl);
  const worker = startWorker({
    tools: config.tools,
    connection: { ...connection, maxRetriesPerRequest: null },
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
  });
  try {
    await worker.ready;
  } catch (error) {
    await worker.close().catch(() => undefined);
    await config.close();
    throw new CliError(`Cannot reach Redis at ${connection.host}:${connection.port}: ${(error as Error).message}`);
  }
  options.stdout.write(`Volley worker: ${config.tools.length} tools (${config.tools.map((tool) => tool.name).join(", ")}), Redis ${connection.host}:${connection.port}\n`);
  await untilStopped();
  // Running calls finish first; callers waiting on them get their results.
  await worker.close();
  await config.close();
  return 0;
}
