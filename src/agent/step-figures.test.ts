import { describe, expect, it } from "vitest";
import type { RunResult, ToolResult } from "../run/types.ts";
import { stepFigures } from "./step-figures.ts";

const call = (id: string, startedAt: number, endedAt: number, extra: Partial<ToolResult> = {}): ToolResult =>
  ({
    id,
    name: "tool",
    ok: true,
    output: null,
    attempts: 1,
    startedAt,
    endedAt,
    durationMs: endedAt - startedAt,
    queuedMs: 0,
    cached: false,
    ...extra,
  }) as ToolResult;

function runOf(results: ToolResult[], criticalPathMs: number): RunResult {
  const sumMs = results.reduce((sum, result) => sum + (result.cached ? 0 : result.durationMs), 0);
  const ran = results.filter((result) => !result.cached && result.attempts > 0).length;
  return {
    runId: "r",
    status: "completed",
    results,
    stats: {
      calls: results.length,
      succeeded: results.length,
      failed: 0,
      cached: 0,
      retries: 0,
      wallMs: 0,
      sumMs,
      speedup: ran < 2 ? null : 1,
      criticalPathMs,
      maxInFlight: 1,
      errors: {},
    },
  };
}

describe("stepFigures", () => {
  it("keeps the model's writing out of the tools' speedup, and says what eager dispatch saved", () => {
    // The model writes from 0 to 300; each call starts as its arguments end and takes 100 ms.
    const run = runOf([call("a", 100, 200), call("b", 200, 300), call("c", 300, 400)], 100);
    expect(stepFigures(run, 0, 300)).toEqual({
      modelMs: 300,
      toolsBusyMs: 300,
      toolsSumMs: 300,
      // The tools never overlapped each other: parallelism bought nothing here...
      toolsSpeedup: 1,
      // ...but two of them ran while the model wrote, and the step ended 0 ms later than at best.
      overlapMs: 200,
      savedMs: 0,
    });
  });

  it("counts time at least one call ran once, and tool time saved against starting after the message", () => {
    const run = runOf(
      [call("a", 10, 110), call("b", 20, 120), call("c", 150, 170), call("cached", 0, 500, { cached: true })],
      100,
    );
    const figures = stepFigures(run, 0, 140);
    expect(figures.toolsBusyMs).toBe(130);
    expect(figures.toolsSpeedup).toBeCloseTo(220 / 130);
    expect(figures.overlapMs).toBe(110);
    // Waiting for the message: done at 140 + 100 at best; done here at 170.
    expect(figures.savedMs).toBe(70);
  });

  it("has no tools speedup for fewer than two calls", () => {
    expect(stepFigures(runOf([call("a", 0, 50)], 50), 0, 10).toolsSpeedup).toBeNull();
  });
});
