import { describe, expect, it } from "vitest";
import { inProcessBackend } from "../backend/backend.ts";
import { ToolStatistics } from "../run/executor-stats.ts";
import { defineTool } from "../tool/define-tool.ts";
import { CallGraph } from "./call-graph.ts";
import { Attempt, CallState } from "./call-state.ts";
import { QueuedRange } from "./queued-range.ts";
import { ToolGate } from "./tool-gate.ts";
import { idleRunSlots } from "./scheduler.fixture.ts";

/** A run's slots, which these tests never use: the graph is tested on its own. */
const run = idleRunSlots();

/**
 * A call that runs without state (its attempt stands in for it) exists today only in `run()`,
 * which adds every call before any starts, so no call added through the API can meet one. The
 * graph must still find such a call, by either kind of id, and ask its run for the state.
 */
describe("CallGraph with a call whose attempt stands in for it", () => {
  const gate = new ToolGate(
    defineTool({ name: "step", execute: () => "done" }),
    undefined,
    new ToolStatistics(),
    inProcessBackend,
  );

  function graphWithRunningCalls(): { graph: CallGraph; attempts: Attempt[]; made: CallState[] } {
    const made: CallState[] = [];
    const graph: CallGraph = new CallGraph({
      lineUp: () => undefined,
      stateOf: (attempt) => {
        const call = (attempt.range as QueuedRange).stateOf(attempt.index, attempt.args);
        call.attempt = attempt;
        attempt.call = call;
        graph.put(call);
        made.push(call);
        return call;
      },
    });
    const range = new QueuedRange(run, gate, "step", 0, 0, 0, 0, 0);
    for (const id of [undefined, "named"]) {
      range.append(id, { n: graph.size });
      if (id !== undefined) graph.claimNextId(id);
      graph.appendToRange(range);
    }
    const attempts = [0, 1].map((index) => Attempt.standingIn(range, index, range.letGo(index), 10 + index));
    attempts.forEach((attempt, index) => graph.standIn(index, attempt));
    return { graph, attempts, made };
  }

  it("knows its id, generated or given, without making its state", () => {
    const { graph, made } = graphWithRunningCalls();
    expect([graph.idAt(0), graph.idAt(1)]).toEqual(["call_0", "named"]);
    expect([graph.has("call_0"), graph.has("named"), graph.has("call_1")]).toEqual([true, true, false]);
    expect(made).toEqual([]);
  });

  it("finds it by either id, with the state its run made from the attempt, and holds that state from then on", () => {
    const { graph, attempts, made } = graphWithRunningCalls();
    const found = graph.find("named");
    expect(found).toBe(made[0]);
    expect(found).toMatchObject({ id: "named", index: 1, name: "step", args: { n: 1 }, attempt: attempts[1] });
    expect(graph.slotAt(1)).toBe(found);
    expect(graph.find("named")).toBe(found);
    expect(graph.find("call_0")).toMatchObject({ id: "call_0", index: 0, args: { n: 0 } });
    expect(made).toHaveLength(2);
  });
});

/**
 * Ranking costs O(calls + edges) for a batch, however it was written: counted in estimate reads,
 * the unit of a rank's work, not in time. Ranks come out as ranking each call as it came gives.
 */
describe("CallGraph ranks a batch in linear work", () => {
  /** Calls 0…n-1, each depending on the calls `edgesOf(index)` names (earlier or later ones); `added` hears of each as it is added. */
  function build(
    n: number,
    edgesOf: (index: number) => number[],
    added: (graph: CallGraph, call: CallState) => void = () => undefined,
  ): { graph: CallGraph; calls: CallState[] } {
    const graph = new CallGraph({ lineUp: () => undefined, stateOf: () => undefined as never });
    const calls: CallState[] = [];
    for (let index = 0; index < n; index++) {
      const call = new CallState(run, index, index, `c${index}`, "step", 0);
      graph.append(call);
      graph.register(call);
      graph.link(
        call,
        edgesOf(index).map((dependency) => `c${dependency}`),
      );
      added(graph, call);
      calls.push(call);
    }
    return { graph, calls };
  }

  function rankedOneByOne(n: number, edgesOf: (index: number) => number[]): { ranks: number[]; reads: number } {
    let reads = 0;
    const { calls } = build(n, edgesOf, (graph, call) =>
      graph.rank(call, (estimated) => (reads++, 1 + (estimated.index % 3))),
    );
    return { ranks: calls.map((call) => call.rank), reads };
  }

  function rankedAsABatch(n: number, edgesOf: (index: number) => number[]): { ranks: number[]; reads: number } {
    let reads = 0;
    const { graph, calls } = build(n, edgesOf);
    graph.rankBatch(calls, (call) => (reads++, 1 + (call.index % 3)));
    return { ranks: calls.map((call) => call.rank), reads };
  }

  const chain = (index: number): number[] => (index === 0 ? [] : [index - 1]);
  const fanIn =
    (n: number) =>
    (index: number): number[] =>
      index === n - 1 ? Array.from({ length: n - 1 }, (_, dependency) => dependency) : [];
  // Each call depends on up to three others, earlier or later in the batch, never on a cycle: a
  // call depends only on calls before it in a shuffled order (the position `order` gives).
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

  it("a chain: linear in its length, where one by one is quadratic", () => {
    for (const n of [1000, 4000]) expect(rankedAsABatch(n, chain).reads).toBeLessThanOrEqual(2 * n);
    expect(rankedOneByOne(1000, chain).reads).toBeGreaterThan(100_000);
    expect(rankedAsABatch(2000, chain).ranks).toEqual(rankedOneByOne(2000, chain).ranks);
  });

  it("a fan-in and a random graph with forward references: linear in calls and edges, with the same ranks", () => {
    for (const n of [1000, 4000]) {
      expect(rankedAsABatch(n, fanIn(n)).reads).toBeLessThanOrEqual(3 * n);
      expect(rankedAsABatch(n, dag(n)).reads).toBeLessThanOrEqual(5 * n);
    }
    expect(rankedAsABatch(300, fanIn(300)).ranks).toEqual(rankedOneByOne(300, fanIn(300)).ranks);
    expect(rankedAsABatch(2000, dag(2000)).ranks).toEqual(rankedOneByOne(2000, dag(2000)).ranks);
  });
});
