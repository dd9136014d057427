import { linkDependency, type CallState } from "./call-state.ts";

const GENERATED_PREFIX = "call_";

/**
 * The calls of one run and the dependencies between them: ids (given or generated), links made
 * by `$ref`s and `dependsOn`, references to calls not added yet, cycles, and each call's rank.
 * It knows nothing of running or answering calls.
 */
export class CallGraph {
  /** Every call, in the order added. */
  readonly calls: CallState[] = [];
  /** Calls by id, except generated `call_<index>` ids, which are found by position instead. */
  readonly #named = new Map<string, CallState>();
  /** Calls waiting for an id that has not been added yet, by that id. */
  readonly #awaited = new Map<string, CallState[]>();
  /** The plain `call_<index>` id last handed out: a call with it is found by position, unnamed. */
  #positionalId: string | undefined;

  get size(): number {
    return this.calls.length;
  }

  /** `call_<index>` for the next call, or `call_<index>_<n>` when a caller already took that id. */
  generateId(): string {
    const id = GENERATED_PREFIX + this.calls.length;
    if (this.#named.size === 0 || !this.#named.has(id)) return (this.#positionalId = id);
    let fallback = id;
    for (let n = 1; this.#named.has(fallback); n++) fallback = `${id}_${n}`;
    return fallback;
  }

  find(id: string): CallState | undefined {
    const named = this.#named.get(id);
    if (named !== undefined || !id.startsWith(GENERATED_PREFIX)) return named;
    const call = this.calls[Number(id.slice(GENERATED_PREFIX.length))];
    return call !== undefined && call.id === id ? call : undefined;
  }

  /** Takes a call's place in the run's order; a duplicate id is appended but never registered. */
  append(call: CallState): void {
    this.calls.push(call);
  }

  /**
   * Makes the call findable by its id and links the calls that were waiting for that id.
   * Returns whether there were any: only then can this call have closed a cycle.
   */
  register(call: CallState): boolean {
    if (call.id !== this.#positionalId || this.calls.at(-1) !== call) this.#named.set(call.id, call);
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

  /**
   * Rank = the call's estimated duration + the longest chain of dependents after it. A new call
   * can lengthen the chains of everything it depends on, so the raise ripples up the graph.
   */
  rank(call: CallState, estimateMs: (call: CallState) => number): void {
    let longestDependent = 0;
    for (const dependent of call.dependents) longestDependent = Math.max(longestDependent, dependent.rank);
    call.rank = estimateMs(call) + longestDependent;
    if (call.dependencies.length === 0) return;
    const stack = [call];
    while (stack.length > 0) {
      const child = stack.pop() as CallState;
      for (const parent of child.dependencies) {
        if (parent.phase !== "waiting" && parent.phase !== "queued") continue;
        const rank = estimateMs(parent) + child.rank;
        if (rank <= parent.rank) continue;
        parent.rank = rank;
        parent.parkedIn?.update(parent);
        stack.push(parent);
      }
    }
  }

  /** Removes and returns the calls still waiting for ids that never arrived, with those ids. */
  takeUnresolved(): [missingId: string, waiters: CallState[]][] {
    if (this.#awaited.size === 0) return [];
    const unresolved = [...this.#awaited];
    this.#awaited.clear();
    return unresolved;
  }
}
