import { afterEach, describe, expect, it, vi } from "vitest";
import { QueuedRange } from "../scheduler/queued-range.ts";
import { createExecutor, defineTool, ToolError, type RunEvent } from "../index.ts";
import { fakeTool } from "../testing/index.ts";
import { MemoryRunStore } from "../store/index.ts";
import { controlledTool, microtasks, recordingExecutor, startOrder, useFakeTime } from "./executor.fixture.ts";
import { BATCH_PATH_ON } from "./batch-path.ts";

afterEach(() => {
  vi.useRealTimers();
});

const echo = defineTool({ name: "echo", execute: (args) => args });

describe("independent calls queued together", () => {
  it("lets a later call depend on one still waiting in line with others; that one then starts first", async () => {
    useFakeTime();
    const step = controlledTool("step");
    const executor = createExecutor({ tools: [step.tool], maxConcurrency: 1 });
    const live = executor.start();
    for (const id of ["a", "b", "c"]) live.add({ id, name: "step" });
    expect(step.running()).toEqual(["a"]);
    live.add({ id: "d", name: "step", args: { from: { $ref: "c" } } });
    step.finish("a");
    await microtasks();
    // c, then d, is a longer path than b alone.
    expect(step.running()).toEqual(["c"]);
    step.finish("c", 3);
    await microtasks();
    for (const id of step.running()) step.finish(id);
    await microtasks();
    for (const id of step.running()) step.finish(id);
    live.end();
    const { results } = await live.result;
    expect(results.map((result) => [result.id, result.ok])).toEqual([
      ["a", true],
      ["b", true],
      ["c", true],
      ["d", true],
    ]);
    expect(step.started.find((entry) => entry.context.callId === "d")?.args).toEqual({ from: 3 });
  });

  it("finds a call by its generated id while it waits in a batch", async () => {
    const { executor, events } = recordingExecutor({ tools: [echo], maxConcurrency: 1 });
    const { results } = await executor.run([
      { name: "echo", args: { n: 0 } },
      { name: "echo", args: { n: 1 } },
      { name: "echo", args: { n: 2 } },
      { name: "echo", args: { from: { $ref: "call_1", path: "/n" } } },
    ]);
    expect(startOrder(events)[0]).toBe("call_1");
    expect(results.map((result) => result.output)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { from: 1 }]);
  });

  it("answers each waiting call once when the run is cancelled, and starts none of them", async () => {
    useFakeTime();
    const step = controlledTool("step");
    const executor = createExecutor({ tools: [step.tool], maxConcurrency: 2 });
    const controller = new AbortController();
    const run = executor.run(
      Array.from({ length: 50 }, () => ({ name: "step" })),
      { signal: controller.signal },
    );
    expect(step.running()).toEqual(["call_0", "call_1"]);
    controller.abort("stop");
    await vi.runAllTimersAsync();
    const { results, status } = await run;
    expect(status).toBe("cancelled");
    expect(step.started).toHaveLength(2);
    expect(results.map((result) => result.id)).toEqual(Array.from({ length: 50 }, (_, index) => `call_${index}`));
    expect(results.slice(2).every((result) => result.error?.message === "Not started: stop.")).toBe(true);
  });

  it("neither starts a call nor loses its id when a listener cancels the run as the call is added", async () => {
    const execute = vi.fn((args: unknown) => args);
    const executor = createExecutor({ tools: [defineTool({ name: "echo", execute })] });
    // One call waits in a range; one, with a time limit of its own, does not.
    for (const call of [{ name: "echo" }, { name: "echo", timeoutMs: 100 }]) {
      const live = executor.start({ onEvent: (event) => event.type === "call-add" && live.cancel("changed my mind") });
      expect(live.add(call)).toBe("call_0");
      const { results, status } = await live.result;
      expect(status).toBe("cancelled");
      expect(results.map((result) => result.error?.type)).toEqual(["cancelled"]);
    }
    expect(execute).not.toHaveBeenCalled();
  });

  it("keeps input order when a call in the middle of a batch is taken out of line for a dependent", async () => {
    useFakeTime();
    const work = fakeTool({ name: "work", latencyMs: 10 });
    for (const options of [{ parallel: false }, { order: "fifo" as const, maxConcurrency: 1 }]) {
      const { executor, events } = recordingExecutor({ tools: [work], ...options });
      const run = executor.run([
        ...["a0", "a1", "a2", "a3", "a4"].map((id) => ({ id, name: "work" })),
        { id: "after", name: "work", dependsOn: ["a2"] },
      ]);
      await vi.runAllTimersAsync();
      await run;
      expect(startOrder(events)).toEqual(["a0", "a1", "a2", "a3", "a4", "after"]);
    }
  });

  it("keeps a batch within a run's limit and a tool's, however the calls wait", async () => {
    useFakeTime();
    const step = controlledTool("step", { concurrency: 2 });
    const other = controlledTool("other");
    const executor = createExecutor({ tools: [step.tool, other.tool] });
    const calls = [
      ...Array.from({ length: 6 }, () => ({ name: "step" })),
      ...Array.from({ length: 6 }, () => ({ name: "other" })),
    ];
    const run = executor.run(calls, { maxConcurrency: 3 });
    let finished = 0;
    while (finished < calls.length) {
      const running = [...step.running(), ...other.running()];
      expect(running.length).toBeLessThanOrEqual(3);
      expect(step.running().length).toBeLessThanOrEqual(2);
      const [first] = step.running().length > 0 ? step.running() : other.running();
      (step.running().includes(first as string) ? step : other).finish(first as string);
      finished++;
      await microtasks();
    }
    const { results } = await run;
    expect(results.every((result) => result.ok)).toBe(true);
  });
});

describe("runs that no listener watches", () => {
  // Without a listener or instrumentation, a call that starts from a batch runs without the
  // state a watched call keeps, until something needs it. Nothing may differ: not the answers,
  // not what the tools see, not the figures, not what the history keeps.
  it("answer every call exactly as a watched run does, whatever its tool does, with history or without", async () => {
    const scenario = async (watched: boolean, kept: boolean, cut: "none" | "cancel" | "timeout") => {
      const clock = useFakeTime();
      const seen: unknown[] = [];
      const tool = defineTool({
        name: "mixed",
        timeoutMs: 50,
        retry: { attempts: 2, initialDelayMs: 5, jitter: false },
        execute: async (args, context) => {
          seen.push([context.callId, context.name, context.attempt]);
          if (args.kind === "sync") return "at once";
          await new Promise((resolve) => setTimeout(resolve, args.ms as number));
          if (args.kind === "flaky" && context.attempt === 1) throw new ToolError("try again", { retryable: true });
          if (args.kind === "broken") throw new Error("broken");
          if (args.kind === "not-json") return () => "a function";
          if (args.kind === "hang") await new Promise((resolve) => setTimeout(resolve, 1000));
          return { from: context.callId };
        },
      });
      const events: RunEvent[] = [];
      const history = kept ? new MemoryRunStore() : undefined;
      const executor = createExecutor({
        tools: [tool],
        maxConcurrency: 3,
        clock,
        ...(history ? { history } : {}),
        ...(watched ? { onEvent: (event: RunEvent) => events.push(event) } : {}),
      });
      const kinds = ["ok", "sync", "flaky", "broken", "not-json", "hang", "ok", "ok"];
      const controller = new AbortController();
      const run = executor.run(
        kinds.map((kind, index) => ({
          ...(index % 3 === 0 ? { id: `given-${index}` } : {}),
          name: "mixed",
          args: { kind, ms: 10 + index },
        })),
        { runId: "r", signal: controller.signal, ...(cut === "timeout" ? { timeoutMs: 30 } : {}) },
      );
      if (cut === "cancel") setTimeout(() => controller.abort("stop"), 25);
      await vi.runAllTimersAsync();
      const result = await run;
      await executor.flush();
      vi.useRealTimers();
      if (watched) expect(events.filter((event) => event.type === "call-end")).toHaveLength(kinds.length);
      const recorded = history && { run: await history.getRun("r"), events: await history.events("r") };
      return { outcome: { result, seen, stats: executor.stats(), estimates: executor.estimates() }, recorded };
    };
    for (const cut of ["none", "cancel", "timeout"] as const) {
      const watched = await scenario(true, true, cut);
      const unwatched = await scenario(false, true, cut);
      expect(unwatched).toEqual(watched);
      expect(watched.recorded?.run?.calls).toHaveLength(8);
      expect((await scenario(false, false, cut)).outcome).toEqual(watched.outcome);
      if (cut === "none") {
        expect(watched.outcome.result.results.map((result) => result.error?.type ?? result.output)).toEqual([
          { from: "given-0" },
          "at once",
          { from: "call_2" },
          "tool_error",
          "tool_error",
          "timeout",
          { from: "given-6" },
          { from: "call_7" },
        ]);
        expect(watched.outcome.result.results[2]?.attempts).toBe(2);
      }
    }
  });
});

const noop = defineTool({ name: "noop", execute: () => "done" });

describe("the batch path switch", () => {
  afterEach(() => vi.restoreAllMocks());

  it("follows VOLLEY_BATCH_PATH, so that the suites run both ways", () => {
    expect(BATCH_PATH_ON).toBe(process.env.VOLLEY_BATCH_PATH !== "off");
  });

  it("queues independent calls in ranges when on, and never when off, with the same results", async () => {
    const joined = vi.spyOn(QueuedRange.prototype, "append");
    const executor = createExecutor({ tools: [noop] });
    const result = await executor.run(Array.from({ length: 100 }, (_, index) => ({ name: "noop", id: `c${index}` })));
    expect(result.results.map((each) => [each.id, each.ok && each.output])).toEqual(
      Array.from({ length: 100 }, (_, index) => [`c${index}`, "done"]),
    );
    expect(joined).toHaveBeenCalledTimes(BATCH_PATH_ON ? 100 : 0);
  });
});
