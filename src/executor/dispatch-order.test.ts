import { afterEach, describe, expect, it, vi } from "vitest";
import { createExecutor } from "../index.ts";
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
