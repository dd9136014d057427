import type { CallError, RunEvent, RunResult, RunStats, ToolResult } from "../run/types.ts";
import type { ToolStats } from "../run/executor-stats.ts";

/** A run as the history keeps it. `interrupted`: its process died before the run ended. */
export type StoredRunStatus = "running" | "completed" | "cancelled" | "timed_out" | "interrupted";

export interface StoredRun {
  runId: string;
  status: StoredRunStatus;
  startedAt: number;
  endedAt: number | undefined;
  /** The options the run was started with (limits, time limit, parallel). */
  options: Record<string, unknown>;
  /** Known once the run has ended. */
  stats: RunStats | undefined;
  /** Calls recorded so far. */
  calls: number;
  /** The earlier run whose unfinished work this one took over (`RunOptions.resumes`). */
  resumes: string | undefined;
  /** Later runs that took over this run's unfinished work, oldest first: more than one when a resuming run was itself interrupted. */
  resumedBy: string[];
}

export interface StoredCall {
  runId: string;
  callId: string;
  /** Position in the run. */
  index: number;
  name: string;
  /** The arguments as the call ran them, in stored form (see `toStoredJson`). */
  args: unknown;
  ok: boolean;
  /** The output in stored form; cut at the store's `maxOutputChars`, then `outputTruncated`. */
  output: unknown;
  outputTruncated: boolean;
  error: CallError | undefined;
  attempts: number;
  queuedAt: number;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  cached: boolean;
  dependsOn: string[];
}

/**
 * The events the history keeps: those that say something the run and call records don't.
 * `call-add`, `call-end` and `run-end` are not kept (the records hold their facts); `call-start`
 * is, so that after a crash it shows which calls had started, whose side effects may have landed.
 */
export type StoredRunEvent = Exclude<RunEvent, { type: "call-add" | "call-end" | "run-end" }>;

/** Whether the history keeps this event. */
export function isStoredEvent(event: RunEvent): event is StoredRunEvent {
  return event.type !== "call-add" && event.type !== "call-end" && event.type !== "run-end";
}

export interface StoredEvent {
  runId: string;
  /** Order within the run. */
  seq: number;
  event: StoredRunEvent;
}

/** What the recorder hands a store, in order, one batch per transaction. */
export type HistoryWrite =
  | { kind: "run-start"; runId: string; startedAt: number; options: Record<string, unknown> }
  | {
      kind: "call";
      runId: string;
      index: number;
      args: Readonly<Record<string, unknown>>;
      dependsOn: readonly string[];
      addedAt: number;
      result: ToolResult;
    }
  | { kind: "event"; runId: string; seq: number; event: StoredRunEvent }
  | { kind: "run-end"; result: RunResult; endedAt: number };

export interface RunQuery {
  /** Most runs returned. @default 50 */
  limit?: number;
  /** Runs skipped first, for paging. @default 0 */
  offset?: number;
  status?: StoredRunStatus;
  /** Only runs with at least one call of this tool. */
  tool?: string;
}

/** A tool's figures over the calls in the history: the same figures as `executor.stats()` gives. */
export type StoredToolStats = ToolStats;

export interface TimeWindow {
  /** Epoch ms, inclusive. @default the beginning */
  since?: number;
  /** Epoch ms, exclusive. @default now */
  until?: number;
}

/** A call that asked for approval, and what was decided, from the run's stored events. */
export interface StoredApproval {
  runId: string;
  callId: string;
  name: string;
  args: unknown;
  requestedAt: number;
  /** The run's status now: a pending approval of a run that is no longer `running` will get no decision. */
  runStatus: StoredRunStatus;
  /** Undefined while the call waits. */
  decision: { approved: boolean; reason: string | undefined; at: number } | undefined;
}

export interface ApprovalQuery {
  /** Only calls still waiting for a decision (`true`), or only decided ones (`false`). @default both */
  pending?: boolean;
  /** Only this run's. */
  runId?: string;
}

export interface ConversationMessage {
  conversationId: string;
  seq: number;
  at: number;
  message: unknown;
}

/** A conversation as the list of conversations shows it. */
export interface StoredConversation {
  conversationId: string;
  /** When its first message was kept (epoch ms). */
  startedAt: number;
  /** When its last message was kept. */
  updatedAt: number;
  messages: number;
  /** Its first user message, cut to 200 characters, to tell it apart. */
  title: string | undefined;
  /** A turn holds it now (see `claimConversation`). */
  busy: boolean;
}

export interface ConversationQuery {
  /** @default 50 */
  limit?: number;
  /** @default 0 */
  offset?: number;
}

/**
 * The history of runs: every run, call and event, the figures over them, and conversation
 * memory for agents. Implementations: `MemoryRunStore` (tests) and `SqliteRunStore` (the
 * embedded default). Writes come in batches from the executor's recorder, off the hot path.
 */
export interface RunStore {
  /** Applies the writes in order, atomically. */
  write(batch: readonly HistoryWrite[]): Promise<void>;

  /** Newest first. */
  listRuns(query?: RunQuery): Promise<StoredRun[]>;
  getRun(runId: string): Promise<{ run: StoredRun; calls: StoredCall[] } | undefined>;
  events(runId: string): Promise<StoredEvent[]>;
  /** Calls that asked for approval, oldest first, with their decisions. */
  approvals(query?: ApprovalQuery): Promise<StoredApproval[]>;
  /**
   * Records a decision on an approval still pending in the history, from outside the process
   * whose call waits: that process's executor applies it within `decisionPollMs`, or, if the
   * process has stopped, the agent that resumes the conversation does. The first decision
   * recorded for a call stands: false when the call is not waiting (decided already, or never
   * asked). A run live in this process is decided through its `approve` / `deny` instead.
   */
  decideApproval(
    runId: string,
    callId: string,
    decision: { approved: boolean; reason?: string },
    at?: number,
  ): Promise<boolean>;
  /** Per tool, over the calls that ended in the window. */
  toolStats(window?: TimeWindow): Promise<Record<string, StoredToolStats>>;
  /** The speedup of ended runs that have one (two calls or more ran), oldest first. */
  speedupHistory(window?: TimeWindow): Promise<{ runId: string; endedAt: number; speedup: number }[]>;
  /** Mean duration per tool of its most recent successful executed calls, for dispatch estimates. */
  durationEstimates(recentCalls?: number): Promise<Record<string, number>>;
  /** Deletes runs older than `olderThan` (epoch ms), or beyond the newest `keepRuns`. Returns how many. */
  prune(rule: { olderThan?: number; keepRuns?: number }): Promise<number>;

  appendMessages(conversationId: string, messages: readonly unknown[], at?: number): Promise<void>;
  /** In order; the last `limit` when given. */
  messages(conversationId: string, limit?: number): Promise<ConversationMessage[]>;
  /** Conversations with at least one message, the most recently updated first. */
  conversations(query?: ConversationQuery): Promise<StoredConversation[]>;
  /**
   * Takes a conversation for one turn, so that two turns never run on it at once, in this
   * process or in another sharing the store. True when `holder` has it now: it was free, held by
   * `holder` already, or held by a process on this host that has died. False while another live
   * holder has it.
   */
  claimConversation(conversationId: string, holder: string): Promise<boolean>;
  /** Gives back a claim `holder` has; does nothing when it holds none. */
  releaseConversation(conversationId: string, holder: string): Promise<void>;
  /**
   * Keeps the step the agent is writing now (its assistant message so far, marked with its
   * run), replacing the one kept before; `undefined` clears it. Written before each of the
   * step's calls starts, so that a process that dies while the model still writes leaves every
   * call that may have run where the next turn finds it.
   */
  setStepInProgress(conversationId: string, message: unknown): Promise<void>;
  /** The step kept by `setStepInProgress`, or undefined. */
  stepInProgress(conversationId: string): Promise<unknown>;

  close(): Promise<void>;
}
