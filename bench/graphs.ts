import pLimit from "p-limit";
import { createExecutor, defineTool, type ToolCall } from "volley";
import { logNormal, median, seededRandom } from "./random.ts";

/** Tools with different typical latencies, so that some paths are much longer than others. */
const TOOLS = [
  { name: "search", medianMs: 40 },
  { name: "fetch_page", medianMs: 25 },
  { name: "summarize", medianMs: 60 },
  { name: "lookup", medianMs: 12 },
  { name: "parse", medianMs: 6 },
] as const;

interface GraphCall {
  id: string;
  tool: string;
  latencyMs: number;
  dependencies: number[];
}

export function generateGraph(seed: number, size: number): GraphCall[] {
  const random = seededRandom(seed);
  const calls: GraphCall[] = [];
  for (let index = 0; index < size; index++) {
    const tool = TOOLS[Math.floor(random() * TOOLS.length)] as (typeof TOOLS)[number];
    const draw = random();
    const wanted = index === 0 ? 0 : draw < 0.3 ? 0 : draw < 0.7 ? 1 : draw < 0.9 ? 2 : 3;
    const dependencies = new Set<number>();
    const windowStart = Math.max(0, index - 25);
    for (let tries = 0; dependencies.size < wanted && tries < 10; tries++)
      dependencies.add(windowStart + Math.floor(random() * (index - windowStart)));
    calls.push({
      id: `t${index}`,
      tool: tool.name,
      latencyMs: logNormal(random, tool.medianMs, 0.6, 5, 100),
      dependencies: [...dependencies],
    });
  }
  return calls;
}

function plannedBound(
  graph: readonly GraphCall[],
  limit: number,
): { criticalPathMs: number; workMs: number; boundMs: number } {
  const finish: number[] = [];
  for (const call of graph)
    finish.push(call.latencyMs + Math.max(0, ...call.dependencies.map((dependency) => finish[dependency] as number)));
  const criticalPathMs = Math.max(...finish);
  const workMs = graph.reduce((sum, call) => sum + call.latencyMs, 0);
  return { criticalPathMs, workMs, boundMs: Math.max(criticalPathMs, workMs / limit) };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** The seed's topological batches: each level runs in parallel, the next waits for all of it. */
async function levelByLevel(graph: readonly GraphCall[], limit: number): Promise<void> {
  const levels: number[] = [];
  for (const call of graph)
    levels.push(1 + Math.max(-1, ...call.dependencies.map((dependency) => levels[dependency] as number)));
  const limited = pLimit(limit === Infinity ? graph.length : limit);
  for (let level = 0; level <= Math.max(...levels); level++) {
    await Promise.all(
      graph.filter((_, index) => levels[index] === level).map((call) => limited(() => sleep(call.latencyMs))),
    );
  }
}

/** LLMCompiler's dispatcher: every 10 ms, start whatever has become ready, within the limit. */
function polling(graph: readonly GraphCall[], limit: number): Promise<void> {
  return new Promise((resolve) => {
    const state: ("waiting" | "running" | "done")[] = graph.map(() => "waiting");
    let running = 0;
    let done = 0;
    const tick = (): void => {
      graph.forEach((call, index) => {
        if (state[index] !== "waiting" || running >= limit) return;
        if (!call.dependencies.every((dependency) => state[dependency] === "done")) return;
        state[index] = "running";
        running++;
        void sleep(call.latencyMs).then(() => {
          state[index] = "done";
          running--;
          if (++done === graph.length) {
            clearInterval(timer);
            resolve();
          }
        });
      });
    };
    const timer = setInterval(tick, 10);
    tick();
  });
}

export interface GraphCase {
  seed: number;
  calls: number;
  limit: number | "none";
  plannedCriticalPathMs: number;
  plannedBoundMs: number;
  /** Volley's own measured bound: max(measured critical path, measured work ÷ limit). */
  measuredBoundMs: number;
  volleyMs: number;
  levelsMs: number;
  pollingMs: number;
  /** Wall time minus the measured critical path: what dispatch cost along the longest chain. */
  volleyOverCriticalPathMs: number;
}

export interface GraphFigures {
  cases: GraphCase[];
  /** Medians over the graphs, per setting. */
  unlimited: { volleyOverCriticalPathMs: number; levelsOverVolley: number; pollingOverVolley: number };
  limited: { limit: number; volleyOverBound: number; levelsOverVolley: number; pollingOverVolley: number };
}

const toCalls = (graph: readonly GraphCall[]): ToolCall[] =>
  graph.map((call) => ({
    id: call.id,
    name: call.tool,
    args: { ms: call.latencyMs },
    dependsOn: call.dependencies.map((dependency) => `t${dependency}`),
  }));

/**
 * Runs every graph, with and without the limit, on tools that answer at once, until the code
 * that adds, ranks and answers calls with dependencies is compiled, as it is in a process that
 * has been running a while. Cold, adding a 500-call graph took 13 to 16 ms, against about 0.4 ms
 * warm: that, not dispatch, was most of what the first timed runs measured over the critical path.
 * A separate executor, so that no duration learned here reaches the measured ones.
 */
async function warmUp(graphs: readonly (readonly GraphCall[])[], limit: number, rounds: number): Promise<void> {
  const tools = TOOLS.map(({ name }) => defineTool({ name, execute: () => Promise.resolve(undefined) }));
  for (const setting of [Infinity, limit]) {
    const executor = createExecutor({ tools, maxConcurrency: setting });
    for (let round = 0; round < rounds; round++) for (const graph of graphs) await executor.run(toCalls(graph));
  }
}

export async function measureGraphs(
  sizes: readonly number[],
  limit: number,
  warmupRounds: number,
): Promise<GraphFigures> {
  const tools = TOOLS.map(({ name }) =>
    defineTool({ name, execute: (args: Record<string, unknown>) => sleep(args.ms as number) }),
  );
  const graphs = sizes.map((size, position) => generateGraph(1000 + position, size));
  await warmUp(graphs, limit, warmupRounds);
  const cases: GraphCase[] = [];
  for (const [position, size] of sizes.entries()) {
    const seed = 1000 + position;
    const graph = graphs[position] as GraphCall[];
    const calls = toCalls(graph);
    for (const setting of [Infinity, limit]) {
      const executor = createExecutor({ tools, maxConcurrency: setting });
      // One untimed pass teaches the executor each tool's duration, as a long-lived process would know it.
      await executor.run(calls);
      let stats: Awaited<ReturnType<typeof executor.run>>["stats"] | undefined;
      const volleyMs = await timed(async () => {
        ({ stats } = await executor.run(calls));
      });
      if (!stats || stats.failed > 0) throw new Error("graph run failed");
      const planned = plannedBound(graph, setting);
      cases.push({
        seed,
        calls: size,
        limit: setting === Infinity ? "none" : setting,
        plannedCriticalPathMs: planned.criticalPathMs,
        plannedBoundMs: planned.boundMs,
        measuredBoundMs: Math.max(stats.criticalPathMs, stats.sumMs / setting),
        volleyMs,
        levelsMs: await timed(() => levelByLevel(graph, setting)),
        pollingMs: await timed(() => polling(graph, setting)),
        volleyOverCriticalPathMs: volleyMs - stats.criticalPathMs,
      });
    }
  }
  const unlimited = cases.filter((item) => item.limit === "none");
  const limited = cases.filter((item) => item.limit !== "none");
  return {
    cases,
    unlimited: {
      volleyOverCriticalPathMs: median(unlimited.map((item) => item.volleyOverCriticalPathMs)),
      levelsOverVolley: median(unlimited.map((item) => item.levelsMs / item.volleyMs)),
      pollingOverVolley: median(unlimited.map((item) => item.pollingMs / item.volleyMs)),
    },
    limited: {
      limit,
      volleyOverBound: median(limited.map((item) => item.volleyMs / item.measuredBoundMs)),
      levelsOverVolley: median(limited.map((item) => item.levelsMs / item.volleyMs)),
      pollingOverVolley: median(limited.map((item) => item.pollingMs / item.volleyMs)),
    },
  };
}
