import { invalidOption } from "../errors/volley-error.ts";
import type {
  ApprovalQuery,
  ConversationMessage,
  ConversationQuery,
  HistoryWrite,
  RunQuery,
  RunStore,
  StoredEvent,
  StoredApproval,
  StoredConversation,
  StoredRun,
  StoredToolStats,
  TimeWindow,
} from "./run-store.ts";
import {
  checkApprovalQuery,
  checkClaimHolder,
  checkConversationId,
  checkConversationQuery,
  checkPruneRule,
  checkRunQuery,
  checkWindow,
  conversationTitle,
} from "./query-checks.ts";
import {
  approvalsFromEvents,
  checkDecision,
  DEFAULT_MAX_OUTPUT_CHARS,
  estimatesFrom,
  fromCallRow,
  resumedRunOf,
  summarizeCalls,
  toCallRow,
  type CallRow,
  type RecordedDecision,
} from "./stored-records.ts";
import { toStoredJson } from "./stored-json.ts";

export interface MemoryRunStoreOptions {
  /** Outputs longer than this, as stored JSON, are cut and marked truncated. @default 65536 */
  maxOutputChars?: number;
}

/** A `RunStore` in memory: for tests, and for processes that want figures but no file. */
export class MemoryRunStore implements RunStore {
  readonly #runs = new Map<string, StoredRun>();
  readonly #calls = new Map<string, CallRow[]>();
  readonly #events = new Map<string, StoredEvent[]>();
  readonly #messages = new Map<string, ConversationMessage[]>();
  /** Who holds each conversation for a turn: only this process shares a memory store. */
  readonly #claims = new Map<string, string>();
  readonly #stepsInProgress = new Map<string, unknown>();
  /** Decisions recorded by `decideApproval`, by run, then call. */
  readonly #decisions = new Map<string, Map<string, RecordedDecision>>();
  readonly #maxOutputChars: number;

  constructor(options: MemoryRunStoreOptions = {}) {
    const { maxOutputChars = DEFAULT_MAX_OUTPUT_CHARS } = options;
    if (!Number.isInteger(maxOutputChars) || maxOutputChars < 16)
      invalidOption("MemoryRunStore", "maxOutputChars", "an integer from 16 and up", maxOutputChars);
    this.#maxOutputChars = maxOutputChars;
  }

  async write(batch: readonly HistoryWrite[]): Promise<void> {
    for (const write of batch) {
      switch (write.kind) {
        case "run-start": {
          const options = JSON.parse(toStoredJson(write.options)) as Record<string, unknown>;
          this.#runs.set(write.runId, {
            runId: write.runId,
            status: "running",
            startedAt: write.startedAt,
            endedAt: undefined,
            options,
            stats: undefined,
            calls: 0,
            resumes: resumedRunOf(options),
            resumedBy: [],
          });
          break;
        }
        case "call": {
          const rows = this.#calls.get(write.runId) ?? [];
          rows.push(toCallRow(write, this.#maxOutputChars));
          this.#calls.set(write.runId, rows);
          const run = this.#runs.get(write.runId);
          if (run) run.calls++;
          break;
        }
        case "event": {
          const events = this.#events.get(write.runId) ?? [];
          events.push({
            runId: write.runId,
            seq: write.seq,
            event: JSON.parse(JSON.stringify(write.event)) as StoredEvent["event"],
          });
          this.#events.set(write.runId, events);
          break;
        }
        case "run-end": {
          const run = this.#runs.get(write.result.runId);
          if (run)
            Object.assign(run, {
              status: write.result.status,
              endedAt: write.endedAt,
              stats: { ...write.result.stats },
            });
          break;
        }
      }
    }
  }

  async listRuns(query: RunQuery = {}): Promise<StoredRun[]> {
    const { limit, offset, status, tool } = checkRunQuery("listRuns", query);
    const matching = [...this.#runs.values()]
      .filter(
        (run) =>
          (status === undefined || run.status === status) &&
          (tool === undefined || (this.#calls.get(run.runId) ?? []).some((call) => call.name === tool)),
      )
      .sort((a, b) => b.startedAt - a.startedAt);
    return matching.slice(offset, offset + limit).map((run) => this.#withLinks(run));
  }

  /** A copy of the run, with the runs that resumed it, oldest first (a scan: this store is for tests and small histories). */
  #withLinks(run: StoredRun): StoredRun {
    const resumedBy = [...this.#runs.values()]
      .filter((later) => later.resumes === run.runId)
      .sort((a, b) => a.startedAt - b.startedAt)
      .map((later) => later.runId);
    return { ...run, resumedBy };
  }

  async getRun(runId: string): Promise<{ run: StoredRun; calls: ReturnType<typeof fromCallRow>[] } | undefined> {
    const run = this.#runs.get(runId);
    if (run === undefined) return undefined;
    const calls = [...(this.#calls.get(runId) ?? [])].sort((a, b) => a.index - b.index).map(fromCallRow);
    return { run: this.#withLinks(run), calls };
  }

  async approvals(query: ApprovalQuery = {}): Promise<StoredApproval[]> {
    checkApprovalQuery(query);
    return this.#approvals(query);
  }

  #approvals(query: ApprovalQuery): StoredApproval[] {
    const runIds = query.runId === undefined ? [...this.#events.keys()] : [query.runId];
    return approvalsFromEvents(
      runIds.flatMap((runId) => this.#events.get(runId) ?? []).sort((a, b) => a.seq - b.seq),
      runIds.flatMap((runId) => [...(this.#decisions.get(runId)?.values() ?? [])]),
      (runId) => this.#runs.get(runId)?.status ?? "interrupted",
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
    if (!this.#approvals({ runId, pending: true }).some((approval) => approval.callId === callId)) return false;
    const decisions = this.#decisions.get(runId) ?? new Map<string, RecordedDecision>();
    decisions.set(callId, { runId, callId, approved: decision.approved, reason: decision.reason, at });
    this.#decisions.set(runId, decisions);
    return true;
  }

  async events(runId: string): Promise<StoredEvent[]> {
    return [...(this.#events.get(runId) ?? [])].sort((a, b) => a.seq - b.seq);
  }

  async toolStats(window: TimeWindow = {}): Promise<Record<string, StoredToolStats>> {
    const { since, until } = checkWindow("toolStats", window);
    return summarizeCalls(this.#allCalls().filter((call) => call.endedAt >= since && call.endedAt < until));
  }

  async speedupHistory(window: TimeWindow = {}): Promise<{ runId: string; endedAt: number; speedup: number }[]> {
    const { since, until } = checkWindow("speedupHistory", window);
    const ended = [...this.#runs.values()].flatMap((run) =>
      run.stats?.speedup == null || run.endedAt === undefined || run.endedAt < since || run.endedAt >= until
        ? []
        : [{ runId: run.runId, endedAt: run.endedAt, speedup: run.stats.speedup }],
    );
    return ended.sort((a, b) => a.endedAt - b.endedAt);
  }

  async durationEstimates(recentCalls = 50): Promise<Record<string, number>> {
    if (!Number.isInteger(recentCalls) || recentCalls < 1)
      invalidOption("durationEstimates", "recentCalls", "an integer from 1 and up", recentCalls);
    const executed = this.#allCalls()
      .filter((call) => call.ok && call.attempts > 0 && !call.cached)
      .sort((a, b) => b.endedAt - a.endedAt);
    return estimatesFrom(executed, recentCalls);
  }

  async prune(rule: { olderThan?: number; keepRuns?: number }): Promise<number> {
    checkPruneRule("prune", rule);
    const newestFirst = [...this.#runs.values()].sort((a, b) => b.startedAt - a.startedAt);
    const doomed = newestFirst.filter(
      (run, position) =>
        (rule.olderThan !== undefined && run.startedAt < rule.olderThan) ||
        (rule.keepRuns !== undefined && position >= rule.keepRuns),
    );
    for (const run of doomed) {
      this.#runs.delete(run.runId);
      this.#calls.delete(run.runId);
      this.#events.delete(run.runId);
      this.#decisions.delete(run.runId);
    }
    return doomed.length;
  }

  async appendMessages(conversationId: string, messages: readonly unknown[], at = Date.now()): Promise<void> {
    checkConversationId("appendMessages", conversationId);
    if (!Array.isArray(messages)) invalidOption("appendMessages", "messages", "an array", messages);
    const list = this.#messages.get(conversationId) ?? [];
    for (const message of messages)
      list.push({ conversationId, seq: list.length, at, message: JSON.parse(toStoredJson(message)) as unknown });
    this.#messages.set(conversationId, list);
  }

  async messages(conversationId: string, limit?: number): Promise<ConversationMessage[]> {
    checkConversationId("messages", conversationId);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
      invalidOption("messages", "limit", "an integer from 1 and up", limit);
    const list = this.#messages.get(conversationId) ?? [];
    return limit === undefined ? [...list] : list.slice(-limit);
  }

  async conversations(query: ConversationQuery = {}): Promise<StoredConversation[]> {
    const { limit, offset } = checkConversationQuery("conversations", query);
    return [...this.#messages.entries()]
      .map(([conversationId, list]) => ({
        conversationId,
        startedAt: list[0]?.at ?? 0,
        updatedAt: list.at(-1)?.at ?? 0,
        messages: list.length,
        title: conversationTitle(list.find((item) => conversationTitle(item.message) !== undefined)?.message),
        busy: this.#claims.has(conversationId),
      }))
      .sort((a, b) => b.updatedAt - a.updatedAt)
      .slice(offset, offset + limit);
  }

  async claimConversation(conversationId: string, holder: string): Promise<boolean> {
    checkConversationId("claimConversation", conversationId);
    checkClaimHolder("claimConversation", holder);
    const current = this.#claims.get(conversationId);
    if (current !== undefined && current !== holder) return false;
    this.#claims.set(conversationId, holder);
    return true;
  }

  async releaseConversation(conversationId: string, holder: string): Promise<void> {
    checkConversationId("releaseConversation", conversationId);
    checkClaimHolder("releaseConversation", holder);
    if (this.#claims.get(conversationId) === holder) this.#claims.delete(conversationId);
  }

  async setStepInProgress(conversationId: string, message: unknown): Promise<void> {
    checkConversationId("setStepInProgress", conversationId);
    if (message === undefined) this.#stepsInProgress.delete(conversationId);
    else this.#stepsInProgress.set(conversationId, JSON.parse(toStoredJson(message)) as unknown);
  }

  async stepInProgress(conversationId: string): Promise<unknown> {
    checkConversationId("stepInProgress", conversationId);
    return this.#stepsInProgress.get(conversationId);
  }

  async close(): Promise<void> {}

  #allCalls(): CallRow[] {
    return [...this.#calls.values()].flat();
  }
}
