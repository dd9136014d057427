import pLimit from "p-limit";
import { createExecutor, defineTool, type RunResult, type ToolCall } from "volley";
import { median, seededRandom } from "./random.ts";

/**
 * How Volley's cost grows with the work: graphs of many shapes and sizes, each added as one
 * batch (`run(calls)`) or call by call into a live run (`start()`, then `add` for each), and run
 * on a no-op tool, against the same graph written by hand as promises that await their inputs
 * under p-limit. Any growth faster than the work shows as µs per call rising.
 */

/** How the calls reach Volley. */
export type Arrival = "batch" | "live";

export interface ScalingFigures {
  shape: string;
  arrival: Arrival;
  calls: number;
  edges: number;
  volleyMs: number;
  promisesMs: number;
  microsPerCall: number;
  microsPerEdge: number;
  /** Volley ÷ the hand-written promise graph. */
  ratio: number;
}

/** Each call's dependencies, by position. */
type Shape = (calls: number) => number[][];

const LIMIT = 16;

const SHAPES: Record<string, Shape> = {
  // Each call needs the one before: the longest critical path a graph can have.
  chain: (calls) => Array.from({ length: calls }, (_, index) => (index === 0 ? [] : [index - 1])),
  // One call needs every other.
  "fan-in": (calls) =>
    Array.from({ length: calls }, (_, index) =>
      index === calls - 1 ? Array.from({ length: calls - 1 }, (_, dependency) => dependency) : [],
    ),
  // Ten levels; each call needs two calls of the level before.
  "random DAG, shallow": (calls) => {
    const random = seededRandom(7);
    const width = Math.max(1, Math.floor(calls / 10));
    return Array.from({ length: calls }, (_, index) => {
      const level = Math.floor(index / width);
      if (level === 0) return [];
      return [...new Set([0, 1].map(() => (level - 1) * width + Math.floor(random() * width)))];
    });
  },
  // Each call needs the one before and two earlier ones: as deep as it is long.
  "random DAG, deep": (calls) => {
    const random = seededRandom(11);
    return Array.from({ length: calls }, (_, index) =>
      index === 0 ? [] : [...new Set([index - 1, Math.floor(random() * index), Math.floor(random() * index)])],
    );
  },
  // Independent calls, all queued behind the limit.
  queueing: (calls) => Array.from({ length: calls }, () => []),
};

const step = defineTool({ name: "step", execute: () => 1 });

async function viaVolley(dependencies: readonly number[][], arrival: Arrival): Promise<number> {
  const executor = createExecutor({ tools: [step], maxConcurrency: LIMIT });
  const calls: ToolCall[] = dependencies.map((needs, index) =>
    needs.length === 0
      ? { id: `c${index}`, name: "step" }
      : { id: `c${index}`, name: "step", args: { inputs: needs.map((dependency) => ({ $ref: `c${dependency}` })) } },
  );
  const started = performance.now();
  let result: RunResult;
  if (arrival === "batch") result = await executor.run(calls);
  else {
    const run = executor.start();
    for (const call of calls) run.add(call);
    run.end();
    result = await run.result;
  }
  const ms = performance.now() - started;
  const { stats } = result;
  if (stats.succeeded !== calls.length) throw new Error(`scaling: ${stats.failed} of ${calls.length} calls failed`);
  return ms;
}

/** The same graph by hand: each call awaits its inputs' promises, then runs under p-limit. */
async function viaPromises(dependencies: readonly number[][]): Promise<number> {
  const limit = pLimit(LIMIT);
  const execute = step.execute as (args: unknown) => unknown;
  const started = performance.now();
  const outputs: Promise<unknown>[] = [];
  for (const [index, needs] of dependencies.entries()) {
    outputs[index] = Promise.all(needs.map((dependency) => outputs[dependency] as Promise<unknown>)).then((inputs) =>
      limit(() => execute({ inputs })),
    );
  }
  await Promise.all(outputs);
  return performance.now() - started;
}

export async function measureScaling(sizes: readonly number[], rounds: number): Promise<ScalingFigures[]> {
  const figures: ScalingFigures[] = [];
  for (const arrival of ["batch", "live"] as const) {
    for (const [shape, make] of Object.entries(SHAPES)) {
      for (const size of sizes) {
        // A fan-in's one call holds every edge: 30,000 references is already far past what a model sends.
        const calls = shape === "fan-in" ? Math.min(size, 30_000) : size;
        const dependencies = make(calls);
        const edges = dependencies.reduce((sum, needs) => sum + needs.length, 0);
        await viaVolley(dependencies, arrival);
        await viaPromises(dependencies);
        const volley: number[] = [];
        const promises: number[] = [];
        for (let round = 0; round < rounds; round++) {
          volley.push(await viaVolley(dependencies, arrival));
          promises.push(await viaPromises(dependencies));
        }
        const volleyMs = median(volley);
        const promisesMs = median(promises);
        figures.push({
          shape,
          arrival,
          calls,
          edges,
          volleyMs,
          promisesMs,
          microsPerCall: (volleyMs * 1000) / calls,
          microsPerEdge: edges === 0 ? 0 : (volleyMs * 1000) / edges,
          ratio: volleyMs / promisesMs,
        });
      }
    }
  }
  return figures;
}
