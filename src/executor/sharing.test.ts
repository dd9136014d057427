import { afterEach, describe, expect, it, vi } from "vitest";
import { createExecutor, defineTool } from "../index.ts";
import { controlledTool, microtasks, useFakeTime } from "./executor.fixture.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("sharing and caching", () => {
  it("runs identical in-flight calls of an idempotent tool once and shares the result", async () => {
    useFakeTime();
    const weather = controlledTool("weather", { idempotent: true });
    const executor = createExecutor({ tools: [weather.tool] });
    const first = executor.run([{ id: "a", name: "weather", args: { city: "Oslo", units: "C" } }]);
    const second = executor.run([
      { id: "b", name: "weather", args: '{"units":"C","city":"Oslo"}' },
      { id: "c", name: "weather", args: { city: "Rome", units: "C" } },
    ]);
    expect(weather.started.map((item) => item.context.callId)).toEqual(["a", "c"]);
    weather.finish("a", { temp: 3 });
    weather.finish("c", { temp: 19 });
    const [one, two] = await Promise.all([first, second]);
    expect(one.results[0]).toMatchObject({ output: { temp: 3 }, cached: false });
    expect(two.results[0]).toMatchObject({ id: "b", output: { temp: 3 }, cached: true, attempts: 0 });
    expect(two.stats.cached).toBe(1);
  });

  it("reuses cached results across runs until the ttl passes", async () => {
    const clock = useFakeTime();
    let executions = 0;
    const rates = defineTool({ name: "rates", cache: { ttlMs: 60_000 }, execute: () => ++executions });
    const executor = createExecutor({ tools: [rates], clock });
    expect((await executor.run([{ name: "rates", args: { base: "EUR" } }])).results[0]).toMatchObject({
      output: 1,
      cached: false,
    });
    expect((await executor.run([{ name: "rates", args: { base: "EUR" } }])).results[0]).toMatchObject({
      output: 1,
      cached: true,
    });
    expect((await executor.run([{ name: "rates", args: { base: "USD" } }])).results[0]).toMatchObject({
      output: 2,
      cached: false,
    });
    vi.advanceTimersByTime(60_000);
    expect((await executor.run([{ name: "rates", args: { base: "EUR" } }])).results[0]).toMatchObject({
      output: 3,
      cached: false,
    });
  });

  it("lets a follower run by itself when the call it shared was cancelled with its run", async () => {
    useFakeTime();
    const weather = controlledTool("weather", { idempotent: true });
    const executor = createExecutor({ tools: [weather.tool] });
    const leader = executor.start();
    leader.add({ id: "lead", name: "weather", args: { city: "Oslo" } });
    const follower = executor.run([{ id: "follow", name: "weather", args: { city: "Oslo" } }]);
    leader.cancel("the user left");
    await microtasks();
    // "lead" ignores its signal, so its tool is still running; "follow" no longer waits for it.
    expect(weather.running()).toEqual(["lead", "follow"]);
    weather.finish("follow", "sunny");
    expect((await follower).results[0]).toMatchObject({ output: "sunny", cached: false, attempts: 1 });
    expect((await leader.result).results[0]?.error?.type).toBe("cancelled");
  });
});
