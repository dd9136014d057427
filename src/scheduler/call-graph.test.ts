import { describe, expect, it } from "vitest";
import { inProcessBackend } from "../backend/backend.ts";
import { ToolStatistics } from "../run/executor-stats.ts";
import { defineTool } from "../tool/define-tool.ts";
import { CallGraph } from "./call-graph.ts";
import type { CallState } from "./call-state.ts";
import { Attempt } from "./call-state.ts";
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
