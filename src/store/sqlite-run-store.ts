import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { createRequire } from "node:module";
import type * as NodeSqlite from "node:sqlite";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { invalidOption, VolleyError } from "../errors/volley-error.ts";
import type { CallErrorType } from "../run/types.ts";
import type {
  ApprovalQuery,
  ConversationMessage,
  ConversationQuery,
  HistoryWrite,
  RunQuery,
  RunStore,
  StoredCall,
  StoredEvent,
  StoredApproval,
  StoredConversation,
  StoredRun,
  StoredRunStatus,
  StoredToolStats,
  TimeWindow,
} from "./run-store.ts";
import { checkApprovalQuery, checkPruneRule, checkRunQuery, checkWindow } from "./query-checks.ts";
import {
  approvalsFromEvents,
  checkDecision,
  DEFAULT_MAX_OUTPUT_CHARS,
  estimatesFrom,
  fromCallRow,
  summarizeCalls,
  toCallRow,
} from "./stored-records.ts";
import { toStoredJson } from "./stored-json.ts";
import { isProcessAlive } from "../shared/process-alive.ts";
import { unsupportedNode } from "../shared/node-version.ts";
import { SqliteConversations } from "./sqlite-conversations.ts";
import { MIGRATIONS, RUN_COLUMNS, toCallRowFromSql, toStoredRun, type Row } from "./sqlite-schema.ts";

/** Where the embedded history lives unless told otherwise. */
export const DEFAULT_DATABASE_PATH = ".volley/volley.db";

export interface SqliteRunStoreOptions {
  /** The database file; `:memory:` for none. Its folder is created. @default ".volley/volley.db" */
  path?: string;
  /** Outputs longer than this, as stored JSON, are cut and marked truncated. @default 65536 */
  maxOutputChars?: number;
  /** How long a write waits for another process holding the file. @default 5000 */
  busyTimeoutMs?: number;
}

/** How often readers look for runs whose process died (see `#noticeDeadRuns`). */
const LIVENESS_CHECK_MS = 1000;

/** SQLite has no infinities to bind; these stand in for open ends of a time window. */
const finite = (value: number): number => Math.max(-1e300, Math.min(1e300, value));

/** A history file that can't be opened (not a database, no permission, a full disk): what to do about it. */
function unreadable(path: string, error: unknown): VolleyError {
  const reason = error instanceof Error ? error.message : String(error);
  return new VolleyError(
    "store_unreadable",
    `The history at ${path} can't be opened (${reason}). Move it aside to start a new one, or point the history at another file.`,
    { cause: error },
  );
}

/**
 * `node:sqlite`, loaded when the first store opens: on a Node.js without it, `volley/store` still
 * loads (its `MemoryRunStore` works), and opening a SQLite store says plainly why it can't.
 */
function sqlite(): typeof NodeSqlite {
  const problem = unsupportedNode(process.versions.node, "SqliteRunStore", "open the history again");
  if (problem !== undefined) throw new VolleyError("unsupported_node", problem);
  return createRequire(import.meta.url)("node:sqlite") as typeof NodeSqlite;
}

/**
 * The embedded history, on `node:sqlite`: one file, WAL, safe for several processes at once
 * (each write is one `BEGIN IMMEDIATE` transaction, and writers wait up to `busyTimeoutMs`).
 * Opening an older database upgrades it; opening a newer one is refused.
 */
export class SqliteRunStore implements RunStore {
  /** Schema version this Volley writes. */
  static readonly SCHEMA_VERSION = MIGRATIONS.length;
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #maxOutputChars: number;
  readonly #statements = new Map<string, StatementSync>();
  readonly #host = hostname();
  #livenessCheckedAt = 0;
  readonly #conversations: SqliteConversations;

  constructor(options: SqliteRunStoreOptions = {}) {
    const { path = DEFAULT_DATABASE_PATH, maxOutputChars = DEFAULT_MAX_OUTPUT_CHARS, busyTimeoutMs = 5000 } = options;
    if (typeof path !== "string" || path === "")
      invalidOption("SqliteRunStore", "path", "a file path or :memory:", path);
    if (!Number.isInteger(maxOutputChars) || maxOutputChars < 16)
      invalidOption("SqliteRunStore", "maxOutputChars", "an integer from 16 and up", maxOutputChars);
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0)
      invalidOption("SqliteRunStore", "busyTimeoutMs", "an integer from 0 and up", busyTimeoutMs);
    this.path = path;
    this.#maxOutputChars = maxOutputChars;
    this.#conversations = new SqliteConversations({
      statement: (sql) => this.#statement(sql),
      transaction: (work) => this.#transaction(work),
      host: this.#host,
    });
    const { DatabaseSync } = sqlite();
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      this.#db = new DatabaseSync(path);
    } catch (error) {
      throw unreadable(path, error);
    }
    try {
      this.#db.exec(
        `PRAGMA busy_timeout = ${busyTimeoutMs}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;`,
      );
      this.#migrate();
      this.#noticeDeadRuns();
    } catch (error) {
      this.#db.close();
      throw error instanceof VolleyError ? error : unreadable(path, error);
    }
  }

  #migrate(): void {
    this.#transaction(() => {
      const version = (this.#db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
      if (version > MIGRATIONS.length) {
        throw new VolleyError(
          "store_version",
          `The history at ${this.path} has schema version ${version}, newer than this Volley understands (${MIGRATIONS.length}). Upgrade Volley, or point it at another file.`,
        );
      }
      for (let next = version; next < MIGRATIONS.length; next++) this.#db.exec(MIGRATIONS[next] as string);
      if (version < MIGRATIONS.length) this.#db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    });
  }

  /**
   * Marks runs whose process has died interrupted, at most once a second, before a read: a
   * long-lived reader (`volley serve`) must not show a killed process's run as running forever.
   */
  #noticeDeadRuns(): void {
    const now = Date.now();
    if (now - this.#livenessCheckedAt < LIVENESS_CHECK_MS) return;
    this.#livenessCheckedAt = now;
    this.#markInterrupted();
  }

  /** Runs this host's dead processes left `running` can never end: say so. */
  #markInterrupted(): void {
    const stale = this.#db
      .prepare("SELECT DISTINCT pid FROM runs WHERE status = 'running' AND host = ?")
      .all(this.#host) as { pid: number }[];
    const dead = stale.map((row) => row.pid).filter((pid) => pid !== process.pid && !isProcessAlive(pid));
    if (dead.length === 0) return;
    this.#transaction(() => {
      const mark = this.#db.prepare(
        "UPDATE runs SET status = 'interrupted' WHERE status = 'running' AND host = ? AND pid = ?",
      );
      for (const pid of dead) mark.run(this.#host, pid);
    });
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  async write(batch: readonly HistoryWrite[]): Promise<void> {
    if (batch.length === 0) return;
    this.#transaction(() => {
      for (const write of batch) {
        switch (write.kind) {
          case "run-start":
            this.#statement(
              "INSERT OR REPLACE INTO runs (run_id, status, started_at, options, pid, host) VALUES (?, 'running', ?, ?, ?, ?)",
            ).run(write.runId, write.startedAt, toStoredJson(write.options), process.pid, this.#host);
            break;
          case "call": {
            const row = toCallRow(write, this.#maxOutputChars);
            this.#statement(
              `INSERT OR REPLACE INTO calls (run_id, call_id, position, tool, args, ok, output, output_truncated, error, error_type, attempts, queued_at, started_at, ended_at, duration_ms, cached, depends_on)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            ).run(
              row.runId,
              row.callId,
              row.index,
              row.name,
              row.argsJson,
              row.ok ? 1 : 0,
              row.outputJson ?? null,
              row.outputTruncated ? 1 : 0,
              row.errorJson ?? null,
              row.errorType ?? null,
              row.attempts,
              row.queuedAt,
              row.startedAt,
              row.endedAt,
              row.durationMs,
              row.cached ? 1 : 0,
              row.dependsOnJson,
            );
            this.#statement("UPDATE runs SET calls = calls + 1 WHERE run_id = ?").run(row.runId);
            break;
          }
          case "event":
            this.#statement("INSERT OR REPLACE INTO events (run_id, seq, event) VALUES (?, ?, ?)").run(
              write.runId,
              write.seq,
              JSON.stringify(write.event),
            );
            break;
          case "run-end":
            this.#statement("UPDATE runs SET status = ?, ended_at = ?, stats = ? WHERE run_id = ?").run(
              write.result.status,
              write.endedAt,
              JSON.stringify(write.result.stats),
              write.result.runId,
            );
            break;
        }
      }
    });
  }

  async listRuns(query: RunQuery = {}): Promise<StoredRun[]> {
    const { limit, offset, status, tool } = checkRunQuery("listRuns", query);
    this.#noticeDeadRuns();
    const conditions: string[] = [];
    const parameters: (string | number)[] = [];
    if (status !== undefined) {
      conditions.push("status = ?");
      parameters.push(status);
    }
    if (tool !== undefined) {
      conditions.push("EXISTS (SELECT 1 FROM calls WHERE calls.run_id = runs.run_id AND calls.tool = ?)");
      parameters.push(tool);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
    const rows = this.#statement(
      `SELECT ${RUN_COLUMNS} FROM runs ${where} ORDER BY started_at DESC, rowid DESC LIMIT ? OFFSET ?`,
    ).all(...parameters, limit, offset) as Row[];
    return rows.map(toStoredRun);
  }

  async getRun(runId: string): Promise<{ run: StoredRun; calls: StoredCall[] } | undefined> {
    this.#noticeDeadRuns();
    const row = this.#statement(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = ?`).get(runId) as Row | undefined;
    if (row === undefined) return undefined;
    const calls = (this.#statement("SELECT * FROM calls WHERE run_id = ? ORDER BY position").all(runId) as Row[]).map(
      (call) => fromCallRow(toCallRowFromSql(call)),
    );
    return { run: toStoredRun(row), calls };
  }

  async approvals(query: ApprovalQuery = {}): Promise<StoredApproval[]> {
    checkApprovalQuery(query);
    this.#noticeDeadRuns();
    return this.#approvals(query);
  }

  #approvals(query: ApprovalQuery): StoredApproval[] {
    const rows = this.#statement(
      `SELECT events.run_id, events.event, runs.status FROM events JOIN runs ON runs.run_id = events.run_id
       WHERE json_extract(events.event, '$.type') IN ('approval-start', 'approval-end') AND (?1 IS NULL OR events.run_id = ?1)
       ORDER BY events.run_id, events.seq`,
    ).all(query.runId ?? null) as { run_id: string; event: string; status: StoredRunStatus }[];
    const decided = this.#statement(
      "SELECT run_id, call_id, approved, reason, at FROM approval_decisions WHERE ?1 IS NULL OR run_id = ?1",
    ).all(query.runId ?? null) as Row[];
    const statuses = new Map(rows.map((row) => [row.run_id, row.status]));
    return approvalsFromEvents(
      rows.map((row, seq) => ({ runId: row.run_id, seq, event: JSON.parse(row.event) as StoredEvent["event"] })),
      decided.map((row) => ({
        runId: row.run_id as string,
        callId: row.call_id as string,
        approved: row.approved === 1,
        reason: (row.reason as string | null) ?? undefined,
        at: row.at as number,
      })),
      (runId) => statuses.get(runId) ?? "interrupted",
      query,
    );
  }

  async decideApproval(
    runId: string,
    callId: string,
    decision: { approved: boolean; reason?: string },
    at = Date.now(),
  ): Promise<boolean> {
    checkDecision(runId, callId, decision, at);
    // One transaction, so that of two processes deciding the same call, exactly one is told it did.
    return this.#transaction(() => {
      if (!this.#approvals({ runId, pending: true }).some((approval) => approval.callId === callId)) return false;
      this.#statement(
        "INSERT INTO approval_decisions (run_id, call_id, approved, reason, at) VALUES (?, ?, ?, ?, ?)",
      ).run(runId, callId, decision.approved ? 1 : 0, decision.reason ?? null, at);
      return true;
    });
  }

  async events(runId: string): Promise<StoredEvent[]> {
    const rows = this.#statement("SELECT seq, event FROM events WHERE run_id = ? ORDER BY seq").all(runId) as {
      seq: number;
      event: string;
    }[];
    return rows.map((row) => ({ runId, seq: row.seq, event: JSON.parse(row.event) as StoredEvent["event"] }));
  }

  async toolStats(window: TimeWindow = {}): Promise<Record<string, StoredToolStats>> {
    const { since, until } = checkWindow("toolStats", window);
    const rows = this.#statement(
      "SELECT tool, ok, error_type, attempts, cached, duration_ms FROM calls WHERE ended_at >= ? AND ended_at < ?",
    ).all(finite(since), finite(until)) as Row[];
    return summarizeCalls(
      rows.map((row) => ({
        name: row.tool as string,
        ok: row.ok === 1,
        errorType: ((row.error_type as string | null) ?? undefined) as CallErrorType | undefined,
        attempts: row.attempts as number,
        cached: row.cached === 1,
        durationMs: row.duration_ms as number,
      })),
    );
  }

  async speedupHistory(window: TimeWindow = {}): Promise<{ runId: string; endedAt: number; speedup: number }[]> {
    const { since, until } = checkWindow("speedupHistory", window);
    const rows = this.#statement(
      "SELECT run_id, ended_at, stats FROM runs WHERE json_extract(stats, '$.speedup') IS NOT NULL AND ended_at >= ? AND ended_at < ? ORDER BY ended_at",
    ).all(finite(since), finite(until)) as Row[];
    return rows.map((row) => ({
      runId: row.run_id as string,
      endedAt: row.ended_at as number,
      speedup: (JSON.parse(row.stats as string) as { speedup: number }).speedup,
    }));
  }

  async durationEstimates(recentCalls = 50): Promise<Record<string, number>> {
    if (!Number.isInteger(recentCalls) || recentCalls < 1)
      invalidOption("durationEstimates", "recentCalls", "an integer from 1 and up", recentCalls);
    const rows = this.#statement(
      `SELECT tool, duration_ms FROM (
         SELECT tool, duration_ms, ROW_NUMBER() OVER (PARTITION BY tool ORDER BY ended_at DESC) AS recency
         FROM calls WHERE ok = 1 AND attempts > 0 AND cached = 0
       ) WHERE recency <= ?`,
    ).all(recentCalls) as { tool: string; duration_ms: number }[];
    return estimatesFrom(
      rows.map((row) => ({ name: row.tool, durationMs: row.duration_ms })),
      recentCalls,
    );
  }

  async prune(rule: { olderThan?: number; keepRuns?: number }): Promise<number> {
    checkPruneRule("prune", rule);
    const removed = this.#transaction(() => {
      let count = 0;
      if (rule.olderThan !== undefined)
        count += Number(this.#statement("DELETE FROM runs WHERE started_at < ?").run(rule.olderThan).changes);
      if (rule.keepRuns !== undefined) {
        count += Number(
          this.#statement(
            "DELETE FROM runs WHERE run_id NOT IN (SELECT run_id FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?)",
          ).run(rule.keepRuns).changes,
        );
      }
      return count;
    });
    return removed;
  }

  async appendMessages(conversationId: string, messages: readonly unknown[], at = Date.now()): Promise<void> {
    this.#conversations.appendMessages(conversationId, messages, at);
  }

  async messages(conversationId: string, limit?: number): Promise<ConversationMessage[]> {
    return this.#conversations.messages(conversationId, limit);
  }

  async conversations(query: ConversationQuery = {}): Promise<StoredConversation[]> {
    return this.#conversations.list(query);
  }

  async claimConversation(conversationId: string, holder: string): Promise<boolean> {
    return this.#conversations.claim(conversationId, holder);
  }

  async releaseConversation(conversationId: string, holder: string): Promise<void> {
    this.#conversations.release(conversationId, holder);
  }

  async setStepInProgress(conversationId: string, message: unknown): Promise<void> {
    this.#conversations.setStepInProgress(conversationId, message);
  }

  async stepInProgress(conversationId: string): Promise<unknown> {
    return this.#conversations.stepInProgress(conversationId);
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}
