import type { ToolResult } from "../run/types.ts";
import { formatMs } from "./format.ts";

const BAR = { ok: "█", cached: "▒", failed: "▓" } as const;

/**
 * The run as text: a row per call, its bar placed on one time axis from the first start to
 * the last end, so that what ran together lines up. `width` is the whole line's. `shown`, when
 * given, are the rows to draw (a big run's failed and slowest calls), still on the whole run's axis.
 */
export function textTimeline(
  results: readonly ToolResult[],
  width: number,
  shown: readonly ToolResult[] = results,
): string[] {
  if (results.length === 0) return [];
  // Loops, not Math.min(...spread): a spread of 200,000 values overflows the stack.
  let start = Infinity;
  let end = -Infinity;
  for (const result of results) {
    if (result.startedAt < start) start = result.startedAt;
    if (result.endedAt > end) end = result.endedAt;
  }
  const span = Math.max(end - start, 1);
  const labels = shown.map((result) => `${result.id} ${result.name}`);
  const labelWidth = Math.min(
    labels.reduce((longest, label) => Math.max(longest, label.length), 0),
    32,
  );
  const barWidth = Math.max(width - labelWidth - 12, 10);
  const column = (at: number) => Math.round(((at - start) / span) * barWidth);
  const rows = shown.map((result, index) => {
    const from = column(result.startedAt);
    const length = Math.max(column(result.endedAt) - from, 1);
    const mark = result.ok ? (result.cached ? BAR.cached : BAR.ok) : BAR.failed;
    const label = (labels[index] ?? "").slice(0, labelWidth).padEnd(labelWidth);
    return `${label} │${" ".repeat(from)}${mark.repeat(length)}${" ".repeat(Math.max(barWidth - from - length, 0))}│ ${formatMs(result.durationMs)}`;
  });
  const axisEnd = formatMs(span);
  const axis = `${" ".repeat(labelWidth)} 0${" ".repeat(Math.max(barWidth - axisEnd.length, 1))}${axisEnd}`;
  return [axis, ...rows, `${" ".repeat(labelWidth)}  ${BAR.ok} ran  ${BAR.cached} cached  ${BAR.failed} failed`];
}

/** Runs up to this many calls are listed whole; bigger ones show their failed and slowest calls. */
export const LISTED_CALLS = 40;
const FAILED_SHOWN = 15;
const SLOWEST_SHOWN = 10;

/**
 * The calls worth a row in a big run's summary, in call order: the first failed ones and the
 * slowest, with words saying what was left out. A run of `LISTED_CALLS` or fewer is shown whole.
 */
export function callsToShow(results: readonly ToolResult[]): {
  shown: readonly ToolResult[];
  note: string | undefined;
} {
  if (results.length <= LISTED_CALLS) return { shown: results, note: undefined };
  const failed = results.filter((result) => !result.ok);
  const slowest = results
    .filter((result) => result.ok)
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, SLOWEST_SHOWN);
  const chosen = new Set([...failed.slice(0, FAILED_SHOWN), ...slowest]);
  const shown = results.filter((result) => chosen.has(result));
  const failedWords =
    failed.length === 0
      ? "none failed"
      : failed.length <= FAILED_SHOWN
        ? `the ${failed.length} failed`
        : `the first ${FAILED_SHOWN} of ${failed.length} failed`;
  return {
    shown,
    note: `${results.length.toLocaleString("en-US")} calls: ${failedWords}, and the ${slowest.length} slowest (--json prints every result)`,
  };
}
