import { Attempt, GENERATED_ID_PREFIX, generatedId, linkDependency, type CallState } from "./call-state.ts";
import { QueuedRange } from "./queued-range.ts";
import { IdIndex } from "../shared/id-index.ts";

/**
 * Where a call of the run is, by position: its state while it is in play; the range that holds
 * it while it waits in one (it has no state of its own yet); the attempt that stands in for it
 * while it runs without state (see `Attempt`); undefined once it is answered and forgotten (see
 * `forget`).
 */
export type CallSlot = CallState | QueuedRange | Attempt | undefined;

/** What the graph asks of its run about calls that have no state of their own. */
export interface StatelessCalls {
  /** Where a call taken out of its range ahead of its turn goes: it is still queued. */
  lineUp(call: CallState): void;
  /** The state of a call whose attempt stood in for it, made now; the graph holds it from then on. */
  stateOf(attempt: Attempt): CallState;
}

/**
 * The calls of one run and the dependencies between them: ids (given or generated), links made
 * by `$ref`s and `dependsOn`, references to calls not added yet, and cycles (ranks are in
 * call-ranks.ts). It knows nothing of running or answering calls, beyond letting go of an answered one's state
 * when told to.
 */
export class CallGraph {
  /** Every call, by position in the order added; room may be reserved past `size`. */
  #calls: CallSlot[] = [];
  #size = 0;
  /** Positions by id, except generated `call_<index>` ids, which are found by position instead. */
  readonly #named = new IdIndex();
  /** Calls waiting for an id that has not been added yet, by that id. */
  readonly #awaited = new Map<string, CallState[]>();
  /** The plain `call_<index>` id last handed out: a call with it is found by position, unnamed. */
  #positionalId: string | undefined;
  readonly #run: StatelessCalls;

  constructor(run: StatelessCalls) {
    this.#run = run;
  }

  get size(): number {
    return this.#size;
  }

  /** Makes room for `count` more calls at once: growing a large array step by step costs more than the calls. */
  reserve(count: number): void {
    if (this.#size === 0 && this.#calls.length < count) this.#calls = new Array<CallSlot>(count);
  }

  /** Makes room for `count` more given ids: a batch whose calls carry ids fills the index without growing it. */
  reserveIds(count: number): void {
    this.#named.reserve(count);
  }

  slotAt(index: number): CallSlot {
    return this.#calls[index];
  }

  /** `call_<index>` for the next call, or `call_<index>_<n>` when a caller already took that id. */
  generateId(): string {
    const id = generatedId(this.#size);
    if (this.#named.size === 0 || !this.#named.has(id)) return (this.#positionalId = id);
    let fallback = id;
    for (let n = 1; this.#named.has(fallback); n++) fallback = `${id}_${n}`;
    return fallback;
  }

  /** Whether the next call can have the plain `call_<index>` id without anyone having named or awaited it. */
  positionalIdIsFree(): boolean {
    if (this.#named.size === 0 && this.#awaited.size === 0) return true;
    const id = generatedId(this.#size);
    return !this.#named.has(id) && !this.#awaited.has(id);
  }

  /** Whether a call has this id. */
  has(id: string): boolean {
    return this.#positionOf(id) !== undefined;
  }

  /** Whether a call added already waits for this id. */
  isAwaited(id: string): boolean {
    return this.#awaited.size > 0 && this.#awaited.has(id);
  }

  /**
   * The call with this id, given state if it had none: one still in a range is taken out of it,
   * and stays queued; one running without state gets it from its attempt.
   */
  find(id: string): CallState | undefined {
    const index = this.#positionOf(id);
    if (index === undefined) return undefined;
    const slot = this.#calls[index];
    if (slot instanceof QueuedRange) {
      const call = this.take(index);
      this.#run.lineUp(call);
      return call;
    }
    return Attempt.is(slot) ? this.#run.stateOf(slot) : slot;
  }

  /**
   * The state of the call at `index`, given state if it had none (one still in a range is taken
   * out of it and is no longer queued); undefined for a forgotten call. For stopping a run.
   */
  stateAt(index: number): CallState | undefined {
    const slot = this.#calls[index];
    if (slot instanceof QueuedRange) return this.take(index);
    return Attempt.is(slot) ? this.#run.stateOf(slot) : slot;
  }

  #positionOf(id: string): number | undefined {
    const named = this.#named.get(id);
    if (named !== undefined || !id.startsWith(GENERATED_ID_PREFIX)) return named;
    const index = Number(id.slice(GENERATED_ID_PREFIX.length));
    return this.#calls[index] !== undefined && this.idAt(index) === id ? index : undefined;
  }

  /** The id of the call at `index`, wherever it is; not for a forgotten one. */
  idAt(index: number): string {
    const slot = this.#calls[index];
    if (slot instanceof QueuedRange) return slot.idAt(index);
    return Attempt.is(slot) ? slot.callId : (slot as CallState).id;
  }

  /** Takes a call's place in the run's order; a duplicate id is appended but never registered. */
  append(call: CallState): void {
    this.#calls[this.#size++] = call;
  }

  /**
   * Gives the id to the call about to take the next place, unless a call has it already (false
   * then, and nothing changes). For a call joining a range: one look at the index, not two.
   */
  claimNextId(id: string): boolean {
    if (id.startsWith(GENERATED_ID_PREFIX) && this.#positionOf(id) !== undefined) return false;
    return this.#named.addIfAbsent(id, this.#size);
  }

  /** Takes the next place in the run's order for a call waiting in `range`; its given id, if any, was claimed first (`claimNextId`). */
  appendToRange(range: QueuedRange): void {
    this.#calls[this.#size++] = range;
  }

  /** Gives the call at `index`, which waits in a range, its own state; it is no longer queued anywhere. */
  take(index: number): CallState {
    const call = (this.#calls[index] as QueuedRange).take(index);
    this.#calls[index] = call;
    return call;
  }

  /** The call at `index` has left its range and runs without state: `attempt` stands in for it. */
  standIn(index: number, attempt: Attempt): void {
    this.#calls[index] = attempt;
  }

  /** Holds the state just made for a call whose attempt stood in for it. */
  put(call: CallState): void {
    this.#calls[call.index] = call;
  }

  /**
   * Lets go of an answered call's state. Only once the run takes no more calls: until then, a
   * call added later may refer to it. Calls that depend on it keep it as their dependency.
   */
  forget(index: number): void {
    this.#calls[index] = undefined;
  }

  /**
   * Makes the call findable by its id and links the calls that were waiting for that id.
   * Returns whether there were any: only then can this call have closed a cycle.
   */
  register(call: CallState): boolean {
    if (call.id !== this.#positionalId || this.#calls[this.#size - 1] !== call) this.#named.set(call.id, call.index);
    this.#positionalId = undefined;
    // Most runs never refer to a call before adding it: no lookup by id for them.
    if (this.#awaited.size === 0) return false;
    const waiters = this.#awaited.get(call.id);
    if (waiters === undefined) return false;
    this.#awaited.delete(call.id);
    for (const waiter of waiters) linkDependency(waiter, call, true);
    return true;
  }

  /**
   * Links the call to what it depends on, counting the dependencies it must wait for. Ids not
   * added yet are awaited. Returns a dependency that has already failed, if there is one.
   */
  link(call: CallState, dependencyIds: Iterable<string>): CallState | undefined {
    for (const dependencyId of dependencyIds) {
      const dependency = this.find(dependencyId);
      if (dependency === undefined) {
        const waiting = this.#awaited.get(dependencyId);
        if (waiting) waiting.push(call);
        else this.#awaited.set(dependencyId, [call]);
        call.pendingDependencies++;
        continue;
      }
      if (dependency.result !== undefined && !dependency.result.ok) return dependency;
      const waits = dependency.result === undefined;
      linkDependency(call, dependency, waits);
      if (waits) call.pendingDependencies++;
    }
    return undefined;
  }

  /**
   * The calls on a cycle through `call` (its strongly connected component among unanswered
   * calls), in the order added; empty when there is none.
   */
  cycleThrough(call: CallState): CallState[] {
    const reachable = new Set<CallState>();
    const stack = [...call.dependencies];
    while (stack.length > 0) {
      const next = stack.pop() as CallState;
      if (next.result !== undefined || reachable.has(next)) continue;
      reachable.add(next);
      stack.push(...next.dependencies);
    }
    if (!reachable.has(call)) return [];
    const onCycle = new Set<CallState>([call]);
    stack.push(call);
    while (stack.length > 0) {
      for (const dependent of (stack.pop() as CallState).dependents) {
        if (reachable.has(dependent) && !onCycle.has(dependent)) {
          onCycle.add(dependent);
          stack.push(dependent);
        }
      }
    }
    return [...onCycle].sort((a, b) => a.seq - b.seq);
  }

  /** Removes and returns the calls still waiting for ids that never arrived, with those ids. */
  takeUnresolved(): [missingId: string, waiters: CallState[]][] {
    if (this.#awaited.size === 0) return [];
    const unresolved = [...this.#awaited];
    this.#awaited.clear();
    return unresolved;
  }
}
