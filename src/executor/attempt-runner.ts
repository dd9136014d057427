import { AsyncResource } from "node:async_hooks";
import type { RunInstrumentation } from "../run/instrumentation.ts";
import type { CallError } from "../run/types.ts";
import type { CallGraph } from "../scheduler/call-graph.ts";
import { Attempt, type CallState } from "../scheduler/call-state.ts";
import { whyNotJson } from "../shared/canonical-json.ts";
import { backoffDelayMs } from "../tool/retry-policy.ts";
import type { ProgressUpdate } from "../tool/define-tool.ts";
import { inProcessBackend } from "../backend/backend.ts";
import { answerStateless, stateOf } from "./batch-path.ts";
import { CallContext } from "./call-context.ts";
import { callErrors } from "./call-errors.ts";
import type { ExecutorCore } from "./executor-core.ts";
import { callInfo, type RunAnswers } from "./run-answers.ts";
import type { RunEvents } from "./run-events.ts";
import type { Interruption, RunLifecycle } from "./run-lifecycle.ts";

/** What running attempts needs from the rest of its run and executor. */
export interface AttemptRunnerParts {
  run: RunLifecycle;
  core: Pick<ExecutorCore, "clock" | "dispatcher" | "settings" | "random" | "guard">;
  graph: CallGraph;
  events: RunEvents;
  answers: RunAnswers;
  instrument: RunInstrumentation | undefined;
}

type Execute = (args: unknown, context: CallContext) => unknown;

/** The two reactions an attempt's promise settles through, and the attempt they serve now. */
interface SettleReactions {
  attempt: Attempt | undefined;
  /** The next idle pair, while this one is idle. */
  nextIdle: SettleReactions | undefined;
  readonly fulfilled: (output: unknown) => void;
  readonly rejected: (error: unknown) => void;
}

// Only compared with a promise's `then`, never called unbound.
// eslint-disable-next-line @typescript-eslint/unbound-method
const nativeThen = Promise.prototype.then;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function"
  );
}

/**
 * Runs a run's attempts: launches each inside the run's async context, with its time limit,
 * settles it through its promise, then answers the call, retries it after a back-off when the
 * failure allows, or stops it when a time limit or a cancel interrupts it.
 */
export class AttemptRunner {
  readonly #run: RunLifecycle;
  readonly #core: AttemptRunnerParts["core"];
  readonly #graph: CallGraph;
  readonly #events: RunEvents;
  readonly #answers: RunAnswers;
  readonly #instrument: RunInstrumentation | undefined;
  /**
   * The async context of whoever started the run. Every attempt is launched inside it, so that
   * AsyncLocalStorage values (and OpenTelemetry's active span) reach every `execute`, whatever
   * event started it: a dependency ending, a retry timer, another run freeing a slot. An
   * AsyncResource with manual destroy costs a hundredth of `AsyncLocalStorage.snapshot()`.
   */
  readonly #callerContext = new AsyncResource("volley.run", { requireManualDestroy: true });
  /**
   * Reactions for attempts' promises, free for the next attempt: the first of a list linked
   * through `nextIdle`. Two closures and their context per call were the largest allocation on
   * the hot path; a run needs as many pairs as it ever has attempts in flight.
   */
  #idleReactions: SettleReactions | undefined;

  constructor(parts: AttemptRunnerParts) {
    this.#run = parts.run;
    this.#core = parts.core;
    this.#graph = parts.graph;
    this.#events = parts.events;
    this.#answers = parts.answers;
    this.#instrument = parts.instrument;
  }

  /** Starts the next attempt of a call the dispatcher admitted at `now`. */
  execute(call: CallState, now: number): void {
    const attempt = Attempt.of(call, now);
    call.attempts = attempt.number;
    call.attempt = attempt;
    call.phase = "running";
    if (call.startedAt < 0) call.startedAt = now;
    if (this.#events.observed)
      this.#events.emit({
        type: "call-start",
        runId: this.#run.id,
        at: now,
        callId: call.id,
        name: call.name,
        attempt: attempt.number,
      });
    this.run(attempt);
  }

  /** Launches the attempt in the run's async context (see `#callerContext`). */
  run(attempt: Attempt): void {
    const context = new CallContext(this, attempt);
    if (this.#instrument?.attempt === undefined)
      this.#callerContext.runInAsyncScope(this.#launch, this, attempt, context);
    else this.#callerContext.runInAsyncScope(this.#launchInstrumented, this, attempt, context);
  }

  /** The run has finished: its async context is let go. */
  close(): void {
    this.#callerContext.emitDestroy();
  }

  get id(): string {
    return this.#run.id;
  }

  /** Progress from a running attempt, as an event. */
  progress(attempt: Attempt, update: ProgressUpdate): void {
    if (!this.#events.observed || attempt.settled || attempt.abortReason !== undefined) return;
    this.#events.emit({
      type: "call-progress",
      runId: this.#run.id,
      at: this.#core.clock.now(),
      callId: attempt.callId,
      name: attempt.gate.tool.name,
      ...update,
    });
  }

  /**
   * Aborts a running attempt and answers it at once. A tool that never read its signal could
   * not have stopped; one that did gets a turn of the event loop to settle, so that the
   * answer can say plainly whether it may still be running.
   */
  interrupt(attempt: Attempt, interruption: Interruption): void {
    if (attempt.abortReason !== undefined) return;
    const call = stateOf(attempt, this.#graph);
    const reason =
      interruption.kind === "timeout"
        ? new DOMException(`Timed out after ${interruption.limitMs} ms`, "TimeoutError")
        : new DOMException(`Cancelled: ${interruption.reason}`, "AbortError");
    attempt.abortReason = reason;
    attempt.controller?.abort(reason);
    const answer = (): void => {
      if (call.result !== undefined || call.attempt !== attempt) return;
      const stopped = attempt.settled;
      if (interruption.kind === "cancelled") {
        this.#answers.fail(call, callErrors.cancelled(interruption.reason, true, stopped));
      } else if (interruption.scope === "run") {
        this.#answers.fail(
          call,
          callErrors.timeout(
            call.name,
            `was still running when the run's time limit of ${interruption.limitMs} ms was reached`,
            stopped,
          ),
        );
      } else {
        this.#failAttempt(
          call,
          callErrors.timeout(call.name, `timed out after ${interruption.limitMs} ms`, stopped),
          undefined,
        );
      }
    };
    const dispatcher = this.#core.dispatcher;
    if (attempt.controller !== undefined) setImmediate(() => dispatcher.inTurn(answer));
    else dispatcher.inTurn(answer);
  }

  /** Lets the instrumentation launch the attempt in a context of its own; launches it anyway if it doesn't. */
  #launchInstrumented(attempt: Attempt, context: CallContext): void {
    let launched = false;
    const launch = (): void => {
      if (launched) return;
      launched = true;
      this.#launch(attempt, context);
    };
    const instrument = this.#instrument as RunInstrumentation;
    this.#core.guard("instrumentation.attempt", "Volley instrumentation threw in attempt", () =>
      instrument.attempt?.(callInfo(this.#run.id, stateOf(attempt, this.#graph)), launch),
    );
    if (!launched) launch();
  }

  /** Runs the tool, inside the run's async context. */
  #launch(attempt: Attempt, context: CallContext): void {
    const gate = attempt.gate;
    const tool = gate.tool;
    const timeoutMs = attempt.call?.timeoutMs ?? tool.timeoutMs ?? this.#core.settings.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs !== Infinity)
      attempt.timer = setTimeout(this.#onTimeout, timeoutMs, attempt, timeoutMs);
    let value: unknown;
    try {
      const backend = gate.backend;
      value =
        backend === inProcessBackend
          ? (tool.execute as unknown as Execute)(attempt.args, context)
          : backend.execute(tool, attempt.args, context);
      // Inside the guard: a Proxy's traps, a `then` getter or a `then` that throws is the tool's failure.
      if (this.#awaitOutcome(attempt, value)) return;
    } catch (error) {
      this.#settle(attempt, false, error);
      return;
    }
    this.#settle(attempt, true, value);
  }

  /** Settles the attempt through `value` when it is a promise or another thenable; false when it is a plain output. */
  #awaitOutcome(attempt: Attempt, value: unknown): boolean {
    if (value instanceof Promise && value.then === nativeThen) {
      const reactions = this.#idleReactions ?? this.#newReactions();
      this.#idleReactions = reactions.nextIdle;
      reactions.nextIdle = undefined;
      reactions.attempt = attempt;
      value.then(reactions.fulfilled, reactions.rejected);
      return true;
    }
    if (!isPromiseLike(value)) return false;
    // Another thenable might call back twice: it gets a pair of its own, and #settle ignores a second call.
    value.then(
      (output) => this.#settle(attempt, true, output),
      (error: unknown) => this.#settle(attempt, false, error),
    );
    return true;
  }

  #newReactions(): SettleReactions {
    const reactions: SettleReactions = {
      attempt: undefined,
      nextIdle: undefined,
      fulfilled: (output) => this.#settleThrough(reactions, true, output),
      rejected: (error) => this.#settleThrough(reactions, false, error),
    };
    return reactions;
  }

  /** A native promise calls one of its reactions once: after that, the pair can serve another attempt. */
  #settleThrough(reactions: SettleReactions, ok: boolean, value: unknown): void {
    const attempt = reactions.attempt as Attempt;
    reactions.attempt = undefined;
    reactions.nextIdle = this.#idleReactions;
    this.#idleReactions = reactions;
    this.#settle(attempt, ok, value);
  }

  /** An attempt's promise settled: free its slots, then answer, retry or ignore (if interrupted), in one turn. */
  #settle(attempt: Attempt, ok: boolean, value: unknown): void {
    if (attempt.settled) return;
    attempt.settled = true;
    if (attempt.timer !== undefined) clearTimeout(attempt.timer);
    const dispatcher = this.#core.dispatcher;
    let endedAt: number | undefined;
    dispatcher.beginTurn();
    try {
      dispatcher.release(attempt);
      if (attempt.abortReason === undefined) endedAt = this.#conclude(attempt, ok, value);
    } finally {
      dispatcher.endTurn(endedAt);
    }
  }

  /**
   * Answers or retries a call whose attempt settled. Returns the time it ended when the next
   * call may start at that same time: one clock read for both, when no code outside Volley
   * (listeners, instrumentation, a dependent's validator, another run's) runs between them.
   */
  #conclude(attempt: Attempt, ok: boolean, value: unknown): number | undefined {
    if (!ok) {
      const error = callErrors.toolFailed(value);
      const retryAfterMs = error.retryAfterMs;
      delete error.retryAfterMs;
      this.#failAttempt(stateOf(attempt, this.#graph), error, retryAfterMs);
      return undefined;
    }
    const why = whyNotJson(value);
    if (why !== undefined) {
      this.#failAttempt(stateOf(attempt, this.#graph), callErrors.notJson(attempt.gate.tool.name, why), undefined);
      return undefined;
    }
    // Once the run takes no more calls, no call can come to refer to this one: it needs no state.
    if (attempt.range !== undefined && attempt.call === undefined && this.#run.ended)
      return answerStateless(attempt, value, this.#core.clock.now(), this.#answers);
    const call = stateOf(attempt, this.#graph);
    const now = this.#core.clock.now();
    const quiet =
      !this.#events.listened &&
      this.#instrument === undefined &&
      call.dependents.length === 0 &&
      call.followers === undefined;
    this.#answers.succeed(call, value, now);
    return quiet ? now : undefined;
  }

  readonly #onTimeout = (attempt: Attempt, timeoutMs: number): void => {
    attempt.timer = undefined;
    if (attempt.settled || attempt.abortReason !== undefined) return;
    this.interrupt(attempt, { kind: "timeout", scope: "call", limitMs: timeoutMs });
  };

  /** A failed attempt: retry it when the failure is retryable and attempts remain, else answer. */
  #failAttempt(call: CallState, error: CallError, retryAfterMs: number | undefined): void {
    const tool = call.tool;
    const policy = tool.retry ?? this.#core.settings.retry;
    const retryable = error.type === "timeout" ? tool.idempotent : error.retryable;
    if (!retryable || call.attempts >= policy.attempts || this.#run.interruption !== undefined) {
      this.#answers.fail(call, error);
      return;
    }
    const delayMs = Math.max(backoffDelayMs(policy, call.attempts + 1, this.#core.random), retryAfterMs ?? 0);
    call.phase = "backoff";
    call.attempt = undefined;
    if (this.#events.observed) {
      this.#events.emit({
        type: "call-retry",
        runId: this.#run.id,
        at: this.#core.clock.now(),
        callId: call.id,
        name: call.name,
        attempt: call.attempts + 1,
        delayMs,
        error,
      });
    }
    call.backoffTimer = setTimeout(this.#retryNow, delayMs, call);
  }

  readonly #retryNow = (call: CallState): void => {
    call.backoffTimer = undefined;
    if (call.phase === "backoff") this.#core.dispatcher.enqueue(call);
  };
}
