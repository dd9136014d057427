import { afterEach, describe, expect, it, vi } from "vitest";
import { createExecutor, defineTool } from "../index.ts";
import { fakeTool } from "../testing/index.ts";
import { useFakeTime } from "./executor.fixture.ts";

afterEach(() => {
  vi.useRealTimers();
});

const echo = defineTool({ name: "echo", execute: (args) => args });

describe("timeouts and cancellation", () => {
  it("tells the model plainly whether a timed-out tool stopped", async () => {
    const clock = useFakeTime();
    const polite = fakeTool({ name: "polite", latencyMs: 10_000, timeoutMs: 100 });
    const stubborn = fakeTool({ name: "stubborn", latencyMs: 10_000, timeoutMs: 100, ignoreAbort: true });
    const executor = createExecutor({ tools: [polite, stubborn], clock });
    const run = executor.run([{ name: "polite" }, { name: "stubborn" }]);
    await vi.advanceTimersByTimeAsync(100);
    // "stubborn" never read its signal, so it could not have stopped: answered at once.
    // "polite" read it, and gets one turn of the event loop to settle before it is answered.
    await vi.advanceTimersByTimeAsync(1);
    const { results } = await run;
    expect(results[0]?.error).toEqual({
      type: "timeout",
      message: '"polite" timed out after 100 ms and stopped.',
      retryable: true,
    });
    expect(results[1]?.error?.message).toBe(
      '"stubborn" timed out after 100 ms. It did not stop when asked, so it may still be running and its side effects may still happen.',
    );
    expect(results[1]?.durationMs).toBe(100);
  });

  it("keeps a timed-out tool's slot until it really settles", async () => {
    useFakeTime();
    const started: string[] = [];
    const db = defineTool({
      name: "db",
      concurrency: 1,
      timeoutMs: 50,
      execute: (_args, context) => {
        started.push(context.callId);
        return new Promise((resolve) => setTimeout(resolve, context.callId === "stuck" ? 500 : 10, "done"));
      },
    });
    const executor = createExecutor({ tools: [db] });
    const run = executor.run([
      { id: "stuck", name: "db" },
      { id: "next", name: "db" },
    ]);
    await vi.advanceTimersByTimeAsync(50);
    expect(started).toEqual(["stuck"]);
    await vi.advanceTimersByTimeAsync(449);
    expect(started).toEqual(["stuck"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual(["stuck", "next"]);
    await vi.runAllTimersAsync();
    const { results } = await run;
    expect(results.map((result) => result.error?.type ?? result.output)).toEqual(["timeout", "done"]);
  });

  it("applies the call's timeout before the tool's and the executor's", async () => {
    const clock = useFakeTime();
    const slow = fakeTool({ name: "slow", latencyMs: 1000, timeoutMs: 300, ignoreAbort: true });
    const plain = fakeTool({ name: "plain", latencyMs: 1000, ignoreAbort: true });
    const executor = createExecutor({ tools: [slow, plain], timeoutMs: 200, clock });
    const run = executor.run([{ name: "slow", timeoutMs: 100 }, { name: "slow" }, { name: "plain" }]);
    await vi.runAllTimersAsync();
    const { results } = await run;
    expect(results.map((result) => result.durationMs)).toEqual([100, 300, 200]);
  });

  it("cancels a run: running calls are aborted, queued ones never start", async () => {
    const clock = useFakeTime();
    const slow = fakeTool({ name: "slow", latencyMs: 1000 });
    const executor = createExecutor({ tools: [slow], maxConcurrency: 1, clock });
    const controller = new AbortController();
    const run = executor.run([{ name: "slow" }, { name: "slow" }], { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(10);
    controller.abort(new Error("user pressed stop"));
    await vi.advanceTimersByTimeAsync(0);
    const { results, status } = await run;
    expect(status).toBe("cancelled");
    expect(results.map((result) => result.error?.message)).toEqual([
      "Cancelled while running: user pressed stop. The tool stopped.",
      "Not started: user pressed stop.",
    ]);
  });

  it("answers every call cancelled when the signal is already aborted", async () => {
    const executor = createExecutor({ tools: [echo] });
    const { results, status } = await executor.run([{ name: "echo" }, { name: "nope" }], {
      signal: AbortSignal.abort("too late"),
    });
    expect(status).toBe("cancelled");
    expect(results.map((result) => result.error?.type)).toEqual(["cancelled", "unknown_tool"]);
  });

  it("times the whole run out: running calls answer timeout, the rest cancelled", async () => {
    const clock = useFakeTime();
    const slow = fakeTool({ name: "slow", latencyMs: 1000 });
    const executor = createExecutor({ tools: [slow], maxConcurrency: 1, clock });
    const run = executor.run([{ name: "slow" }, { name: "slow" }], { timeoutMs: 300 });
    await vi.advanceTimersByTimeAsync(301);
    const { results, status } = await run;
    expect(status).toBe("timed_out");
    expect(results[0]?.error?.message).toBe(
      '"slow" was still running when the run\'s time limit of 300 ms was reached and stopped.',
    );
    expect(results[1]?.error?.message).toBe("Not started: the run's time limit of 300 ms was reached.");
  });
});
