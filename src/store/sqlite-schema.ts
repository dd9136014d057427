import type { CallErrorType } from "../run/types.ts";
import type { StoredRun, StoredRunStatus } from "./run-store.ts";
import { resumedRunOf, type CallRow } from "./stored-records.ts";

/** Schema versions, in order; `PRAGMA user_version` says how many have been applied. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
     run_id TEXT PRIMARY KEY,
     status TEXT NOT NULL,
     started_at REAL NOT NULL,
     ended_at REAL,
     options TEXT NOT NULL,
     stats TEXT,
     calls INTEGER NOT NULL DEFAULT 0,
     pid INTEGER NOT NULL,
     host TEXT NOT NULL
   );
   CREATE INDEX runs_by_start ON runs (started_at DESC);
   CREATE INDEX runs_by_status ON runs (status);
   CREATE TABLE calls (
     run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
     call_id TEXT NOT NULL,
     position INTEGER NOT NULL,
     tool TEXT NOT NULL,
     args TEXT NOT NULL,
     ok INTEGER NOT NULL,
     output TEXT,
     output_truncated INTEGER NOT NULL,
     error TEXT,
     error_type TEXT,
     attempts INTEGER NOT NULL,
     queued_at REAL NOT NULL,
     started_at REAL NOT NULL,
     ended_at REAL NOT NULL,
     duration_ms REAL NOT NULL,
     cached INTEGER NOT NULL,
     depends_on TEXT NOT NULL,
     PRIMARY KEY (run_id, call_id)
   );
   CREATE INDEX calls_by_tool_end ON calls (tool, ended_at);
   CREATE INDEX calls_by_end ON calls (ended_at);
   CREATE TABLE events (
     run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     event TEXT NOT NULL,
     PRIMARY KEY (run_id, seq)
   );
   CREATE TABLE messages (
     conversation_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     at REAL NOT NULL,
     message TEXT NOT NULL,
     PRIMARY KEY (conversation_id, seq)
   );`,
  // Approvals are read from their events across runs.
  `CREATE INDEX events_by_type ON events (json_extract(event, '$.type'));`,
  // Decisions made outside the process whose call waits; the first one recorded for a call stands.
  `CREATE TABLE approval_decisions (
     run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
     call_id TEXT NOT NULL,
     approved INTEGER NOT NULL,
     reason TEXT,
     at REAL NOT NULL,
     PRIMARY KEY (run_id, call_id)
   );`,
  // A run that takes over an interrupted run's work names it in its options; the interrupted run finds it here.
  `CREATE INDEX runs_by_resumed ON runs (json_extract(options, '$.resumes'));`,
  // One turn at a time per conversation: the holder's process, so that a dead one's claim is taken over.
  `CREATE TABLE conversation_claims (
     conversation_id TEXT PRIMARY KEY,
     holder TEXT NOT NULL,
     pid INTEGER NOT NULL,
     host TEXT NOT NULL,
     claimed_at REAL NOT NULL
   );
   CREATE TABLE steps_in_progress (
     conversation_id TEXT PRIMARY KEY,
     message TEXT NOT NULL
   );`,
];

/** A run row with the runs that resumed it, oldest first, as a JSON array. */
export const RUN_COLUMNS = `runs.*, (
  SELECT json_group_array(run_id) FROM (
    SELECT later.run_id FROM runs AS later WHERE json_extract(later.options, '$.resumes') = runs.run_id ORDER BY later.started_at, later.rowid
  )
) AS resumed_by`;

/** A row as `node:sqlite` returns it. */
export type Row = Record<string, unknown>;

export function toCallRowFromSql(row: Row): CallRow {
  return {
    runId: row.run_id as string,
    callId: row.call_id as string,
    index: row.position as number,
    name: row.tool as string,
    argsJson: row.args as string,
    ok: row.ok === 1,
    outputJson: (row.output as string | null) ?? undefined,
    outputTruncated: row.output_truncated === 1,
    errorJson: (row.error as string | null) ?? undefined,
    errorType: ((row.error_type as string | null) ?? undefined) as CallErrorType | undefined,
    attempts: row.attempts as number,
    queuedAt: row.queued_at as number,
    startedAt: row.started_at as number,
    endedAt: row.ended_at as number,
    durationMs: row.duration_ms as number,
    cached: row.cached === 1,
    dependsOnJson: row.depends_on as string,
  };
}

export function toStoredRun(row: Row): StoredRun {
  const options = JSON.parse(row.options as string) as Record<string, unknown>;
  return {
    runId: row.run_id as string,
    status: row.status as StoredRunStatus,
    startedAt: row.started_at as number,
    endedAt: (row.ended_at as number | null) ?? undefined,
    options,
    stats: row.stats === null ? undefined : (JSON.parse(row.stats as string) as StoredRun["stats"]),
    calls: row.calls as number,
    resumes: resumedRunOf(options),
    resumedBy: JSON.parse(row.resumed_by as string) as string[],
  };
}
