import type { startWorker as StartWorker } from "../bullmq/start-worker.ts";
import { CliError } from "./cli-error.ts";
import { untilStopped } from "./until-stopped.ts";
import { findConfig, loadConfig } from "./load-config.ts";
import { describeRedis, redisConnectionOf } from "./redis-url.ts";

export interface WorkerCommandOptions {
  configPath: string | undefined;
  cwd: string;
  /** From --redis or VOLLEY_REDIS; else the config's `bullmq.redis`; else Redis on this machine. */
  redisUrl: string | undefined;
  concurrency: number | undefined;
  prefix: string | undefined;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WritableStream;
}

/** Errors a connection gives while Redis can't be reached; ioredis keeps trying after each. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * Tells a person, once per new message, what is wrong with Redis: an unreachable Redis plainly,
 * with the promise that the worker keeps trying; anything else as it came.
 */
function redisProblemReporter(
  address: string,
  stderr: NodeJS.WritableStream,
): { report: (error: Error) => void; sayAnswering: () => void } {
  let last: string | undefined;
  let unreachableSaid = false;
  return {
    report(error: Error): void {
      const code = (error as NodeJS.ErrnoException).code;
      const unreachable = code !== undefined && UNREACHABLE.has(code);
      const line = unreachable
        ? `Redis at ${address} is unreachable (${error.message}); retrying until it answers. Ctrl-C stops.`
        : error.message;
      if (line === last) return;
      last = line;
      unreachableSaid ||= unreachable;
      stderr.write(`volley worker: ${line}\n`);
    },
    /** Redis answers: say so if its absence was reported. */
    sayAnswering(): void {
      if (unreachableSaid) stderr.write(`volley worker: Redis at ${address} answers now\n`);
      unreachableSaid = false;
      last = undefined;
    },
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
  if (path === undefined)
    throw new CliError(
      "No volley.config.json (or .ts, .js) here: pass --config <file> naming the tools this worker runs",
    );
  const config = await loadConfig(path, options.cwd);
  if (config.tools.length === 0) {
    await config.close();
    throw new CliError(`${path} names no tools for this worker to run`);
  }
  const connection =
    options.redisUrl !== undefined
      ? redisConnectionOf(options.redisUrl)
      : redisConnectionOf(config.bullmq?.redis ?? "redis://127.0.0.1:6379", `${path}: "bullmq.redis"`);
  const prefix = options.prefix ?? config.bullmq?.prefix;
  const redisProblems = redisProblemReporter(describeRedis(connection), options.stderr);
  const worker = startWorker({
    tools: config.tools,
    connection: { ...connection, maxRetriesPerRequest: null },
    onError: redisProblems.report,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(prefix !== undefined ? { prefix } : {}),
  });
  try {
    await worker.ready;
  } catch (error) {
    await worker.close().catch(() => undefined);
    await config.close();
    throw new CliError(`Cannot reach Redis at ${describeRedis(connection)}: ${(error as Error).message}`);
  }
  redisProblems.sayAnswering();
  options.stdout.write(
    `Volley worker: ${config.tools.length} tools (${config.tools.map((tool) => tool.name).join(", ")}), Redis ${describeRedis(connection)}\n`,
  );
  await untilStopped();
  // Running calls finish first, so that callers get their results; if Redis went away, BullMQ
  // waits for it to come back to deliver them. A second signal stops at once.
  options.stdout.write("Volley worker: stopping once running calls finish (stop again to quit now)\n");
  const quitNow = (): void => {
    options.stdout.write(
      "Volley worker: quitting without waiting; calls still running here run again on another worker once their lock runs out\n",
    );
    process.exit(1);
  };
  process.once("SIGINT", quitNow);
  process.once("SIGTERM", quitNow);
  await worker.close();
  process.off("SIGINT", quitNow);
  process.off("SIGTERM", quitNow);
  await config.close();
  return 0;
}
