import { createExecutor, defineTool, type ToolCall } from "volley";
import { MemoryRunStore } from "volley/store";
import { median } from "./random.ts";

export interface DispatchOrderFigures {
  limit: number;
  /** max(critical path, total work ÷ limit), from the planned latencies. */
  boundMs: number;
  /** Median wall ms per dispatch order. */
  learnedMs: number;
  estimatesOffMs: number;
  fifoMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Tools whose durations differ a lot, under a limit that binds. In input order: six medium
 * calls (20 ms), four chains of four quick calls (5 ms each), two chains of two slow calls
 * (100 ms each). The slow chains are the critical path but the shortest in calls, so only
 * learned durations find them first; counting calls (estimates off) starts the quick chains,
 * and FIFO the medium calls.
 */
function scenario(): ToolCall[] {
  const calls: ToolCall[] = [];
  for (let i = 0; i < 6; i++) calls.push({ id: `medium${i}`, name: "medium" });
  for (let chain = 0; chain < 4; chain++) {
    for (let step = 0; step < 4; step++)
      calls.push({
        id: `quick${chain}.${step}`,
        name: "quick",
        ...(step > 0 ? { dependsOn: [`quick${chain}.${step - 1}`] } : {}),
      });
  }
  for (let chain = 0; chain < 2; chain++) {
    for (let step = 0; step < 2; step++)
      calls.push({
        id: `slow${chain}.${step}`,
        name: "slow",
        ...(step > 0 ? { dependsOn: [`slow${chain}.${step - 1}`] } : {}),
      });
  }
  return calls;
}

export async function measureDispatchOrder(rounds: number): Promise<DispatchOrderFigures> {
  const limit = 3;
  const tools = () => [
    defineTool({ name: "medium", execute: () => sleep(20) }),
    defineTool({ name: "quick", execute: () => sleep(5) }),
    defineTool({ name: "slow", execute: () => sleep(100) }),
  ];
  const calls = scenario();
  // An earlier process's history teaches the durations.
  const history = new MemoryRunStore();
  const teacher = createExecutor({ tools: tools(), history });
  await teacher.run(calls);
  await teacher.flush();

  const timed = async (make: () => Promise<ReturnType<typeof createExecutor>>): Promise<number> => {
    const samples: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const executor = await make();
      const started = performance.now();
      await executor.run(calls);
      samples.push(performance.now() - started);
    }
    return median(samples);
  };
  // A new process with that history: estimates are seeded from it before its first run.
  const learnedMs = await timed(async () => {
    const executor = createExecutor({ tools: tools(), maxConcurrency: limit, history });
    await executor.ready;
    return executor;
  });
  const estimatesOffMs = await timed(() => Promise.resolve(createExecutor({ tools: tools(), maxConcurrency: limit })));
  const fifoMs = await timed(() =>
    Promise.resolve(createExecutor({ tools: tools(), maxConcurrency: limit, order: "fifo" })),
  );
  const workMs = 6 * 20 + 16 * 5 + 4 * 100;
  return { limit, boundMs: Math.max(200, workMs / limit), learnedMs, estimatesOffMs, fifoMs };
}
