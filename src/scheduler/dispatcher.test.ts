import { describe, expect, it } from "vitest";
import { PriorityHeap } from "../shared/priority-heap.ts";
import type { ResourceClaim } from "../tool/define-tool.ts";
import { Attempt, CallState, startsBefore, type QueueItem, type RunSlots } from "./call-state.ts";
import { Dispatcher } from "./dispatcher.ts";
import { QueuedRange } from "./queued-range.ts";
import { gateOf } from "./scheduler.fixture.ts";
import type { ToolGate } from "./tool-gate.ts";

/** A run that records what the dispatcher starts, and keeps each start's attempt to settle later. */
function recordingRun(id: string, maxConcurrency = Infinity): RunSlots & { started: string[]; attempts: Attempt[] } {
  const started: string[] = [];
  const attempts: Attempt[] = [];
  return {
    id,
    active: 0,
    maxInFlight: 0,
    maxConcurrency,
    waiting: new PriorityHeap<QueueItem>(startsBefore),
    started,
    attempts,
    execute(call, now) {
      started.push(call.id);
      attempts.push(Attempt.of(call, now));
    },
    startNext(range, now) {
      const index = range.next;
      started.push(range.idAt(index));
      attempts.push(Attempt.standingIn(range, index, range.letGo(index), now));
    },
    answerShared: () => undefined,
    rejoin: () => undefined,
  };
}

const clock = { now: () => 0 };
let seq = 0;
function callOf(
  run: RunSlots,
  gate: ToolGate,
  id: string,
  options: { rank?: number; claims?: ResourceClaim[] } = {},
): CallState {
  const call = new CallState(run, 0, seq++, id, gate.tool.name, 0);
  call.gate = gate;
  call.rank = options.rank ?? 0;
  call.claims = options.claims;
  return call;
}

describe("Dispatcher turns", () => {
  it("starts a call lined up outside any turn at once", () => {
    const dispatcher = new Dispatcher(4, clock);
    const run = recordingRun("r");
    dispatcher.enqueue(callOf(run, gateOf("t"), "a"));
    expect(run.started).toEqual(["a"]);
  });

  it("holds calls lined up in a turn until the outermost turn ends, then starts the best first", () => {
    const dispatcher = new Dispatcher(1, clock);
    const run = recordingRun("r");
    const gate = gateOf("t");
    dispatcher.beginTurn();
    dispatcher.enqueue(callOf(run, gate, "low", { rank: 1 }));
    dispatcher.inTurn(() => dispatcher.enqueue(callOf(run, gate, "high", { rank: 9 })));
    expect(run.started).toEqual([]);
    dispatcher.endTurn();
    expect(run.started).toEqual(["high"]);
  });

  it("closes a turn whose body throws, so that later calls still start", () => {
    const dispatcher = new Dispatcher(4, clock);
    const run = recordingRun("r");
    expect(() =>
      dispatcher.inTurn(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    dispatcher.enqueue(callOf(run, gateOf("t"), "a"));
    expect(run.started).toEqual(["a"]);
  });
});

describe("Dispatcher limits", () => {
  it("gives a freed run slot to the next waiting call when the first is held back by its tool", () => {
    const dispatcher = new Dispatcher(10, clock);
    const run = recordingRun("r", 1);
    const busy = gateOf("busy", 1);
    const free = gateOf("free");
    dispatcher.enqueue(callOf(recordingRun("other"), busy, "holder"));
    dispatcher.enqueue(callOf(run, free, "running"));
    dispatcher.inTurn(() => {
      dispatcher.enqueue(callOf(run, busy, "blocked", { rank: 5 }));
      dispatcher.enqueue(callOf(run, free, "next", { rank: 1 }));
    });
    expect(run.started).toEqual(["running"]);
    // The freed slot goes to "blocked" (the better rank), which parks at its busy tool: "next" takes the slot.
    dispatcher.release(run.attempts[0] as Attempt);
    expect(run.started).toEqual(["running", "next"]);
  });

  it("starts a range's calls in order from the head of the line, one per slot", () => {
    const dispatcher = new Dispatcher(2, clock);
    const run = recordingRun("r");
    const gate = gateOf("t");
    const range = new QueuedRange(run, gate, "t", 0, 0, 0, 0, dispatcher.nextSeq());
    for (let index = 0; index < 3; index++) range.append(undefined, undefined);
    dispatcher.nextSeq();
    dispatcher.nextSeq();
    dispatcher.lineUp(range);
    expect(run.started).toEqual(["call_0", "call_1"]);
    dispatcher.release(run.attempts[0] as Attempt);
    expect(run.started).toEqual(["call_0", "call_1", "call_2"]);
    expect(dispatcher.ready.size).toBe(0);
  });

  it("holds a writer until readers release a key, and a later reader behind the waiting writer", () => {
    const dispatcher = new Dispatcher(10, clock);
    const run = recordingRun("r");
    const gate = gateOf("db");
    const read = [{ key: "row", mode: "read" as const }];
    const write = [{ key: "row", mode: "write" as const }];
    dispatcher.enqueue(callOf(run, gate, "reader", { claims: read }));
    dispatcher.enqueue(callOf(run, gate, "writer", { claims: write }));
    dispatcher.enqueue(callOf(run, gate, "late reader", { claims: read }));
    expect(run.started).toEqual(["reader"]);
    dispatcher.release(run.attempts[0] as Attempt);
    expect(run.started).toEqual(["reader", "writer"]);
    dispatcher.release(run.attempts[1] as Attempt);
    expect(run.started).toEqual(["reader", "writer", "late reader"]);
  });
});
