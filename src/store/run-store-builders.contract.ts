import type { CallError, RunResult, RunStats, ToolResult } from "../index.ts";
import type { HistoryWrite } from "./index.ts";

/** A result as the executor would report it, with the fields a test cares about. */
export function result(id: string, name: string, fields: Partial<ToolResult> & { at?: number } = {}): ToolResult {
  const startedAt = fields.startedAt ?? fields.at ?? 1_000;
  const durationMs = fields.durationMs ?? 10;
  const base = {
    id,
    name,
    attempts: 1,
    startedAt,
    endedAt: startedAt + durationMs,
    durationMs,
    queuedMs: 0,
    cached: false,
  };
  const rest: Partial<ToolResult> & { at?: number } = { ...fields };
  delete rest.at;
  // The fields given may make either kind of result: the test says which it wants.
  return (
    fields.error ? { ...base, ok: false, ...rest } : { ...base, ok: true, output: `${name} output`, ...rest }
  ) as ToolResult;
}

export function stats(fields: Partial<RunStats> = {}): RunStats {
  return {
    calls: 1,
    succeeded: 1,
    failed: 0,
    cached: 0,
    retries: 0,
    wallMs: 10,
    sumMs: 10,
    speedup: 1,
    criticalPathMs: 10,
    maxInFlight: 1,
    errors: {},
    ...fields,
  };
}

/** The writes of one whole run: start, its calls, and its end. */
export function wholeRun(
  runId: string,
  startedAt: number,
  results: ToolResult[],
  runStats: Partial<RunStats> = {},
  status: RunResult["status"] = "completed",
): HistoryWrite[] {
  const endedAt = Math.max(startedAt, ...results.map((item) => item.endedAt));
  return [
    { kind: "run-start", runId, startedAt, options: { maxConcurrency: 4 } },
    ...results.map((item, index): HistoryWrite => ({
      kind: "call",
      runId,
      index,
      args: { n: index },
      dependsOn: index === 0 ? [] : [results[index - 1]?.id as string],
      addedAt: startedAt,
      result: item,
    })),
    {
      kind: "run-end",
      result: { runId, status, results, stats: stats({ calls: results.length, ...runStats }) },
      endedAt,
    },
  ];
}

export const failure = (type: CallError["type"], message = "it broke"): CallError => ({
  type,
  message,
  retryable: false,
});

/** The promises every RunStore keeps, run against each implementation. */
