import type { RunInstrumentation } from "../run/instrumentation.ts";
import type { ApprovalRequest, RunEvent, RunResult, RunStatus, ToolCall, ToolResult } from "../run/types.ts";
import { CallGraph } from "../scheduler/call-graph.ts";
import { startsBefore, type Attempt, type CallState, type QueueItem, type RunSlots } from "../scheduler/call-state.ts";
import type { QueuedRange } from "../scheduler/queued-range.ts";
import { PriorityHeap } from "../shared/priority-heap.ts";
import type { ProgressUpdate } from "../tool/define-tool.ts";
import { ApprovalDesk } from "./approval-desk.ts";
import { AttemptRunner } from "./attempt-runner.ts";
import { BatchPath, stateOf } from "./batch-path.ts";
import { CallIntake } from "./call-intake.ts";
import { CallPreparation } from "./call-preparation.ts";
import { callErrors, describeReason } from "./call-errors.ts";
import type { ExecutorCore } from "./executor-core.ts";
import type { EventLog } from "../shared/event-log.ts";
import { RunAnswers } from "./run-answers.ts";
import { RunEvents } from "./run-events.ts";
import { notStartedReason, type Interruption, type RunLifecycle } from "./run-lifecycle.ts";

export interface OpenRunOptions {
  runId: string;
  maxConcurrency: number;
  parallel: boolean;
  /** Time limit of the whole run. */
  timeoutMs: number | undefined;
  onEvent: ((event: RunEvent) => void) | undefined;
  /** Keep every event for `events` readers (open runs); `run()` needs none. */
  keepEvents: boolean;
  /** The earlier run whose unfinished work this one takes over, recorded with the run's options. */
  resumes: string | undefined;
  /** What the run is, for people; recorded with the run's options. */
  name: string | undefined;
}

/**
 * One run, from its start to its result. Its calls go through the parts that handle them:
 *
 * - `CallIntake` takes each call in and links it into the run's `CallGraph`;
 * - `CallPreparation` gets a call whose inputs are ready through references, validation,
 *   approval (at the `ApprovalDesk`), sharing and resource claims, into the dispatcher's line;
 * - the dispatcher (executor-wide) decides when it starts, within every limit;
 * - `AttemptRunner` runs its attempts, with time limits and retries;
 * - `RunAnswers` gives it its one result and moves the graph on;
 * - `BatchPath` takes large batches of independent calls through all of this more cheaply.
 *
 * The run itself starts, ends (no more calls), is cancelled or times out, and finishes when
 * the last call is answered. Every way in (adding calls, ending, an attempt settling, a timer)
 * is one dispatcher turn: calls made ready during it start when it ends.
 */
export class OpenRun implements RunSlots, RunLifecycle {
  readonly id: string;
  active = 0;
  maxInFlight = 0;
  maxConcurrency: number;
  readonly waiting = new PriorityHeap<QueueItem>(startsBefore);
  readonly result: Promise<RunResult>;
  ended = false;
  interruption: Interruption | undefined;

  readonly #core: ExecutorCore;
  readonly #graph: CallGraph;
  readonly #events: RunEvents;
  readonly #answers: RunAnswers;
  readonly #approvals: ApprovalDesk;
  readonly #attempts: AttemptRunner;
  readonly #batch: BatchPath;
  readonly #intake: CallIntake;
  readonly #preparation: CallPreparation;
  readonly #startedAt: number;
  readonly #instrument: RunInstrumentation | undefined;
  #resolve!: (result: RunResult) => void;
  #finished = false;
  #status: RunStatus = "completed";
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #detachSignal: (() => void) | undefined;

  constructor(core: ExecutorCore, options: OpenRunOptions) {
    this.#core = core;
    this.id = options.runId;
    this.maxConcurrency = options.parallel ? options.maxConcurrency : 1;
    const ranked = options.parallel && core.settings.order === "critical-path";
    this.#graph = new CallGraph({
      lineUp: (call) => core.dispatcher.enqueue(call),
      stateOf: (attempt) => stateOf(attempt, this.#graph),
    });
    this.#events = new RunEvents(this.id, core, options.onEvent, options.keepEvents);
    this.#startedAt = core.clock.now();
    core.history?.push({
      kind: "run-start",
      runId: this.id,
      startedAt: this.#startedAt,
      options: {
        maxConcurrency: options.maxConcurrency,
        parallel: options.parallel,
        timeoutMs: options.timeoutMs ?? null,
        ...(options.resumes === undefined ? {} : { resumes: options.resumes }),
        ...(options.name === undefined ? {} : { name: options.name }),
      },
    });
    this.result = new Promise((resolve) => (this.#resolve = resolve));
    const instrumentation = core.instrumentation;
    this.#instrument =
      instrumentation &&
      core.guard("instrumentation.runStart", "Volley instrumentation threw in runStart", () =>
        instrumentation.runStart({ runId: this.id }),
      );

    const { sharing } = core;
    const events = this.#events;
    const answers = (this.#answers = new RunAnswers({
      run: this,
      graph: this.#graph,
      events,
      core,
      sharing,
      instrument: this.#instrument,
      dependenciesMet: (call) => this.#preparation.prepare(call),
      approvalWithdrawn: (call, reason) => this.#approvals.withdraw(call, reason),
    }));
    this.#approvals = new ApprovalDesk({
      runId: this.id,
      core,
      events,
      approved: (call) => this.#preparation.queue(call),
      denied: (call, reason) => answers.fail(call, callErrors.denied(call.name, reason)),
    });
    const preparation = (this.#preparation = new CallPreparation({
      core,
      answers,
      approvals: this.#approvals,
      sharing,
    }));
    this.#attempts = new AttemptRunner({
      run: this,
      core,
      graph: this.#graph,
      events,
      answers,
      instrument: this.#instrument,
    });
    this.#batch = new BatchPath({
      run: this,
      core,
      graph: this.#graph,
      answers,
      events,
      attempts: this.#attempts,
      ranked,
      parallel: options.parallel,
    });
    this.#intake = new CallIntake({
      run: this,
      core,
      graph: this.#graph,
      events,
      answers,
      batch: this.#batch,
      preparation,
      ranked,
      parallel: options.parallel,
    });

    if (events.observed) events.emit({ type: "run-start", runId: this.id, at: this.#startedAt });
    if (options.timeoutMs !== undefined && options.timeoutMs !== Infinity) {
      const limit = options.timeoutMs;
      this.#deadline = setTimeout(() => {
        this.#deadline = undefined;
        this.#interrupt("timed_out", { kind: "timeout", scope: "run", limitMs: limit });
      }, limit);
    }
  }

  /** Every event of the run, for readers of an open run's `events`; undefined for `run()`. */
  get events(): EventLog<RunEvent> | undefined {
    return this.#events.log;
  }

  /** Cancels the run when `signal` aborts; an aborted signal cancels at once. */
  attachSignal(signal: AbortSignal): void {
    if (signal.aborted) {
      this.cancel(signal.reason);
      return;
    }
    const onAbort = (): void => this.cancel(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    this.#detachSignal = () => signal.removeEventListener("abort", onAbort);
  }

  // ───────────────────────────── adding calls ─────────────────────────────

  /**
   * Adds calls as one batch: ranks are known for all of them before any starts. The signal is
   * attached before the first start, so that an aborted one answers every call `cancelled`.
   */
  addAll(calls: readonly ToolCall[], signal?: AbortSignal): void {
    const dispatcher = this.#core.dispatcher;
    dispatcher.beginTurn();
    try {
      this.#intake.addBatch(calls, this.#core.clock.now());
      if (signal !== undefined) this.attachSignal(signal);
    } finally {
      dispatcher.endTurn();
    }
  }

  add(call: ToolCall): string {
    const dispatcher = this.#core.dispatcher;
    dispatcher.beginTurn();
    try {
      const index = this.#intake.add(call, this.#core.clock.now());
      // Already answered if a listener cancelled the run as it was added; its state may be gone then.
      return this.#answers.results[index]?.id ?? this.#graph.idAt(index);
    } finally {
      dispatcher.endTurn();
    }
  }

  // ─────────────── what the dispatcher and the executor ask of a run ───────────────

  execute(call: CallState, now: number): void {
    this.#attempts.execute(call, now);
  }

  startNext(range: QueuedRange, now: number): void {
    this.#batch.startNext(range, now);
  }

  answerShared(call: CallState, leaderResult: ToolResult): void {
    if (call.result !== undefined) return;
    call.leader = undefined;
    this.#answers.share(call, leaderResult);
  }

  /** The call this one followed was cancelled with its run; this one runs on its own. */
  rejoin(call: CallState): void {
    if (call.result !== undefined) return;
    call.leader = undefined;
    call.phase = "waiting";
    this.#preparation.queue(call);
  }

  progress(attempt: Attempt, update: ProgressUpdate): void {
    this.#attempts.progress(attempt, update);
  }

  decide(callId: string, approved: boolean, reason?: string): Promise<boolean> {
    return this.#approvals.decide(callId, approved, reason);
  }

  applyDecision(callId: string, approved: boolean, reason?: string): boolean {
    return this.#approvals.applyDecision(callId, approved, reason);
  }

  pendingApprovals(): ApprovalRequest[] {
    return this.#approvals.pending();
  }

  // ───────────────────────────── ending ─────────────────────────────

  /** No more calls will come. Calls still waiting for an id that never arrived can't run. */
  end(): void {
    if (this.ended) return;
    this.#core.dispatcher.inTurn(() => {
      this.ended = true;
      for (const [missingId, waiters] of this.#graph.takeUnresolved()) {
        for (const waiter of waiters)
          if (waiter.result === undefined) this.#answers.fail(waiter, callErrors.missingCall(missingId));
      }
      if (this.#answers.unanswered === 0) this.#finish();
    });
  }

  cancel(reason?: unknown): void {
    this.#interrupt("cancelled", { kind: "cancelled", reason: describeReason(reason, "the run was cancelled") });
  }

  allAnswered(): void {
    this.#finish();
  }

  /**
   * Stops the run: running attempts are aborted (answered `timeout` when the run's time
   * limit ran out, `cancelled` otherwise), and everything not yet running is answered
   * `cancelled`.
   */
  #interrupt(status: RunStatus, interruption: Interruption): void {
    if (this.#finished || this.interruption !== undefined) return;
    this.interruption = interruption;
    this.#status = status;
    this.ended = true;
    this.#core.dispatcher.inTurn(() => {
      const graph = this.#graph;
      graph.takeUnresolved();
      for (let index = 0; index < graph.size; index++) {
        const call = graph.stateAt(index);
        if (call === undefined || call.result !== undefined) continue;
        if (call.phase === "running" && call.attempt !== undefined) {
          this.#attempts.interrupt(call.attempt, interruption);
        } else {
          if (call.leader?.followers) call.leader.followers.splice(call.leader.followers.indexOf(call), 1);
          this.#answers.fail(call, callErrors.cancelled(notStartedReason(interruption), false, true));
        }
      }
      if (this.#answers.unanswered === 0) this.#finish();
    });
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#detachSignal?.();
    this.#attempts.close();
    const results = this.#answers.results as ToolResult[];
    // Room was reserved for a batch that a misused call cut short.
    if (results.length > this.#graph.size) results.length = this.#graph.size;
    const stats = this.#answers.statistics.stats(results.length, this.#startedAt, this.maxInFlight);
    const result: RunResult = { runId: this.id, status: this.#status, results, stats };
    this.#core.statistics.observeRun(stats);
    const endedAt = this.#core.clock.now();
    if (this.#events.listened) this.#events.emit({ type: "run-end", runId: this.id, at: endedAt, result });
    this.#core.history?.push({ kind: "run-end", result, endedAt });
    this.#events.close();
    const instrument = this.#instrument;
    if (instrument?.runEnd !== undefined)
      this.#core.guard("instrumentation.runEnd", "Volley instrumentation threw in runEnd", () =>
        instrument.runEnd?.(result),
      );
    this.#resolve(result);
  }
}
