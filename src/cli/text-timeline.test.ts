import { describe, expect, it } from "vitest";
import type { ToolResult } from "../run/types.ts";
import { callsToShow, LISTED_CALLS, textTimeline } from "./text-timeline.ts";

const result = (index: number, durationMs: number, ok = true): ToolResult =>
  ok
    ? {
        id: `c${index}`,
        name: "t",
        ok,
        output: index,
        attempts: 1,
        startedAt: index,
        endedAt: index + durationMs,
        durationMs,
        queuedMs: 0,
        cached: false,
      }
    : {
        id: `c${index}`,
        name: "t",
        ok,
        error: { type: "tool_error", message: "no", retryable: false },
        attempts: 1,
        startedAt: index,
        endedAt: index + durationMs,
        durationMs,
        queuedMs: 0,
        cached: false,
      };

describe("a big run's summary", () => {
  it("draws 200,000 calls' axis without overflowing the stack, with rows only for the calls shown", () => {
    const results = Array.from({ length: 200_000 }, (_, index) =>
      result(index, index % 1000 === 7 ? 5000 : 1, index % 50_000 !== 3),
    );
    const { shown, note } = callsToShow(results);
    expect(note).toBe("200,000 calls: the 4 failed, and the 10 slowest (--json prints every result)");
    expect(shown.filter((item) => !item.ok).map((item) => item.id)).toEqual(["c3", "c50003", "c100003", "c150003"]);
    expect(shown.filter((item) => item.ok).every((item) => item.durationMs === 5000)).toBe(true);
    const lines = textTimeline(results, 100, shown);
    expect(lines).toHaveLength(shown.length + 2);
    // The axis spans the whole run, not only the calls shown.
    expect(lines[0]?.trim()).toMatch(/^0 +3 min 24 s$/);
  });

  it("lists a small run whole", () => {
    const results = Array.from({ length: LISTED_CALLS }, (_, index) => result(index, 1));
    expect(callsToShow(results)).toEqual({ shown: results, note: undefined });
  });
});
