import { afterEach, describe, expect, it, vi } from "vitest";
import { createExecutor, defineTool, type RunEvent } from "../index.ts";
import { fakeTool } from "../testing/index.ts";
import { useFakeTime } from "./executor.fixture.ts";

afterEach(() => {
  vi.useRealTimers();
});

const echo = defineTool({ name: "echo", execute: (args) => args });

describe("results", () => {
  it("answers every call in call order, with timing and stats measured on the clock", async () => {
    const clock = useFakeTime();
    const slow = fakeTool({ name: "slow", latencyMs: 300, output: (args) => `slow ${String(args.n)}` });
    const fast = fakeTool({ name: "fast", latencyMs: 100, output: (args) => `fast ${String(args.n)}` });
    const executor = createExecutor({ tools: [slow, fast], clock });
    const run = executor.run([
      { id: "a", name: "slow", args: { n: 1 } },
      { id: "b", name: "fast", args: { n: 2 } },
      { id: "c", name: "fast", args: { n: 3 } },
    ]);
    await vi.runAllTimersAsync();
    const { results, stats, status } = await run;
    expect(status).toBe("completed");
    expect(results.map((result) => [result.id, result.ok, result.output])).toEqual([
      ["a", true, "slow 1"],
      ["b", true, "fast 2"],
      ["c", true, "fast 3"],
    ]);
    expect(results.map((result) => result.durationMs)).toEqual([300, 100, 100]);
    expect(results.every((result) => result.attempts === 1 && result.queuedMs === 0 && !result.cached)).toBe(true);
    expect(stats).toMatchObject({
      calls: 3,
      succeeded: 3,
      failed: 0,
      wallMs: 300,
      sumMs: 500,
      criticalPathMs: 300,
      maxInFlight: 3,
    });
    expect(stats.speedup).toBeCloseTo(500 / 300);
  });

  it("gives no speedup where it means nothing: one call, or no call that ran", async () => {
    const executor = createExecutor({ tools: [fakeTool({ name: "one" })] });
    expect((await executor.run([{ name: "one" }])).stats.speedup).toBeNull();
    expect((await executor.run([{ name: "one" }, { name: "nothing" }])).stats.speedup).toBeNull();
    expect((await executor.run([{ name: "nothing" }, { name: "nothing" }])).stats.speedup).toBeNull();
    expect((await executor.run([{ name: "one" }, { name: "one" }])).stats.speedup).toEqual(expect.any(Number));
    // The average speaks only of runs that have one.
    expect(executor.stats()).toMatchObject({ runs: 4, averageSpeedup: expect.any(Number) as number });
  });

  it("starts the next call at the time it really starts, after whatever code ran when the last one ended", async () => {
    // A clock only the test moves: code that runs between one call's end and the next start moves it.
    let time = 0;
    const clock = { now: () => time };
    const instant = defineTool({ name: "instant", execute: () => Promise.resolve("done") });
    const checked = defineTool({
      name: "checked",
      input: { "~standard": { version: 1, vendor: "test", validate: (value: unknown) => ((time += 7), { value }) } },
      execute: () => Promise.resolve("checked"),
    });
    const quiet = await createExecutor({ tools: [instant], maxConcurrency: 1, clock }).run([
      { name: "instant" },
      { name: "instant" },
    ]);
    expect(quiet.results[1]?.startedAt).toBe(quiet.results[0]?.endedAt);

    const onEvent = (event: RunEvent): void => {
      if (event.type === "call-end") time += 50;
    };
    const listened = await createExecutor({ tools: [instant], maxConcurrency: 1, clock, onEvent }).run([
      { name: "instant" },
      { name: "instant" },
    ]);
    expect((listened.results[1]?.startedAt ?? 0) - (listened.results[0]?.endedAt ?? 0)).toBe(50);

    const validated = await createExecutor({ tools: [instant, checked], clock }).run([
      { id: "first", name: "instant" },
      { name: "checked", dependsOn: ["first"] },
    ]);
    expect((validated.results[1]?.startedAt ?? 0) - (validated.results[0]?.endedAt ?? 0)).toBe(7);
  });

  it("generates ids for calls without one, never reusing an id a caller gave", async () => {
    const executor = createExecutor({ tools: [echo] });
    const { results } = await executor.run([{ name: "echo" }, { id: "call_2", name: "echo" }, { name: "echo" }]);
    expect(results.map((result) => result.id)).toEqual(["call_0", "call_2", "call_2_1"]);
    expect(results.every((result) => result.ok)).toBe(true);
  });

  it("generates the same ids in every run, however long the batch", async () => {
    const executor = createExecutor({ tools: [echo] });
    // Past the first 16,384 positions, whose ids are made once and shared between runs.
    const calls = Array.from({ length: 16_400 }, () => ({ name: "echo" }));
    for (let run = 0; run < 2; run++) {
      const { results } = await executor.run(calls);
      expect(results.map((result) => result.id)).toEqual(calls.map((_, index) => `call_${index}`));
    }
  });

  it("takes raw JSON text as a model emits it", async () => {
    const executor = createExecutor({ tools: [echo] });
    const { results } = await executor.run([
      { name: "echo", args: '{"city":"Oslo","days":[1,2]}' },
      { name: "echo", args: "" },
    ]);
    expect(results[0]?.output).toEqual({ city: "Oslo", days: [1, 2] });
    expect(results[1]?.output).toEqual({});
  });

  it("runs synchronous tools and tools that throw synchronously", async () => {
    const thrower = defineTool({
      name: "thrower",
      execute: () => {
        throw new TypeError("bad thing");
      },
    });
    const executor = createExecutor({ tools: [echo, thrower] });
    const { results } = await executor.run([{ name: "thrower" }, { name: "echo", args: { x: 1 } }]);
    expect(results[0]?.error).toEqual({ type: "tool_error", message: "TypeError: bad thing", retryable: false });
    expect(results[1]?.output).toEqual({ x: 1 });
  });
});
