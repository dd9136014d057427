import { availableParallelism } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createExecutor, createWorkerPool, defineTool, type Tool, type ToolCall } from "volley";
import { hashInline, hashInWorker } from "./cpu-tools.ts";
import { median } from "./random.ts";

export interface WorkerFigures {
  threads: number;
  cpuCalls: number;
  ioCalls: number;
  /** What one CPU call takes alone, in the caller's thread. */
  cpuCallMs: number;
  ioLatencyMs: number;
  inProcess: Placement;
  workers: Placement;
}

interface Placement {
  /** Medians over the rounds. */
  wallMs: number;
  /** How long after their 100 ms the I/O calls ended: median and worst of the run. */
  ioLateMedianMs: number;
  ioLateMaxMs: number;
  /** Event-loop delay while the run went: p99, and the longest stall. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

const IO_MS = 100;
const io = defineTool({ name: "io", execute: () => new Promise((resolve) => setTimeout(resolve, IO_MS, "done")) });

const hashNow = (rounds: number): void => void (hashInline.execute as (args: unknown) => unknown)({ rounds });

/** Rounds of hashing that take about `targetMs` here, measured once the code is warm. */
function calibrate(targetMs: number): number {
  const probe = 20_000;
  hashNow(probe);
  const started = performance.now();
  hashNow(probe);
  return Math.max(1, Math.round((probe * targetMs) / (performance.now() - started)));
}

async function once(hash: Tool, calls: ToolCall[], workers?: ReturnType<typeof createWorkerPool>): Promise<Placement> {
  const executor = createExecutor({ tools: [hash, io], maxConcurrency: 64, ...(workers ? { workers } : {}) });
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  await new Promise((resolve) => setTimeout(resolve, 20)); // the monitor's timer is running
  const started = performance.now();
  const runStart = performance.timeOrigin + started;
  const { results } = await executor.run(calls);
  const wallMs = performance.now() - started;
  delay.disable();
  // Late against when an I/O call could have ended had nothing stood in its way: 100 ms after the run began.
  const late = results
    .filter((result) => result.name === "io")
    .map((result) => Math.max(0, result.endedAt - runStart - IO_MS));
  if (results.some((result) => !result.ok))
    throw new Error(`a call failed: ${JSON.stringify(results.find((result) => !result.ok)?.error)}`);
  return {
    wallMs,
    ioLateMedianMs: median(late),
    ioLateMaxMs: Math.max(...late),
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    loopDelayMaxMs: delay.max / 1e6,
  };
}

/** 4 CPU-bound calls of about 200 ms beside 20 I/O calls of 100 ms: in the caller's thread, then in the worker pool. */
export async function measureWorkers(rounds: number, cpuCalls = 4, ioCalls = 20): Promise<WorkerFigures> {
  const hashRounds = calibrate(200);
  // The I/O calls come first, so that they are waiting on their timers when the CPU work begins.
  const calls: ToolCall[] = [
    ...Array.from({ length: ioCalls }, (_, index) => ({ id: `io${index}`, name: "io" })),
    ...Array.from({ length: cpuCalls }, (_, index) => ({
      id: `cpu${index}`,
      name: "hash",
      args: { rounds: hashRounds },
    })),
  ];
  const threads = availableParallelism();
  const pool = createWorkerPool({ maxThreads: threads });
  await once(hashInWorker, calls, pool); // threads started and modules loaded before timing
  const samples = { inProcess: [] as Placement[], workers: [] as Placement[] };
  for (let round = 0; round < rounds; round++) {
    samples.inProcess.push(await once(hashInline, calls));
    samples.workers.push(await once(hashInWorker, calls, pool));
  }
  await pool.close();
  const summarize = (list: Placement[]): Placement => ({
    wallMs: median(list.map((item) => item.wallMs)),
    ioLateMedianMs: median(list.map((item) => item.ioLateMedianMs)),
    ioLateMaxMs: median(list.map((item) => item.ioLateMaxMs)),
    loopDelayP99Ms: median(list.map((item) => item.loopDelayP99Ms)),
    loopDelayMaxMs: median(list.map((item) => item.loopDelayMaxMs)),
  });
  const started = performance.now();
  hashNow(hashRounds);
  const cpuCallMs = performance.now() - started;
  return {
    threads,
    cpuCalls,
    ioCalls,
    cpuCallMs,
    ioLatencyMs: IO_MS,
    inProcess: summarize(samples.inProcess),
    workers: summarize(samples.workers),
  };
}
