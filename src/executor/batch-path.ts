import type { ToolCall } from "../run/types.ts";
import type { ScannedArguments } from "../scheduler/call-arguments.ts";
import type { CallGraph } from "../scheduler/call-graph.ts";
import { Attempt, type CallState, type RunSlots, type StandInAttempt } from "../scheduler/call-state.ts";
import { QueuedRange } from "../scheduler/queued-range.ts";
import type { ToolGate } from "../scheduler/tool-gate.ts";
import type { AttemptRunner } from "./attempt-runner.ts";
import type { ExecutorCore } from "./executor-core.ts";
import { toolResult, type RunAnswers } from "./run-answers.ts";
import type { RunEvents } from "./run-events.ts";

/**
 * The batch fast path, on unless `VOLLEY_BATCH_PATH=off` is set when Volley is loaded. Off,
 * every call has its own state from the start: slower on large batches, with the same results,
 * events, history and order. The test suite runs the executor's tests both ways.
 */
export const BATCH_PATH_ON = process.env.VOLLEY_BATCH_PATH !== "off";

/** What the fast path needs from its run and executor. */
export interface BatchPathParts {
  run: RunSlots;
  core: Pick<ExecutorCore, "dispatcher" | "instrumentation">;
  graph: CallGraph;
  answers: RunAnswers;
  events: RunEvents;
  attempts: AttemptRunner;
  /** Calls of equal priority start by critical path: a range's rank is its tool's expected duration. */
  ranked: boolean;
  /** Calls' priorities count (a run that is not parallel ignores them). */
  parallel: boolean;
}

/**
 * The batch fast path. Large batches of independent calls to one tool are the common case,
 * and three things make them cheap, all here:
 *
 * - **Ranges.** Consecutive independent calls to a tool that needs nothing decided call by
 *   call wait in line as one `QueuedRange`, with no per-call state (see `#fits`).
 * - **Stand-ins.** In a run that no listener or instrumentation watches, a range's call starts
 *   without state: its first attempt stands in for it (see `Attempt`), and `stateOf` makes the
 *   state only if something comes to need it.
 * - **Stateless answers.** A stand-in's success in a run that takes no more calls is answered
 *   without ever making state (`answerStateless`).
 *
 * Everything else takes the general path, and so does every call when the path is off.
 */
export class BatchPath {
  readonly #run: RunSlots;
  readonly #core: BatchPathParts["core"];
  readonly #graph: CallGraph;
  readonly #answers: RunAnswers;
  readonly #events: RunEvents;
  readonly #attempts: AttemptRunner;
  readonly #ranked: boolean;
  readonly #parallel: boolean;
  /** No listener or instrumentation watches the run's calls: a range's call can run without state. */
  readonly #standsIn: boolean;
  /** The range the last call joined, which the next one may join too (see `QueuedRange.continuesWith`). */
  #openRange: QueuedRange | undefined;

  constructor(parts: BatchPathParts) {
    this.#run = parts.run;
    this.#core = parts.core;
    this.#graph = parts.graph;
    this.#answers = parts.answers;
    this.#events = parts.events;
    this.#attempts = parts.attempts;
    this.#ranked = parts.ranked;
    this.#parallel = parts.parallel;
    this.#standsIn = !parts.events.listened && parts.core.instrumentation === undefined;
  }

  /**
   * Whether the call can wait in a range: the path is on, the tool needs nothing decided call
   * by call, and the call has valid fields, no dependencies, no time limit of its own, and an
   * id nobody waits for (nor has used: `claimsId`). `fieldsOk`: its fields passed intake's check.
   */
  fits(input: ToolCall, gate: ToolGate, scanned: ScannedArguments | undefined, fieldsOk: boolean): boolean {
    if (!BATCH_PATH_ON || !gate.queuesInRanges || input.timeoutMs !== undefined || !fieldsOk) return false;
    if (input.dependsOn !== undefined && input.dependsOn.length > 0) return false;
    if (scanned !== undefined && (!scanned.ok || scanned.references.length > 0)) return false;
    // A given id must also be free: `claimsId` checks that as it takes it.
    if (input.id !== undefined) return !this.#graph.isAwaited(input.id);
    return this.#graph.positionalIdIsFree();
  }

  /** Takes the call's given id for the next place, if it has one; false when another call has it (a duplicate, answered on the general path). */
  claimsId(input: ToolCall): boolean {
    return input.id === undefined || this.#graph.claimNextId(input.id);
  }

  /** Adds a call that fits (see `fits`) to the open range, or to a new one; returns its position. */
  add(input: ToolCall, gate: ToolGate, args: Record<string, unknown> | undefined, now: number): number {
    const graph = this.#graph;
    const index = graph.size;
    const dispatcher = this.#core.dispatcher;
    const seq = dispatcher.nextSeq();
    const priority = this.#parallel ? (input.priority ?? gate.tool.priority) : 0;
    const rank = this.#ranked ? gate.expectedDurationMs : 0;
    const id = input.id;
    const open = this.#openRange;
    const opens = open === undefined || !open.continuesWith(gate, priority, rank, now, index, seq);
    const range = opens
      ? (this.#openRange = new QueuedRange(this.#run, gate, gate.tool.name, priority, rank, now, index, seq))
      : open;
    range.append(id, args);
    graph.appendToRange(range);
    this.#answers.expect(index);
    if (opens) dispatcher.lineUp(range);
    if (this.#events.listened)
      this.#events.emit({
        type: "call-add",
        runId: this.#run.id,
        at: now,
        callId: id ?? graph.idAt(index),
        name: gate.tool.name,
        dependsOn: [],
      });
    return index;
  }

  /**
   * Starts a range's next call. In a run that no listener or instrumentation watches, its first
   * attempt stands in for its state: nothing here needs that state before the call ends, and
   * the history needs only what the attempt holds.
   */
  startNext(range: QueuedRange, now: number): void {
    const index = range.next;
    if (!this.#standsIn) {
      this.#attempts.execute(this.#graph.take(index), now);
      return;
    }
    const attempt = Attempt.standingIn(range, index, range.letGo(index), now);
    this.#graph.standIn(index, attempt);
    if (this.#events.observed)
      this.#events.emit({
        type: "call-start",
        runId: this.#run.id,
        at: now,
        callId: attempt.callId,
        name: range.name,
        attempt: 1,
      });
    this.#attempts.run(attempt);
  }
}

/** The state of the call an attempt runs, made now if the attempt stood in for it until now. */
export function stateOf(attempt: Attempt, graph: CallGraph): CallState {
  if (attempt.range === undefined) return attempt.call;
  if (attempt.call !== undefined) return attempt.call;
  const call = attempt.range.stateOf(attempt.index, attempt.args);
  call.phase = "running";
  call.attempts = 1;
  call.startedAt = attempt.startedAt;
  call.attempt = attempt;
  attempt.call = call;
  graph.put(call);
  return call;
}

/**
 * Answers a call whose attempt stood in for it and succeeded at `now`, in a run that takes no
 * more calls: nothing can come to refer to it, and no listener watches, so it never needs state.
 * Returns `now`, when the next call may start.
 */
export function answerStateless(attempt: StandInAttempt, output: unknown, now: number, answers: RunAnswers): number {
  const { range } = attempt;
  const result = toolResult(attempt.callId, range.name, 1, range.addedAt, attempt.startedAt, now, false, true, output);
  answers.placeStateless(attempt.index, result, attempt.gate, attempt.args, range.addedAt);
  return now;
}
