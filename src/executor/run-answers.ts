import type { CallInfo, RunInstrumentation } from "../run/instrumentation.ts";
import { RunStatistics } from "../run/run-statistics.ts";
import type { CallError, ToolResult } from "../run/types.ts";
import type { CallGraph } from "../scheduler/call-graph.ts";
import type { CallState } from "../scheduler/call-state.ts";
import { NO_TOOL_GATE, type ToolGate } from "../scheduler/tool-gate.ts";
import { callErrors } from "./call-errors.ts";
import type { CallSharing } from "./call-sharing.ts";
import type { ExecutorCore } from "./executor-core.ts";
import { notStartedReason, type RunLifecycle } from "./run-lifecycle.ts";
import type { RunEvents } from "./run-events.ts";

/** What answering a call needs from the rest of its run. */
export interface RunAnswersParts {
  run: RunLifecycle;
  graph: CallGraph;
  events: RunEvents;
  core: Pick<ExecutorCore, "clock" | "dispatcher" | "history" | "guard">;
  sharing: CallSharing;
  instrument: RunInstrumentation | undefined;
  /** A call whose dependencies all succeeded: it gets ready to run. */
  dependenciesMet: (call: CallState) => void;
  /** A call answered while it waited for approval: no decision will come for it. */
  approvalWithdrawn: (call: CallState, reason: string) => void;
}

/**
 * The one result of each call of a run, and what follows from it: dependents of a success may
 * become ready, dependents of a failure fail too, calls that shared its execution get its
 * result, the history, listeners and statistics hear of it, and the run learns when the last one is in.
 */
export class RunAnswers {
  /** Each call's result at its index, filled in as they arrive: the run's answer, ready when the last one is. */
  results: (ToolResult | undefined)[] = [];
  /** Calls added and not answered yet. */
  unanswered = 0;
  readonly statistics = new RunStatistics();
  readonly #run: RunLifecycle;
  readonly #graph: CallGraph;
  readonly #events: RunEvents;
  readonly #core: RunAnswersParts["core"];
  readonly #sharing: CallSharing;
  readonly #instrument: RunInstrumentation | undefined;
  readonly #dependenciesMet: (call: CallState) => void;
  readonly #approvalWithdrawn: (call: CallState, reason: string) => void;

  constructor(parts: RunAnswersParts) {
    this.#run = parts.run;
    this.#graph = parts.graph;
    this.#events = parts.events;
    this.#core = parts.core;
    this.#sharing = parts.sharing;
    this.#instrument = parts.instrument;
    this.#dependenciesMet = parts.dependenciesMet;
    this.#approvalWithdrawn = parts.approvalWithdrawn;
  }

  /** Makes room for a batch of `count` calls added to an empty run. */
  reserve(count: number): void {
    if (count > this.results.length) this.results = new Array<ToolResult | undefined>(count);
  }

  /** A call was added at `index`: the run now waits for its result. */
  expect(index: number): void {
    this.results[index] = undefined;
    this.unanswered++;
  }

  /** The call's tool returned `output`, at `now` when the caller has just read the clock. */
  succeed(call: CallState, output: unknown, now?: number): void {
    this.#answer(call, true, output, false, now);
  }

  /** The call is answered with an output its tool returned earlier, from the cache. */
  serveCached(call: CallState, output: unknown): void {
    this.#answer(call, true, output, true);
  }

  /** The call followed an identical call in flight: it gets that call's outcome. */
  share(call: CallState, leaderResult: ToolResult): void {
    if (leaderResult.ok) this.#answer(call, true, leaderResult.output, true);
    else this.#answer(call, false, leaderResult.error, true);
  }

  fail(call: CallState, error: CallError): void {
    this.#answer(call, false, error, false);
  }

  /** Answers every call on a cycle; calls that depend on them then fail as dependents do. */
  failCycle(members: readonly CallState[]): void {
    const error = callErrors.cycle(members.map((member) => member.id));
    // Record every member before moving the graph on, or the first would fail the next as a dependent.
    for (const member of members) this.#record(member, false, error, false);
    for (const member of members) this.#propagate(member);
    this.#allAnsweredCheck();
  }

  /**
   * Places the result of a call that never had state (see `BatchPath`): it had no dependencies,
   * no dependents, nothing shared it, and no listener or instrumentation watches its run.
   */
  placeStateless(
    index: number,
    result: ToolResult,
    gate: ToolGate,
    args: Record<string, unknown>,
    addedAt: number,
  ): void {
    this.results[index] = result;
    this.#graph.forget(index);
    this.unanswered--;
    this.#tally(result, gate, result.durationMs);
    this.#core.history?.push({ kind: "call", runId: this.#run.id, index, args, dependsOn: [], addedAt, result });
    if (this.unanswered === 0) this.#run.allAnswered();
  }

  /** Gives a call its one result, then moves the graph on. */
  #answer(call: CallState, ok: boolean, outcome: unknown, cached: boolean, now?: number): void {
    if (!this.#record(call, ok, outcome, cached, now)) return;
    this.#propagate(call);
    this.#allAnsweredCheck();
  }

  #allAnsweredCheck(): void {
    if (this.unanswered === 0 && this.#run.ended) this.#run.allAnswered();
  }

  /** Moves the graph on from an answered call. Works through a stack, not recursion, so long chains can't overflow. */
  #propagate(first: CallState): void {
    if (first.dependents.length === 0 && first.followers === undefined) return;
    const stack = [first];
    while (stack.length > 0) {
      const call = stack.pop() as CallState;
      const result = call.result as ToolResult;
      if (call.followers !== undefined) this.#sharing.settleFollowers(call);
      for (const dependent of call.dependents) {
        if (dependent.result !== undefined) continue;
        if (result.ok) {
          if (--dependent.pendingDependencies === 0) this.#dependenciesMet(dependent);
          continue;
        }
        const interruption = this.#run.interruption;
        const because = interruption
          ? callErrors.cancelled(notStartedReason(interruption), false, true)
          : callErrors.dependencyFailed(call, result.error);
        if (this.#record(dependent, false, because, false)) stack.push(dependent);
      }
    }
  }

  /** Stores the call's one result, ended at `now`; returns false (and changes nothing) if it already had one. */
  #record(call: CallState, ok: boolean, outcome: unknown, cached: boolean, now = this.#core.clock.now()): boolean {
    if (call.result !== undefined) return false;
    if (call.phase === "approval")
      this.#approvalWithdrawn(call, `no decision: ${ok ? "the run ended" : (outcome as CallError).message}`);
    const startedAt = call.startedAt >= 0 ? call.startedAt : now;
    const result = toolResult(call.id, call.name, call.attempts, call.addedAt, startedAt, now, cached, ok, outcome);
    if (call.backoffTimer !== undefined) clearTimeout(call.backoffTimer);
    if (call.parkedIn !== undefined) this.#core.dispatcher.withdraw(call);
    call.result = result;
    this.results[call.index] = result;
    // No call can come to refer to it any more: what depends on it holds it, the rest can let go.
    if (this.#run.ended) this.#graph.forget(call.index);
    call.phase = "done";
    call.attempt = undefined;
    this.unanswered--;

    let longestDependency = 0;
    for (const dependency of call.dependencies) longestDependency = Math.max(longestDependency, dependency.pathMs);
    call.pathMs = longestDependency + (call.attempts > 0 ? result.durationMs : 0);
    this.#tally(result, call.gate, call.pathMs);
    if (call.shareKey !== undefined) this.#sharing.answered(call, result, now);
    this.#core.history?.push({
      kind: "call",
      runId: this.#run.id,
      index: call.index,
      args: call.args,
      dependsOn: call.dependencies.map((dependency) => dependency.id),
      addedAt: call.addedAt,
      result,
    });
    if (this.#events.listened)
      this.#events.emit({ type: "call-end", runId: this.#run.id, at: now, callId: call.id, name: call.name, result });
    const instrument = this.#instrument;
    if (instrument?.callEnd !== undefined)
      this.#core.guard("instrumentation.callEnd", "Volley instrumentation threw in callEnd", () =>
        instrument.callEnd?.(callInfo(this.#run.id, call), result),
      );
    return true;
  }

  /** Counts a result in the run's statistics, and in its tool's statistics and duration estimate. */
  #tally(result: ToolResult, gate: ToolGate, pathMs: number): void {
    this.statistics.observe(result, pathMs);
    if (gate === NO_TOOL_GATE) return;
    if (result.ok && result.attempts > 0) gate.observeDuration(result.durationMs);
    gate.statistics.observe(result);
  }
}

/** What instrumentation is told about a call. */
export function callInfo(runId: string, call: CallState): CallInfo {
  return {
    runId,
    callId: call.id,
    name: call.name,
    description: call.gate.tool.description,
    args: call.args,
    dependsOn: call.dependencies.map((dependency) => dependency.id),
    attempt: call.attempts,
  };
}

/**
 * A call's one result: `outcome` is the output of a success, the error of a failure. Both kinds
 * have their fields in one order, wherever they are made.
 */
export function toolResult(
  id: string,
  name: string,
  attempts: number,
  addedAt: number,
  startedAt: number,
  endedAt: number,
  cached: boolean,
  ok: boolean,
  outcome: unknown,
): ToolResult {
  const durationMs = endedAt - startedAt;
  const queuedMs = startedAt - addedAt;
  return ok
    ? { id, name, ok, output: outcome, attempts, startedAt, endedAt, durationMs, queuedMs, cached }
    : { id, name, ok, error: outcome as CallError, attempts, startedAt, endedAt, durationMs, queuedMs, cached };
}
