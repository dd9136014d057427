// What the scheduler's unit tests stand on: a run that never starts anything, and gates.
import { inProcessBackend } from "../backend/backend.ts";
import { ToolStatistics } from "../run/executor-stats.ts";
import { PriorityHeap } from "../shared/priority-heap.ts";
import { defineTool } from "../tool/define-tool.ts";
import { startsBefore, type QueueItem, type RunSlots } from "./call-state.ts";
import { ToolGate } from "./tool-gate.ts";

/** A run's slots, for tests of a part on its own: nothing is ever started through them. */
export function idleRunSlots(): RunSlots {
  return {
    id: "run",
    active: 0,
    maxInFlight: 0,
    maxConcurrency: 1,
    waiting: new PriorityHeap<QueueItem>(startsBefore),
    startNext: () => undefined,
    execute: () => undefined,
    answerShared: () => undefined,
    rejoin: () => undefined,
  };
}

/** The gate of a tool that does nothing, with this concurrency. */
export function gateOf(name: string, concurrency = Infinity): ToolGate {
  return new ToolGate(
    defineTool({ name, concurrency, execute: () => null }),
    undefined,
    new ToolStatistics(),
    inProcessBackend,
  );
}
