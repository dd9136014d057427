import type { ToolResult } from "../run/types.ts";
import { formatMs } from "./format.ts";

const BAR = { ok: "█", cached: "▒", failed: "▓" } as const;

/**
 * The run as text: a row per call, its bar placed on one time axis from the first start to
 * the last end, so that what ran together lines up. `width` is the whole line's.
 */
export function textTimeline(results: readonly ToolResult[], width: number): string[] {
  if (results.length === 0) return [];
  const start = Math.min(...results.map((result) => result.startedAt));
  const end = Math.max(...results.map((result) => result.endedAt));
  const span = Math.max(end - start, 1);
  const labels = results.map((result) => `${result.id} ${result.name}`);
  const labelWidth = Math.min(Math.max(...labels.map((label) => label.length)), 32);
  const barWidth = Math.max(width - labelWidth - 12, 10);
  const column = (at: number) => Math.round(((at - start) / span) * barWidth);
  const rows = results.map((result, index) => {
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
