import { afterEach, describe, expect, it, vi } from "vitest";
import { createExecutor, defineTool, type ToolResult } from "../index.ts";
import { fakeTool } from "../testing/index.ts";
import { recordingExecutor, useFakeTime } from "./executor.fixture.ts";

afterEach(() => {
  vi.useRealTimers();
});

const echo = defineTool({ name: "echo", execute: (args) => args });

describe("instrumentation", () => {
  it("tells an instrumentation of each run, attempt and result, calls that never ran included", async () => {
    const seen: string[] = [];
    const executor = createExecutor({
      tools: [echo],
      instrumentation: {
        runStart: ({ runId }) => {
          seen.push(`run-start ${runId}`);
          return {
            attempt: (call, launch) => {
              seen.push(`attempt ${call.callId} #${call.attempt}`);
              launch();
            },
            callEnd: (call, result) =>
              seen.push(
                `call-end ${call.callId} ${result.ok ? "ok" : result.error?.type} deps=${call.dependsOn.join(",")}`,
              ),
            runEnd: (result) => seen.push(`run-end ${result.status}`),
          };
        },
      },
    });
    await executor.run(
      [
        { id: "a", name: "echo" },
        { id: "b", name: "echo", dependsOn: ["a"] },
        { id: "c", name: "nope" },
      ],
      { runId: "r" },
    );
    expect(seen).toEqual([
      "run-start r",
      "call-end c unknown_tool deps=",
      "attempt a #1",
      "call-end a ok deps=",
      "attempt b #1",
      "call-end b ok deps=a",
      "run-end completed",
    ]);
  });

  it("still runs every call when an instrumentation throws or forgets to launch", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    try {
      const executor = createExecutor({
        tools: [echo],
        instrumentation: {
          runStart: () => ({
            attempt: (call, launch) => {
              if (call.callId === "forgotten") return;
              if (call.callId === "thrown") throw new Error("instrumentation bug");
              launch();
              launch();
            },
            callEnd: () => {
              throw new Error("callEnd bug");
            },
          }),
        },
      });
      const { results } = await executor.run([
        { id: "forgotten", name: "echo" },
        { id: "thrown", name: "echo" },
        { id: "twice", name: "echo" },
      ]);
      expect(results.map((result) => [result.id, result.ok, result.attempts])).toEqual([
        ["forgotten", true, 1],
        ["thrown", true, 1],
        ["twice", true, 1],
      ]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes("instrumentation bug"))).toHaveLength(1);
      expect(warnings.filter((message) => message.includes("callEnd bug"))).toHaveLength(1);
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("observability", () => {
  it("keeps per-tool statistics and the average speedup", async () => {
    const clock = useFakeTime();
    const tool = fakeTool({
      name: "t",
      latencyMs: (args) => Number(args.ms),
      fail: (args) => (args.fail ? new Error("no") : undefined),
    });
    const executor = createExecutor({ tools: [tool], clock });
    const run = executor.run([10, 20, 30, 40].map((ms) => ({ name: "t", args: { ms, fail: ms === 40 } })));
    await vi.runAllTimersAsync();
    await run;
    const stats = executor.stats();
    expect(stats.runs).toBe(1);
    expect(stats.averageSpeedup).toBeCloseTo(100 / 40);
    expect(stats.tools.t).toMatchObject({
      calls: 4,
      failures: 1,
      failuresByType: { tool_error: 1 },
      // Nearest-rank percentiles, as the history's figures are: the 2nd of 4 durations is the median.
      p50Ms: 20,
      p95Ms: 40,
      p99Ms: 40,
      meanMs: 25,
    });
  });

  it("counts in a tool's statistics only the calls that reached it", async () => {
    const executor = createExecutor({ tools: [echo] });
    await executor.run([
      { id: "ok", name: "echo" },
      { id: "bad", name: "echo", priority: "high" as never },
      { id: "ok", name: "echo" },
      { id: "nowhere", name: "ehco" },
    ]);
    expect(executor.stats().tools).toEqual({ echo: expect.objectContaining({ calls: 1, failures: 0 }) });
  });

  it("survives an event listener that throws", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    try {
      const executor = createExecutor({
        tools: [echo],
        onEvent: () => {
          throw new Error("listener bug");
        },
      });
      const { results } = await executor.run([{ name: "echo" }]);
      expect(results[0]?.ok).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes("listener bug"))).toHaveLength(1);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("emits events in a sensible order for each call", async () => {
    const { executor, events } = recordingExecutor({ tools: [echo] });
    await executor.run([{ id: "a", name: "echo" }]);
    expect(events.map((event) => event.type)).toEqual(["run-start", "call-add", "call-start", "call-end", "run-end"]);
    const end = events.find((event) => event.type === "call-end") as { result: ToolResult };
    expect(end.result.id).toBe("a");
  });
});
