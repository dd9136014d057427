import type { CallErrorType } from "../run/types.ts";
import { durationFigures } from "../run/executor-stats.ts";
import { invalidOption } from "../errors/volley-error.ts";
import type {
  ApprovalQuery,
  HistoryWrite,
  StoredApproval,
  StoredCall,
  StoredEvent,
  StoredRunStatus,
  StoredToolStats,
} from "./run-store.ts";
import { toStoredJson, truncateStoredJson } from "./stored-json.ts";

/** Outputs longer than this (as stored JSON) are cut and marked truncated, unless a store says otherwise. */
export const DEFAULT_MAX_OUTPUT_CHARS = 64 * 1024;

/** A call's record with its values already in stored JSON text, as every store keeps them. */
export interface CallRow extends Omit<StoredCall, "args" | "output" | "error" | "dependsOn"> {
  argsJson: string;
  outputJson: string | undefined;
  errorJson: string | undefined;
  errorType: CallErrorType | undefined;
  dependsOnJson: string;
}

export function toCallRow(write: Extract<HistoryWrite, { kind: "call" }>, maxOutputChars: number): CallRow {
  const { result } = write;
  const output = result.ok ? truncateStoredJson(toStoredJson(result.output), maxOutputChars) : undefined;
  return {
    runId: write.runId,
    callId: result.id,
    index: write.index,
    name: result.name,
    argsJson: truncateStoredJson(toStoredJson(write.args), maxOutputChars).json,
    ok: result.ok,
    outputJson: output?.json,
    outputTruncated: output?.truncated ?? false,
    errorJson: result.error === undefined ? undefined : JSON.stringify(result.error),
    errorType: result.error?.type,
    attempts: result.attempts,
    queuedAt: write.addedAt,
    startedAt: result.startedAt,
    endedAt: result.endedAt,
    durationMs: result.durationMs,
    cached: result.cached,
    dependsOnJson: JSON.stringify(write.dependsOn),
  };
}

export function fromCallRow(row: CallRow): StoredCall {
  return {
    runId: row.runId,
    callId: row.callId,
    index: row.index,
    name: row.name,
    args: JSON.parse(row.argsJson) as unknown,
    ok: row.ok,
    output: row.outputJson === undefined ? undefined : (JSON.parse(row.outputJson) as unknown),
    outputTruncated: row.outputTruncated,
    error: row.errorJson === undefined ? undefined : (JSON.parse(row.errorJson) as StoredCall["error"]),
    attempts: row.attempts,
    queuedAt: row.queuedAt,
    startedAt: row.startedAt,
    endedAt: row.endedAt,
    durationMs: row.durationMs,
    cached: row.cached,
    dependsOn: JSON.parse(row.dependsOnJson) as string[],
  };
}

/** The run a run's stored options say it resumes (`RunOptions.resumes`), if any. */
export function resumedRunOf(options: Record<string, unknown>): string | undefined {
  return typeof options.resumes === "string" ? options.resumes : undefined;
}

type StatsInput = Pick<CallRow, "name" | "ok" | "errorType" | "attempts" | "cached" | "durationMs">;

/** Per-tool figures over calls: failures by type, retries, cache hits, and duration percentiles of executed calls. */
export function summarizeCalls(calls: Iterable<StatsInput>): Record<string, StoredToolStats> {
  const byTool = new Map<string, { stats: StoredToolStats; durations: number[] }>();
  for (const call of calls) {
    let entry = byTool.get(call.name);
    if (entry === undefined) {
      entry = {
        stats: {
          calls: 0,
          failures: 0,
          failuresByType: {},
          retries: 0,
          cached: 0,
          p50Ms: 0,
          p95Ms: 0,
          p99Ms: 0,
          meanMs: 0,
        },
        durations: [],
      };
      byTool.set(call.name, entry);
    }
    const { stats } = entry;
    stats.calls++;
    if (!call.ok && call.errorType !== undefined) {
      stats.failures++;
      stats.failuresByType[call.errorType] = (stats.failuresByType[call.errorType] ?? 0) + 1;
    }
    if (call.attempts > 1) stats.retries += call.attempts - 1;
    if (call.cached) stats.cached++;
    if (call.attempts > 0) entry.durations.push(call.durationMs);
  }
  const summary: Record<string, StoredToolStats> = {};
  for (const [name, { stats, durations }] of byTool) summary[name] = { ...stats, ...durationFigures(durations) };
  return summary;
}

/** Mean duration per tool over its most recent successful executed calls (newest first in `calls`). */
export function estimatesFrom(
  calls: Iterable<Pick<CallRow, "name" | "durationMs">>,
  recentCalls: number,
): Record<string, number> {
  const sums = new Map<string, { total: number; count: number }>();
  for (const call of calls) {
    const entry = sums.get(call.name) ?? { total: 0, count: 0 };
    if (entry.count >= recentCalls) continue;
    entry.total += call.durationMs;
    entry.count++;
    sums.set(call.name, entry);
  }
  return Object.fromEntries([...sums].map(([name, { total, count }]) => [name, total / count]));
}

/** A decision recorded in the history for a call that waits (or waited) in some process. */
export interface RecordedDecision {
  runId: string;
  callId: string;
  approved: boolean;
  reason: string | undefined;
  at: number;
}

/**
 * Approvals from a run's `approval-start` and `approval-end` events (others are skipped), filtered
 * by `query`. A call's first `approval-end` is what happened to it; until there is one, a decision
 * recorded for it (`decideApproval`, from another process) is its decision.
 */
export function approvalsFromEvents(
  events: Iterable<StoredEvent>,
  recorded: Iterable<RecordedDecision>,
  runStatus: (runId: string) => StoredRunStatus,
  query: ApprovalQuery = {},
): StoredApproval[] {
  const byCall = new Map<string, StoredApproval>();
  for (const { runId, event } of events) {
    if (event.type === "approval-start") {
      byCall.set(`${runId}\u0000${event.callId}`, {
        runId,
        callId: event.callId,
        name: event.name,
        args: event.args,
        requestedAt: event.at,
        runStatus: runStatus(runId),
        decision: undefined,
      });
    } else if (event.type === "approval-end") {
      const approval = byCall.get(`${runId}\u0000${event.callId}`);
      if (approval !== undefined && approval.decision === undefined)
        approval.decision = { approved: event.approved, reason: event.reason, at: event.at };
    }
  }
  for (const { runId, callId, approved, reason, at } of recorded) {
    const approval = byCall.get(`${runId}\u0000${callId}`);
    if (approval !== undefined && approval.decision === undefined) approval.decision = { approved, reason, at };
  }
  return [...byCall.values()]
    .filter((approval) => query.pending === undefined || query.pending === (approval.decision === undefined))
    .sort((a, b) => a.requestedAt - b.requestedAt);
}

/** Checks `decideApproval`'s arguments, naming what was expected. */
export function checkDecision(runId: unknown, callId: unknown, decision: unknown, at: unknown): void {
  if (typeof runId !== "string" || typeof callId !== "string")
    invalidOption("decideApproval", "runId and callId", "strings", { runId, callId });
  const given = decision as { approved?: unknown; reason?: unknown } | null;
  if (
    given === null ||
    typeof given !== "object" ||
    typeof given.approved !== "boolean" ||
    (given.reason !== undefined && typeof given.reason !== "string")
  ) {
    invalidOption("decideApproval", "decision", "{ approved: boolean, reason?: string }", decision);
  }
  if (typeof at !== "number" || !Number.isFinite(at)) invalidOption("decideApproval", "at", "epoch milliseconds", at);
}
