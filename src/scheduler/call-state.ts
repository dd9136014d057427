import type { ResourceClaim, Tool } from "../tool/define-tool.ts";
import { NO_REFERENCES, type ArgumentReference } from "./call-arguments.ts";
import type { ToolResult } from "../run/types.ts";
import type { HeapItem, PriorityHeap } from "../shared/priority-heap.ts";
import type { QueuedRange } from "./queued-range.ts";
import { NO_TOOL_GATE, type ToolGate } from "./tool-gate.ts";

/**
 * Where a call is in its life. `waiting`: for dependencies or async validation. `approval`:
 * for a person to approve it, holding no slot. `queued`: in
 * the ready heap or parked in a gate. `running`: an attempt holds slots. `backoff`: between
 * attempts. `shared`: following an identical call's execution. `done`: answered.
 */
export type CallPhase = "waiting" | "approval" | "queued" | "running" | "backoff" | "shared" | "done";

/** What waits in the scheduler's queues: a call, or a range of independent calls that starts as its next call would. */
export type QueueItem = CallState | QueuedRange;

/** What a run needs from the scheduler about each of its calls. */
export interface RunSlots {
  readonly id: string;
  /** Attempts of this run holding slots right now. */
  active: number;
  maxInFlight: number;
  maxConcurrency: number;
  readonly waiting: PriorityHeap<QueueItem>;
  /** Starts a range's next call, admitted at `now`; the range lets go of it. */
  startNext(range: QueuedRange, now: number): void;
  /** Starts an admitted call's next attempt; `now` is the time it starts. */
  execute(call: CallState, now: number): void;
  /** Answers a call that followed an identical call in flight, with that call's result. */
  answerShared(call: CallState, leaderResult: ToolResult): void;
  /** The call this one followed was cancelled with its own run: this one runs by itself. */
  rejoin(call: CallState): void;
}

/** The prefix of generated ids: a call without one of its own is `call_<its position in the run>`. */
export const GENERATED_ID_PREFIX = "call_";

/**
 * Generated ids are the same strings in every run, so the first ones are made once and shared:
 * a batch without ids then allocates none, and its results point at strings the collector
 * no longer copies. Bounded, so that one huge batch leaves at most about 0.6 MB behind.
 */
const sharedGeneratedIds: string[] = [];
const SHARED_GENERATED_IDS = 16_384;

/** The id `call_<index>` of a call without one of its own. */
export function generatedId(index: number): string {
  if (index >= SHARED_GENERATED_IDS) return GENERATED_ID_PREFIX + index;
  // Filled in order, so that the table stays a dense array.
  while (sharedGeneratedIds.length <= index) sharedGeneratedIds.push(GENERATED_ID_PREFIX + sharedGeneratedIds.length);
  return sharedGeneratedIds[index] as string;
}

/**
 * One attempt of a call. It holds its slots until its promise really settles.
 *
 * A call that starts straight out of a range, in a run that no listener or instrumentation
 * watches, runs without a `CallState`: its first attempt stands in for it, with what the tool
 * and its result need, and its range makes the state only if something comes to need it (a
 * failure, a timeout, a cancellation, a call added later that refers to it, an end while the
 * run still takes calls). Most such calls just succeed, and for a call that does nothing,
 * making that state was the largest single part of what it cost.
 *
 * One class at run time, so that the hot path sees one shape; two types (`CallAttempt`,
 * `StandInAttempt`), told apart by `range`, so that code reads the state or the range it has
 * without a cast.
 */
export class AttemptRecord {
  /** The call's state; undefined while the attempt stands in for it (see above). */
  call: CallState | undefined;
  readonly run: RunSlots;
  readonly gate: ToolGate;
  readonly callId: string;
  /** The call's position in its run. */
  readonly index: number;
  /** What the tool gets. */
  readonly args: Record<string, unknown>;
  readonly number: number;
  readonly startedAt: number;
  /** The range the call started from when the attempt stands in for it, which can make its state. */
  readonly range: QueuedRange | undefined;
  /** Made when the tool first reads `context.signal`: only a tool that did could have seen an abort. */
  controller: AbortController | undefined;
  settled = false;
  /**
   * Set when a timeout or cancellation answered the call before the attempt settled: what
   * `signal` is aborted with, kept for a tool that reads its signal only afterwards.
   */
  abortReason: DOMException | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    call: CallState | undefined,
    range: QueuedRange | undefined,
    run: RunSlots,
    gate: ToolGate,
    callId: string,
    index: number,
    args: Record<string, unknown>,
    number: number,
    startedAt: number,
  ) {
    this.call = call;
    this.range = range;
    this.run = run;
    this.gate = gate;
    this.callId = callId;
    this.index = index;
    this.args = args;
    this.number = number;
    this.startedAt = startedAt;
  }
}

/** An attempt of a call that has its state. */
export interface CallAttempt extends AttemptRecord {
  readonly range: undefined;
  call: CallState;
}

/** A range's call's first attempt, standing in for its state: `call` is set once the state is made. */
export interface StandInAttempt extends AttemptRecord {
  readonly range: QueuedRange;
  call: CallState | undefined;
}

export type Attempt = CallAttempt | StandInAttempt;

export const Attempt = {
  /** The call's next attempt, starting at `startedAt`. */
  of(call: CallState, startedAt: number): CallAttempt {
    const { run, id, index, args } = call;
    return new AttemptRecord(
      call,
      undefined,
      run,
      call.gate,
      id,
      index,
      args,
      call.attempts + 1,
      startedAt,
    ) as CallAttempt;
  },

  /** The first attempt of the call at `index`, which `range` has let go of, standing in for its state. */
  standingIn(range: QueuedRange, index: number, args: Record<string, unknown>, startedAt: number): StandInAttempt {
    return new AttemptRecord(
      undefined,
      range,
      range.run,
      range.gate,
      range.idAt(index),
      index,
      args,
      1,
      startedAt,
    ) as StandInAttempt;
  },

  /** Whether a value is an attempt (as a graph slot may be). */
  is(value: unknown): value is Attempt {
    return value instanceof AttemptRecord;
  },
};

/** Everything the scheduler knows about one call of one run. */
export class CallState implements HeapItem {
  heapIndex = -1;
  /** The heap the call sits in while queued: the ready heap or a gate's waiting room. */
  parkedIn: PriorityHeap<QueueItem> | undefined;

  readonly run: RunSlots;
  /** Position in its run: where its result goes. */
  readonly index: number;
  /** Executor-wide arrival order: the last tie-breaker. */
  readonly seq: number;
  readonly id: string;
  readonly name: string;
  readonly addedAt: number;

  /** Its tool's gate once intake has taken the call in; `NO_TOOL_GATE` for a call refused before that. */
  gate: ToolGate = NO_TOOL_GATE;
  /** The arguments the tool gets; a shared, frozen placeholder until they are read (never given to a tool). */
  args: Record<string, unknown> = NO_ARGS;
  references: readonly ArgumentReference[] = NO_REFERENCES;
  /** Shared empty arrays until the first link: most calls have no edges at all. */
  dependencies: readonly CallState[] = NO_CALLS;
  dependents: readonly CallState[] = NO_CALLS;
  pendingDependencies = 0;
  priority = 0;
  /** Estimated remaining path: this call's duration plus its longest chain of dependents. */
  rank = 0;
  /** Calls were added below it since `rank` was worked out: it is worked out again before it counts (see call-ranks.ts). */
  rankStale = false;
  timeoutMs: number | undefined;
  claims: ResourceClaim[] | undefined;

  phase: CallPhase = "waiting";
  /** A person (or the approval policy) approved it: it is not asked again. */
  approved = false;
  attempts = 0;
  startedAt = -1;
  attempt: Attempt | undefined;
  backoffTimer: ReturnType<typeof setTimeout> | undefined;
  /** Canonical key of an idempotent or cached call, for sharing and caching. */
  shareKey: string | undefined;
  followers: CallState[] | undefined;
  leader: CallState | undefined;
  /** Longest measured chain ending at this call. */
  pathMs = 0;
  result: ToolResult | undefined;

  constructor(run: RunSlots, index: number, seq: number, id: string, name: string, addedAt: number) {
    this.run = run;
    this.index = index;
    this.seq = seq;
    this.id = id;
    this.name = name;
    this.addedAt = addedAt;
  }

  /** The tool the call names, once intake has taken it in (every call prepared or run). */
  get tool(): Tool {
    return this.gate.tool;
  }

  /** The dispatcher admitted the call at `now`: it leaves the line and its next attempt starts. */
  startNext(now: number): void {
    if (this.parkedIn !== undefined) {
      this.parkedIn.remove(this);
      this.parkedIn = undefined;
    }
    this.run.execute(this, now);
  }
}

const NO_ARGS: Record<string, unknown> = Object.freeze({});

/** Shared by calls without edges. Not frozen, for the same reason as `NO_REFERENCES`; `readonly` keeps it empty. */
const NO_CALLS: readonly CallState[] = [];

/** Records that `dependent` needs `dependency`'s result; `waits` when that result is still to come. */
export function linkDependency(dependent: CallState, dependency: CallState, waits: boolean): void {
  if (dependent.dependencies === NO_CALLS) dependent.dependencies = [dependency];
  else (dependent.dependencies as CallState[]).push(dependency);
  if (!waits) return;
  if (dependency.dependents === NO_CALLS) dependency.dependents = [dependent];
  else (dependency.dependents as CallState[]).push(dependent);
}

/** Ready calls start by priority, then longest estimated remaining path, then arrival. */
export function startsBefore(a: QueueItem, b: QueueItem): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.rank !== b.rank) return a.rank > b.rank;
  return a.seq < b.seq;
}
