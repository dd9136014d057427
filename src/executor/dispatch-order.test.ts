import { afterEach, describe, expect, it, vi } from "vitest";
import { createExecutor, type ToolCall, type ToolDefinition } from "../index.ts";
import { RAISE_BUDGET } from "../scheduler/call-ranks.ts";
import { ToolGate } from "../scheduler/tool-gate.ts";
import { fakeTool } from "../testing/index.ts";
import { recordingExecutor, startOrder, useFakeTime } from "./executor.fixture.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("dispatch order", () => {
  it("starts the longest estimated remaining path first when the limit binds", async () => {
    useFakeTime();
    const work = fakeTool({ name: "work", latencyMs: 10 });
    const { executor, events } = recordingExecutor({ tools: [work], maxConcurrency: 1 });
    const run = executor.run([
      { id: "lonely", name: "work" },
      { id: "head", name: "work" },
      { id: "middle", name: "work", dependsOn: ["head"] },
      { id: "tail", name: "work", dependsOn: ["middle"] },
    ]);
    await vi.runAllTimersAsync();
    await run;
    // After "middle", "tail" and "lonely" each have one call left: input order decides.
    expect(startOrder(events)).toEqual(["head", "middle", "lonely", "tail"]);
  });

  it("learns estimates from observed durations and ranks by them", async () => {
    useFakeTime();
    const slow = fakeTool({ name: "slow", latencyMs: 500 });
    const quick = fakeTool({ name: "quick", latencyMs: 5 });
    const { executor, events } = recordingExecutor({ tools: [slow, quick], maxConcurrency: 1 });
    let run = executor.run([{ name: "slow" }, { name: "quick" }]);
    await vi.runAllTimersAsync();
    await run;
    expect(executor.estimates()).toEqual({ slow: 500, quick: 5 });
    events.length = 0;
    run = executor.run([
      { id: "q1", name: "quick" },
      { id: "q2", name: "quick" },
      { id: "s", name: "slow" },
    ]);
    await vi.runAllTimersAsync();
    await run;
    expect(startOrder(events)).toEqual(["s", "q1", "q2"]);
  });

  it("puts priority before the critical path, and input order last", async () => {
    useFakeTime();
    const work = fakeTool({ name: "work", latencyMs: 10 });
    const { executor, events } = recordingExecutor({ tools: [work], maxConcurrency: 1 });
    const run = executor.run([
      { id: "a", name: "work" },
      { id: "b", name: "work" },
      { id: "chain", name: "work" },
      { id: "next", name: "work", dependsOn: ["chain"] },
      { id: "urgent", name: "work", priority: 5 },
    ]);
    await vi.runAllTimersAsync();
    await run;
    expect(startOrder(events)).toEqual(["urgent", "chain", "a", "b", "next"]);
  });

  it("ranks a chain added call by call into a live run in work linear in its length", async () => {
    useFakeTime();
    const work = fakeTool({ name: "work", latencyMs: 10 });
    const estimateReads = vi.spyOn(ToolGate.prototype, "expectedDurationMs", "get");
    const executor = createExecutor({ tools: [work] });
    const readsFor = async (length: number): Promise<number> => {
      estimateReads.mockClear();
      const run = executor.start();
      for (let index = 0; index < length; index++)
        run.add({ id: `c${index}`, name: "work", ...(index > 0 && { dependsOn: [`c${index - 1}`] }) });
      run.end();
      await vi.runAllTimersAsync();
      expect((await run.result).stats.succeeded).toBe(length);
      return estimateReads.mock.calls.length;
    };
    // Raised in full as each call was added, the chain was walked again on every add: 2,000 calls read two million estimates.
    const perCall = RAISE_BUDGET + 3;
    expect(await readsFor(2000)).toBeLessThanOrEqual(perCall * 2000);
    expect(await readsFor(8000)).toBeLessThanOrEqual(perCall * 8000);
    estimateReads.mockRestore();
  });

  it("dispatches in arrival order, priority still first, when order is fifo", async () => {
    useFakeTime();
    const work = fakeTool({ name: "work", latencyMs: 10 });
    const { executor, events } = recordingExecutor({ tools: [work], maxConcurrency: 1, order: "fifo" });
    const run = executor.run([
      { id: "lonely", name: "work" },
      { id: "head", name: "work" },
      { id: "tail", name: "work", dependsOn: ["head"] },
      { id: "urgent", name: "work", priority: 1 },
    ]);
    await vi.runAllTimersAsync();
    await run;
    expect(startOrder(events)).toEqual(["urgent", "lonely", "head", "tail"]);
    expect(() => createExecutor({ tools: [work], order: "lifo" as never })).toThrow(
      'expected `order` to be "critical-path" or "fifo", got "lifo" (string)',
    );
  });

  it("runs one call at a time in input order when parallel is false", async () => {
    useFakeTime();
    const work = fakeTool({ name: "work", latencyMs: 10 });
    const { executor, events } = recordingExecutor({ tools: [work], parallel: false });
    const run = executor.run([
      { id: "first", name: "work", dependsOn: ["third"] },
      { id: "second", name: "work", priority: 9 },
      { id: "third", name: "work" },
    ]);
    await vi.runAllTimersAsync();
    const { stats } = await run;
    expect(startOrder(events)).toEqual(["second", "third", "first"]);
    expect(stats.maxInFlight).toBe(1);
  });
});

/**
 * A chain longer than a raise may walk leaves the call at its head ranked short until its rank is
 * worked out: each place where the dispatcher compares ranks must work stale ones out first. In
 * each test, "head" heads a chain of 60 quick calls (600 ms in all), and "rival" one slow call
 * (510 ms): head must go first.
 */
describe("dispatch order, with ranks worked out late", () => {
  const chainBelow = (head: string): ToolCall[] =>
    Array.from({ length: 60 }, (_, index) => ({
      id: `${head}-${index}`,
      name: "work",
      dependsOn: [index === 0 ? head : `${head}-${index - 1}`],
    }));
  const rival: ToolCall[] = [
    { id: "rival", name: "work" },
    { id: "rival-next", name: "slow", dependsOn: ["rival"] },
  ];

  /** An executor that has learned that `work` takes 10 ms and `slow` 500 ms. */
  async function learnedExecutor(work: Partial<ToolDefinition> = {}, maxConcurrency?: number) {
    useFakeTime();
    const tools = [fakeTool({ name: "work", latencyMs: 10, ...work }), fakeTool({ name: "slow", latencyMs: 500 })];
    const { executor, events } = recordingExecutor({ tools, ...(maxConcurrency !== undefined && { maxConcurrency }) });
    const warmUp = executor.run([{ name: "work" }, { name: "slow" }]);
    await vi.runAllTimersAsync();
    await warmUp;
    expect(executor.estimates()).toEqual({ work: 10, slow: 500 });
    events.length = 0;
    return { executor, events };
  }

  it("when choosing among ready calls", async () => {
    const { executor, events } = await learnedExecutor({}, 1);
    const run = executor.run([...rival, { id: "head", name: "work" }, ...chainBelow("head")]);
    await vi.runAllTimersAsync();
    await run;
    expect(startOrder(events).slice(0, 2)).toEqual(["head", "head-0"]);
  });

  it("when a call that held a tool's only slot ends", async () => {
    const { executor, events } = await learnedExecutor({ concurrency: 1 });
    const run = executor.start();
    run.add({ id: "busy", name: "work" });
    run.add({ id: "head", name: "work" });
    for (const call of [...rival, ...chainBelow("head")]) run.add(call);
    run.end();
    await vi.runAllTimersAsync();
    await run.result;
    expect(startOrder(events).slice(0, 3)).toEqual(["busy", "head", "head-0"]);
  });

  it("when a rate limit lifts", async () => {
    const { executor, events } = await learnedExecutor({ rateLimit: { limit: 1, intervalMs: 100 } });
    await vi.advanceTimersByTimeAsync(100);
    const run = executor.start();
    run.add({ id: "first", name: "work" });
    run.add({ id: "head", name: "work" });
    for (const call of rival) run.add(call);
    await vi.advanceTimersByTimeAsync(50);
    // "first" has ended; "head" and "rival" wait for the rate limit, and only now does head's chain come.
    for (const call of chainBelow("head")) run.add(call);
    run.end();
    await vi.runAllTimersAsync();
    await run.result;
    expect(startOrder(events).slice(0, 3)).toEqual(["first", "head", "head-0"]);
  });
});
