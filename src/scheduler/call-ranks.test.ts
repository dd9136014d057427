import { describe, expect, it } from "vitest";
import { CallGraph } from "./call-graph.ts";
import { RAISE_BUDGET, freshRank, rankAdded } from "./call-ranks.ts";
import { CallState } from "./call-state.ts";
import { idleRunSlots } from "./scheduler.fixture.ts";

/**
 * Ranks cost O(calls + edges) however a graph is added, in one batch or call by call into a live
 * run: counted in estimate reads, the unit of a rank's work, not in time. Each rank, once its call
 * is lined up, is the longest estimated path it heads, as worked out from scratch on the graph.
 */

const run = idleRunSlots();
/** Estimate reads per call that a chain may cost: its own, a raise's, and the rank worked out once. */
const PER_CALL = RAISE_BUDGET + 3;
const estimate = (call: CallState): number => 1 + (call.index % 3);

/** Calls 0…n-1, each depending on the calls `edgesOf(index)` names (earlier or later ones). */
interface Graph {
  calls: CallState[];
  /** Queued calls reported as having staleInLine, for the dispatcher to re-rank. */
  staleInLine: CallState[];
  /** Estimate reads so far. */
  reads: () => number;
  /** Lines a call up, as the dispatcher does: its rank is worked out, and it is queued. */
  lineUp: (call: CallState) => void;
}

function build(n: number, edgesOf: (index: number) => number[]): Graph {
  const graph = new CallGraph({ lineUp: () => undefined, stateOf: () => undefined as never });
  const calls: CallState[] = [];
  const staleInLine: CallState[] = [];
  let reads = 0;
  const counted = (call: CallState): number => (reads++, estimate(call));
  const lineUp = (call: CallState): void => {
    freshRank(call, counted);
    call.phase = "queued";
  };
  for (let index = 0; index < n; index++) {
    const call = new CallState(run, index, index, `c${index}`, "step", 0);
    graph.append(call);
    graph.register(call);
    graph.link(
      call,
      edgesOf(index).map((dependency) => `c${dependency}`),
    );
    rankAdded(call, staleInLine, counted);
    calls.push(call);
    // A call whose dependencies are all added and none pending is lined up at once, as intake does.
    if (call.pendingDependencies === 0) lineUp(call);
  }
  return { calls, staleInLine, reads: () => reads, lineUp };
}

/** Runs the graph to the end: the dispatcher re-ranks what rose, then calls finish in turn and their dependents line up. */
function runToTheEnd(graph: Graph): Map<CallState, number> {
  const rankWhenLinedUp = new Map<CallState, number>();
  for (const call of graph.staleInLine.splice(0)) graph.lineUp(call);
  const queued = graph.calls.filter((call) => call.phase === "queued");
  for (const call of queued) rankWhenLinedUp.set(call, call.rank);
  while (queued.length > 0) {
    const done = queued.pop() as CallState;
    done.phase = "done";
    for (const dependent of done.dependents) {
      if (--dependent.pendingDependencies > 0) continue;
      graph.lineUp(dependent);
      rankWhenLinedUp.set(dependent, dependent.rank);
      queued.push(dependent);
    }
  }
  return rankWhenLinedUp;
}

/** Each call's longest estimated path, from scratch. */
function longestPaths(calls: readonly CallState[]): Map<CallState, number> {
  const paths = new Map<CallState, number>();
  const pathOf = (call: CallState): number => {
    const known = paths.get(call);
    if (known !== undefined) return known;
    const path = estimate(call) + Math.max(0, ...call.dependents.map(pathOf));
    paths.set(call, path);
    return path;
  };
  // Deepest first, so that the recursion stays shallow on a long chain.
  for (const call of [...calls].reverse()) pathOf(call);
  return paths;
}

const chain = (index: number): number[] => (index === 0 ? [] : [index - 1]);
const fanIn =
  (n: number) =>
  (index: number): number[] =>
    index === n - 1 ? Array.from({ length: n - 1 }, (_, dependency) => dependency) : [];
// Each call depends on up to three others, earlier or later, never on a cycle: a call depends only
// on calls before it in a shuffled order (the position `order` gives). Later ones are forward references.
const order = (n: number, index: number): number => (index * 7919) % n;
const dag =
  (n: number) =>
  (index: number): number[] =>
    [index - 1, index + 1, (index * 13 + 5) % n].filter(
      (dependency, position, all) =>
        dependency >= 0 &&
        dependency < n &&
        all.indexOf(dependency) === position &&
        order(n, dependency) < order(n, index),
    );

describe("ranks", () => {
  it("of a chain added call by call: linear work, and each rank the whole path it heads", () => {
    for (const n of [1000, 8000]) {
      const graph = build(n, chain);
      const ranks = runToTheEnd(graph);
      expect(graph.reads()).toBeLessThanOrEqual(PER_CALL * n);
      const paths = longestPaths(graph.calls);
      expect(graph.calls.filter((call) => ranks.get(call) !== paths.get(call))).toEqual([]);
    }
  });

  it("of a fan-in and of a graph with forward references: linear in calls and edges, each rank its longest path", () => {
    for (const [n, shape, bound] of [
      [1000, fanIn(1000), 3],
      [8000, fanIn(8000), 3],
      [1000, dag(1000), 5],
      [8000, dag(8000), 5],
    ] as const) {
      const graph = build(n, shape);
      const ranks = runToTheEnd(graph);
      expect(graph.reads()).toBeLessThanOrEqual(bound * n);
      const paths = longestPaths(graph.calls);
      expect(graph.calls.filter((call) => ranks.get(call) !== paths.get(call))).toEqual([]);
    }
  });

  it("of calls added while others run: a short raise at once; past the budget, the queued call above marked once", () => {
    const graph = build(2, chain);
    const [head] = graph.calls as [CallState];
    expect(graph.staleInLine).toEqual([]);
    const pathOf = (calls: readonly CallState[]): number => calls.reduce((sum, call) => sum + estimate(call), 0);
    expect(head.rank).toBe(pathOf(graph.calls));
    const below = (parent: CallState): CallState => {
      const index = graph.calls.length;
      const call = new CallState(run, index, index, `c${index}`, "step", 0);
      call.dependencies = [parent];
      parent.dependents = [...parent.dependents, call];
      rankAdded(call, graph.staleInLine, estimate);
      graph.calls.push(call);
      return call;
    };
    // Within the budget, every call above is raised as the chain grows.
    while (graph.calls.length <= RAISE_BUDGET) below(graph.calls.at(-1) as CallState);
    expect(graph.staleInLine).toEqual([]);
    expect(head.rank).toBe(pathOf(graph.calls));
    // Past it, the head is marked stale and handed to the dispatcher once, however many more come.
    below(graph.calls.at(-1) as CallState);
    expect(graph.staleInLine).toEqual([head]);
    for (let more = 0; more < 50; more++) below(graph.calls.at(-1) as CallState);
    expect(graph.staleInLine).toEqual([head]);
    graph.lineUp(head);
    expect(head.rank).toBe(pathOf(graph.calls));
  });

  it("of a call added beside a longer path: nothing above it is marked", () => {
    // c0 heads c1 (estimate 2) and c2 (estimate 3); a call of estimate 1 (index 3) below c0 is shorter than both.
    const graph = build(3, (index) => (index === 0 ? [] : [0]));
    const [head] = graph.calls as [CallState];
    for (const call of graph.staleInLine.splice(0)) graph.lineUp(call);
    const short = new CallState(run, 3, 3, "c3", "step", 0);
    short.dependencies = [head];
    head.dependents = [...head.dependents, short];
    rankAdded(short, graph.staleInLine, estimate);
    expect(head.rankStale).toBe(false);
    expect(graph.staleInLine).toEqual([]);
  });
});
