import { spawn, type ChildProcess } from "node:child_process";
import { createExecutor, type Backend } from "volley";
import { bullmqBackend } from "volley/bullmq";
import { ensureRedis } from "../test/redis.ts";
import { ioCall, limitedVisit, noop } from "./cluster-tools.ts";
import { median } from "./random.ts";

export interface ClusterFigures {
  /** Calls each worker process runs at once. */
  perWorkerConcurrency: number;
  ioCallMs: number;
  calls: number;
  /** Calls per second with 1, 2 and 4 worker processes. */
  throughput: { workers: number; wallMs: number; callsPerSecond: number }[];
  fourOverOne: number;
  /** A no-op call's round trip through Redis to a worker and back, one call at a time. */
  dispatch: { calls: number; p50Ms: number; p95Ms: number };
  /** A tool limited to 3 at once, run by 4 workers that could take 32 between them. */
  limit: { limit: number; calls: number; workersUsed: number; maxInFlight: number };
  /** No-op calls sent all at once, more than the event stream BullMQ keeps (10,000 entries): every one answered. */
  burst: { calls: number; answered: number; wallMs: number; callsPerSecond: number };
}

const PREFIX = `volley-bench-${process.pid}`;

async function startWorkers(count: number, port: number, concurrency: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const child = spawn(process.execPath, [new URL("./cluster-worker.ts", import.meta.url).pathname], {
        env: { ...process.env, REDIS_PORT: String(port), PREFIX, CONCURRENCY: String(concurrency) },
        stdio: ["ignore", "pipe", "inherit"],
      });
      await new Promise<void>((ready, fail) => {
        child.stdout?.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && ready());
        child.once("exit", (code) => fail(new Error(`a benchmark worker exited (${code}) before it was ready`)));
      });
      return child;
    }),
  );
}

async function stopWorkers(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }),
  );
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function throughput(backend: Backend, calls: number, ioCallMs: number): Promise<number> {
  const executor = createExecutor({ tools: [ioCall], backend, maxConcurrency: Infinity });
  const started = performance.now();
  const { results } = await executor.run(
    Array.from({ length: calls }, () => ({ name: "io_call", args: { ms: ioCallMs } })),
  );
  const wallMs = performance.now() - started;
  if (results.some((result) => !result.ok))
    throw new Error(`a call failed: ${JSON.stringify(results.find((result) => !result.ok)?.error)}`);
  return wallMs;
}

/**
 * Volley on BullMQ over loopback Redis: throughput of I/O-bound calls with 1, 2 and 4 worker
 * processes; the round trip of one call; and a per-tool limit held across every worker.
 */
export async function measureCluster(
  calls: number,
  dispatchCalls: number,
  burstCalls: number,
): Promise<ClusterFigures> {
  const redis = await ensureRedis();
  const perWorkerConcurrency = 4;
  const ioCallMs = 200;
  const backend = bullmqBackend({ connection: { host: redis.host, port: redis.port }, prefix: PREFIX });
  const throughputs: ClusterFigures["throughput"] = [];
  try {
    let workers = await startWorkers(4, redis.port, perWorkerConcurrency);
    await throughput(backend, 16, 10); // queues, connections and workers warm before timing

    // Most workers first, then fewer: the same backend and queues throughout.
    for (const count of [4, 2, 1]) {
      await stopWorkers(workers.slice(count));
      workers = workers.slice(0, count);
      const wallMs = await throughput(backend, calls, ioCallMs);
      throughputs.unshift({ workers: count, wallMs, callsPerSecond: (calls * 1000) / wallMs });
    }

    const roundTrips: number[] = [];
    const executor = createExecutor({ tools: [noop], backend });
    for (let index = 0; index < dispatchCalls; index++) {
      const { results } = await executor.run([{ name: "noop" }]);
      roundTrips.push(results[0]!.durationMs);
    }

    await stopWorkers(workers);
    workers = await startWorkers(4, redis.port, 8);
    const limitCalls = 40;
    const visits = (
      await createExecutor({ tools: [limitedVisit], backend, maxConcurrency: Infinity }).run(
        Array.from({ length: limitCalls }, () => ({ name: "limited_visit", args: { ms: 100 } })),
      )
    ).results.map((result) => result.output as { started: number; ended: number; pid: number });
    const maxInFlight = Math.max(
      ...visits.map(
        (visit) => visits.filter((other) => other.started <= visit.started && visit.started < other.ended).length,
      ),
    );

    // A burst whose events outnumber what the stream keeps: results missed there are read from the jobs.
    const burstStarted = performance.now();
    const burstRun = await createExecutor({ tools: [noop], backend, maxConcurrency: Infinity }).run(
      Array.from({ length: burstCalls }, () => ({ name: "noop" })),
    );
    const burstMs = performance.now() - burstStarted;
    await stopWorkers(workers);

    const one = throughputs.find((item) => item.workers === 1)!;
    const four = throughputs.find((item) => item.workers === 4)!;
    return {
      perWorkerConcurrency,
      ioCallMs,
      calls,
      throughput: throughputs,
      fourOverOne: four.callsPerSecond / one.callsPerSecond,
      dispatch: { calls: dispatchCalls, p50Ms: median(roundTrips), p95Ms: percentile(roundTrips, 95) },
      limit: {
        limit: limitedVisit.concurrency,
        calls: limitCalls,
        workersUsed: new Set(visits.map((visit) => visit.pid)).size,
        maxInFlight,
      },
      burst: {
        calls: burstCalls,
        answered: burstRun.stats.succeeded,
        wallMs: burstMs,
        callsPerSecond: (burstCalls * 1000) / burstMs,
      },
    };
  } finally {
    await backend.close();
    await redis.stop();
  }
}
