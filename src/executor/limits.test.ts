import { afterEach, describe, expect, it, vi } from "vitest";
import { createExecutor, defineTool } from "../index.ts";
import { fakeTool } from "../testing/index.ts";
import { controlledTool, microtasks, recordingExecutor, startOrder, useFakeTime } from "./executor.fixture.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("limits", () => {
  it("holds the global limit and each tool's concurrency together", async () => {
    const clock = useFakeTime();
    const a = controlledTool("a", { concurrency: 2 });
    const b = controlledTool("b");
    const executor = createExecutor({ tools: [a.tool, b.tool], maxConcurrency: 3, clock });
    const run = executor.run(["a1", "a2", "a3", "b1", "b2", "b3"].map((id) => ({ id, name: id[0] as string })));
    // a3 waits for its tool's limit, b2 and b3 for the global one.
    expect([...a.running(), ...b.running()]).toEqual(["a1", "a2", "b1"]);
    a.finish("a1");
    await microtasks();
    // a3 came before b2, so it takes the freed slot.
    expect([...a.running(), ...b.running()]).toEqual(["a2", "a3", "b1"]);
    b.finish("b1");
    await microtasks();
    expect([...a.running(), ...b.running()]).toEqual(["a2", "a3", "b2"]);
    a.finish("a2");
    await microtasks();
    expect([...a.running(), ...b.running()]).toEqual(["a3", "b2", "b3"]);
    a.finish("a3");
    b.finish("b2");
    b.finish("b3");
    const { stats } = await run;
    expect(stats.maxInFlight).toBe(3);
  });

  it("shares a tool's concurrency across runs of one executor", async () => {
    useFakeTime();
    const api = controlledTool("api", { concurrency: 1 });
    const executor = createExecutor({ tools: [api.tool] });
    const first = executor.run([{ id: "one", name: "api" }]);
    const second = executor.run([{ id: "two", name: "api" }]);
    expect(api.running()).toEqual(["one"]);
    api.finish("one");
    await microtasks();
    expect(api.running()).toEqual(["two"]);
    api.finish("two");
    await Promise.all([first, second]);
  });

  it("starts at most `limit` calls per interval under a rate limit", async () => {
    const clock = useFakeTime();
    const limited = fakeTool({ name: "limited", rateLimit: { limit: 2, intervalMs: 1000 } });
    const { executor, events } = recordingExecutor({ tools: [limited], clock });
    const run = executor.run(Array.from({ length: 5 }, (_, i) => ({ id: `r${i}`, name: "limited" })));
    await vi.advanceTimersByTimeAsync(0);
    const startTimes = () => events.filter((event) => event.type === "call-start").map((event) => event.at - 1_000_000);
    expect(startTimes()).toEqual([0, 0]);
    await vi.advanceTimersByTimeAsync(999);
    expect(startTimes()).toEqual([0, 0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(startTimes()).toEqual([0, 0, 1000, 1000]);
    await vi.runAllTimersAsync();
    await run;
    expect(startTimes()).toEqual([0, 0, 1000, 1000, 2000]);
  });

  it("never overlaps a write with any other call on its key; reads share", async () => {
    useFakeTime();
    const files = controlledTool("files", {
      resources: (args: Record<string, unknown>) => [
        { key: `file:${String(args.path)}`, mode: args.write ? "write" : "read" },
      ],
    });
    const executor = createExecutor({ tools: [files.tool] });
    const run = executor.run([
      { id: "r1", name: "files", args: { path: "a" } },
      { id: "r2", name: "files", args: { path: "a" } },
      { id: "w1", name: "files", args: { path: "a", write: true } },
      { id: "r3", name: "files", args: { path: "a" } },
      { id: "other", name: "files", args: { path: "b", write: true } },
    ]);
    // r3 waits behind the writer that came first, so a stream of readers can't starve it.
    expect(files.running()).toEqual(["r1", "r2", "other"]);
    files.finish("r1");
    await microtasks();
    expect(files.running()).toEqual(["r2", "other"]);
    files.finish("r2");
    await microtasks();
    expect(files.running()).toEqual(["other", "w1"]);
    files.finish("w1");
    await microtasks();
    expect(files.running()).toEqual(["other", "r3"]);
    files.finish("other");
    files.finish("r3");
    const { results } = await run;
    expect(results.every((result) => result.ok)).toBe(true);
  });

  it("answers a call whose tool can't name its resources, and never blocks a call on itself", async () => {
    const tool = defineTool({
      name: "files",
      resources: (args: Record<string, unknown>) => {
        if (args.broken) throw new Error("no path given");
        return args.junk ? ([{ key: "x", mode: "sideways" }] as never) : ["x", { key: "x", mode: "read" }];
      },
      execute: () => "written",
    });
    const executor = createExecutor({ tools: [tool] });
    const { results } = await executor.run([
      { name: "files", args: { broken: true } },
      { name: "files", args: { junk: true } },
      { name: "files" },
    ]);
    expect(results[0]?.error?.message).toBe('"files" could not name its resources: no path given');
    expect(results[1]?.error?.message).toMatch(/^"files" named its resources wrongly: expected keys or/);
    expect(results[2]?.output).toBe("written");
  });

  it("gives a run's free slot to its next waiting call when the call it went to is held back by a rate limit", async () => {
    const clock = useFakeTime();
    const limited = fakeTool({ name: "limited", latencyMs: 10, rateLimit: { limit: 1, intervalMs: 1000 } });
    const free = fakeTool({ name: "free", latencyMs: 10 });
    const { executor, events } = recordingExecutor({ tools: [limited, free], clock });
    const run = executor.run(
      [
        { id: "l1", name: "limited" },
        { id: "l2", name: "limited" },
        { id: "f1", name: "free" },
      ],
      { maxConcurrency: 1 },
    );
    await vi.advanceTimersByTimeAsync(100);
    // l2 waits for the rate window; f1 need not wait with it.
    expect(startOrder(events)).toEqual(["l1", "f1"]);
    await vi.runAllTimersAsync();
    const { results, stats } = await run;
    expect(startOrder(events)).toEqual(["l1", "f1", "l2"]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(stats.maxInFlight).toBe(1);
  });

  it("lets waiting calls through when configure() raises a limit", async () => {
    useFakeTime();
    const api = controlledTool("api", { concurrency: 1 });
    const executor = createExecutor({ tools: [api.tool], maxConcurrency: 1 });
    const run = executor.run(["x", "y", "z"].map((id) => ({ id, name: "api" })));
    expect(api.running()).toEqual(["x"]);
    executor.configure({ maxConcurrency: 3, tools: { api: { concurrency: 3 } } });
    expect(api.running()).toEqual(["x", "y", "z"]);
    for (const id of ["x", "y", "z"]) api.finish(id);
    await run;
    expect(() => executor.configure({ tools: { nope: { concurrency: 1 } } })).toThrow(
      /^executor\.configure: no tool is named "nope"$/,
    );
    expect(() => executor.configure({ tools: { apu: { concurrency: 1 } } })).toThrow(
      'executor.configure: no tool is named "apu"; did you mean "api"?',
    );
  });
});
