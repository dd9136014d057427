import type { PriorityHeap } from "../shared/priority-heap.ts";
import { CallState, generatedId, type QueueItem, type RunSlots } from "./call-state.ts";
import type { ToolGate } from "./tool-gate.ts";

/**
 * Consecutive calls of one run to one tool that wait in line as a single item: they depend on
 * nothing, nothing depends on them yet, and their tool needs nothing decided call by call
 * before they queue. A call gets its `CallState` only when it starts (often not even then: see
 * `Attempt`), or when a later call comes to depend on it, so a batch of 200k such calls holds
 * no per-call state while it waits: only the arguments given, and the ids. In every
 * queue the range sorts as its next call would; its calls share priority and rank, and their
 * arrival numbers are consecutive, so no other item sorts between two of them, except one of
 * its own calls taken out ahead of its turn (the range moves behind it when it steps over it).
 */
export class QueuedRange {
  heapIndex = -1;
  parkedIn: PriorityHeap<QueueItem> | undefined;
  readonly run: RunSlots;
  readonly gate: ToolGate;
  readonly name: string;
  readonly priority: number;
  readonly rank: number;
  readonly addedAt: number;
  /** The next call's run position, and its arrival number, by which the range sorts. */
  next: number;
  seq: number;
  /** One past the last call's run position. */
  end: number;
  /** A range's calls claim no resources (see `ToolGate.queuesInRanges`). */
  readonly claims = undefined;
  readonly #first: number;
  readonly #firstSeq: number;
  /** Calls still in the range. */
  #left = 0;
  /** Ids given by the caller, by offset from the first call; a call without one has its generated id. */
  #ids: (string | undefined)[] | undefined;
  /** Arguments by offset; a call without any gets a fresh `{}` when it starts. */
  #args: (Record<string, unknown> | undefined)[] | undefined;
  /** Positions of calls taken out ahead of their turn, because a later call came to depend on them. */
  #takenEarly: Set<number> | undefined;

  constructor(
    run: RunSlots,
    gate: ToolGate,
    name: string,
    priority: number,
    rank: number,
    addedAt: number,
    first: number,
    firstSeq: number,
  ) {
    this.run = run;
    this.gate = gate;
    this.name = name;
    this.priority = priority;
    this.rank = rank;
    this.addedAt = addedAt;
    this.next = this.end = this.#first = first;
    this.seq = this.#firstSeq = firstSeq;
  }

  /** Whether a call with these traits can join the range as its next position. */
  continuesWith(gate: ToolGate, priority: number, rank: number, addedAt: number, index: number, seq: number): boolean {
    return (
      this.#left > 0 &&
      gate === this.gate &&
      index === this.end &&
      seq === this.#firstSeq + (index - this.#first) &&
      priority === this.priority &&
      rank === this.rank &&
      addedAt === this.addedAt
    );
  }

  /** The dispatcher admitted the range's next call at `now`: the run starts it, and the range lets go of it. */
  startNext(now: number): void {
    this.run.startNext(this, now);
  }

  /** Adds the call at position `end`; `id` undefined when it has a generated one. */
  append(id: string | undefined, args: Record<string, unknown> | undefined): void {
    const offset = this.end - this.#first;
    if (id !== undefined) (this.#ids ??= [])[offset] = id;
    if (args !== undefined) (this.#args ??= [])[offset] = args;
    this.end++;
    this.#left++;
  }

  /** The id of the call at `index` (a position this range holds or held): given, or generated. */
  idAt(index: number): string {
    return this.#ids?.[index - this.#first] ?? generatedId(index);
  }

  /** Makes the state of the call at `index` (a position this range holds), and lets go of it: it is queued on its own now. */
  take(index: number): CallState {
    const call = this.stateOf(index, this.letGo(index));
    call.phase = "queued";
    return call;
  }

  /**
   * Lets go of the call at `index` (a position this range holds), and returns its arguments.
   * The range leaves its queue with its last call.
   */
  letGo(index: number): Record<string, unknown> {
    const offset = index - this.#first;
    const given = this.#args?.[offset];
    if (given !== undefined) (this.#args as (Record<string, unknown> | undefined)[])[offset] = undefined;
    if (--this.#left === 0) {
      this.parkedIn?.remove(this);
      this.parkedIn = undefined;
    }
    if (index !== this.next) {
      (this.#takenEarly ??= new Set()).add(index);
    } else {
      let next = index + 1;
      const takenEarly = this.#takenEarly;
      if (takenEarly !== undefined) while (takenEarly.delete(next)) next++;
      this.next = next;
      this.seq = this.#firstSeq + (next - this.#first);
      // Stepping over calls taken out ahead of their turn, the range now sorts after them: move it.
      if (next !== index + 1) this.parkedIn?.update(this);
    }
    return given ?? {};
  }

  /** The state of the call at `index`, which the range held, with the arguments it let go of. */
  stateOf(index: number, args: Record<string, unknown>): CallState {
    const call = new CallState(
      this.run,
      index,
      this.#firstSeq + (index - this.#first),
      this.idAt(index),
      this.name,
      this.addedAt,
    );
    call.gate = this.gate;
    call.priority = this.priority;
    call.rank = this.rank;
    call.args = args;
    return call;
  }
}
