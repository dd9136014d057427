import { afterEach, describe, expect, it, vi } from "vitest";
import { createExecutor, defineTool, ToolError, type RunEvent } from "../index.ts";
import { fakeTool } from "../testing/index.ts";
import { recordingExecutor, useFakeTime } from "./executor.fixture.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("retries", () => {
  it("retries retryable failures with exponential back-off and says so", async () => {
    const clock = useFakeTime();
    let attempts = 0;
    const flaky = defineTool({
      name: "flaky",
      retry: { attempts: 4, initialDelayMs: 100, factor: 2, jitter: false },
      execute: () => {
        attempts++;
        if (attempts < 4) throw new ToolError("503 from upstream", { retryable: true });
        return "finally";
      },
    });
    const { executor, events } = recordingExecutor({ tools: [flaky], clock });
    const run = executor.run([{ name: "flaky" }]);
    await vi.runAllTimersAsync();
    const { results, stats } = await run;
    expect(results[0]).toMatchObject({ ok: true, output: "finally", attempts: 4, durationMs: 700 });
    expect(stats.retries).toBe(3);
    const retries = events.filter(
      (event): event is Extract<RunEvent, { type: "call-retry" }> => event.type === "call-retry",
    );
    expect(retries.map((event) => [event.attempt, event.delayMs])).toEqual([
      [2, 100],
      [3, 200],
      [4, 400],
    ]);
  });

  it("does not retry errors that are not retryable, and honours retryAfterMs", async () => {
    const clock = useFakeTime();
    let calls = 0;
    const strict = defineTool({
      name: "strict",
      retry: { attempts: 3 },
      execute: () => Promise.reject(new Error("bad request")),
    });
    const throttled = defineTool({
      name: "throttled",
      retry: { attempts: 2, initialDelayMs: 1, jitter: false },
      execute: () =>
        ++calls === 1 ? Promise.reject(new ToolError("429", { retryable: true, retryAfterMs: 5000 })) : "ok",
    });
    const executor = createExecutor({ tools: [strict, throttled], clock });
    const run = executor.run([{ name: "strict" }, { name: "throttled" }]);
    await vi.runAllTimersAsync();
    const { results } = await run;
    expect(results[0]).toMatchObject({ attempts: 1, error: { type: "tool_error", retryable: false } });
    expect(results[1]).toMatchObject({ ok: true, attempts: 2, durationMs: 5000 });
  });

  it("retries a timeout only when the tool is idempotent", async () => {
    const clock = useFakeTime();
    const slowOnce = (name: string, idempotent: boolean) =>
      fakeTool({
        name,
        idempotent,
        timeoutMs: 100,
        retry: { attempts: 2, initialDelayMs: 10, jitter: false },
        latencyMs: (_args, context) => (context.attempt === 1 ? 1000 : 10),
      });
    const executor = createExecutor({ tools: [slowOnce("safe", true), slowOnce("unsafe", false)], clock });
    const run = executor.run([{ name: "safe" }, { name: "unsafe" }]);
    await vi.runAllTimersAsync();
    const { results } = await run;
    expect(results[0]).toMatchObject({ ok: true, attempts: 2 });
    expect(results[1]).toMatchObject({ ok: false, attempts: 1, error: { type: "timeout" } });
  });
});
