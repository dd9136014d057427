import type { CallState } from "./call-state.ts";

/**
 * Ranks for the critical-path order. A call's rank is its estimated duration plus the longest
 * rank among its dependents: the remaining path it heads. A new call can lengthen the paths of
 * every call above it. Most raises stop within a few calls, where a call already heads a path at
 * least as long; those are made at once. But a chain that grows call by call would be walked
 * again on every add, so a raise goes at most `RAISE_BUDGET` calls up: past that, the calls above
 * are marked stale instead, the walk stopping at one already stale. Only queued calls compare
 * ranks, so a stale rank is worked out once its call is in line and compared with another, in
 * one walk over the stale calls below it; the dispatcher keeps the stale calls in line for that
 * (`Dispatcher.staleInLine`). However a graph is added, in one batch or call by call into a live
 * run, each call and edge costs O(1) as it is added, and each stale rank is worked out at most
 * once per marking.
 */

/** How many calls above a new one its raise may walk before it marks the rest stale. */
export const RAISE_BUDGET = 16;

/** What a call is expected to take: its tool's learned estimate. */
export const expectedDuration = (call: CallState): number => call.gate.expectedDurationMs;

/**
 * Ranks a call just linked into the graph (usually nothing is below it yet, so this costs one
 * estimate), and raises the calls above it whose paths it lengthens, or marks them stale.
 */
export function rankAdded(
  call: CallState,
  staleInLine: CallState[],
  estimateMs: (call: CallState) => number = expectedDuration,
): void {
  // New, so not ranked yet: worked out now, with whatever waits below it already (forward references).
  call.rankStale = true;
  freshRank(call, estimateMs);
  let budget = RAISE_BUDGET;
  const raised = [call];
  while (raised.length > 0) {
    const child = raised.pop() as CallState;
    for (const parent of child.dependencies) {
      // A stale parent is worked out later, whatever is below it; an answered one no longer counts.
      if (parent.rankStale || parent.phase === "done") continue;
      const rank = estimateMs(parent) + child.rank;
      if (rank <= parent.rank) continue;
      if (budget === 0) {
        markStale(parent, staleInLine);
        continue;
      }
      budget--;
      parent.rank = rank;
      parent.parkedIn?.update(parent);
      // Only waiting calls have unanswered calls above them.
      if (parent.phase === "waiting") raised.push(parent);
    }
  }
}

/**
 * Marks the call stale, and every unanswered call above it, stopping at one already stale.
 * Queued ones go to `staleInLine`. Only waiting calls have unanswered calls above them, so the
 * walk goes on through those alone.
 */
function markStale(call: CallState, staleInLine: CallState[]): void {
  call.rankStale = true;
  const stack = [call];
  while (stack.length > 0) {
    const stale = stack.pop() as CallState;
    if (stale.phase === "queued") staleInLine.push(stale);
    if (stale.phase !== "waiting") continue;
    for (const parent of stale.dependencies)
      if (!parent.rankStale && parent.phase !== "done") {
        parent.rankStale = true;
        stack.push(parent);
      }
  }
}

/**
 * The call's rank, worked out first if it is stale: an iterative post-order walk over the stale
 * calls below it, each ranked after its dependents. Fresh calls below are read, not walked. A
 * dependent reached again while still on the walk would close a cycle: its rank is read as it is.
 */
export function freshRank(call: CallState, estimateMs: (call: CallState) => number = expectedDuration): number {
  if (!call.rankStale) return call.rank;
  call.rankStale = false;
  const stack = [call];
  const nextDependent = [0];
  while (stack.length > 0) {
    const top = stack.length - 1;
    const current = stack[top] as CallState;
    const index = nextDependent[top] as number;
    const dependents = current.dependents;
    if (index < dependents.length) {
      nextDependent[top] = index + 1;
      const dependent = dependents[index] as CallState;
      if (dependent.rankStale) {
        dependent.rankStale = false;
        stack.push(dependent);
        nextDependent.push(0);
      }
      continue;
    }
    stack.pop();
    nextDependent.pop();
    let longestDependent = 0;
    for (const dependent of dependents) if (dependent.rank > longestDependent) longestDependent = dependent.rank;
    current.rank = estimateMs(current) + longestDependent;
  }
  return call.rank;
}
