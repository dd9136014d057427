import { describe, expect, it } from "vitest";
import { PriorityHeap } from "../shared/priority-heap.ts";
import { CallState, startsBefore, type QueueItem } from "./call-state.ts";
import { QueuedRange } from "./queued-range.ts";
import { gateOf, idleRunSlots } from "./scheduler.fixture.ts";

const run = idleRunSlots();

/** A range of `count` calls from position 10 (arrival numbers from 100): the even ones with given ids and arguments. */
function rangeOf(count: number, gate = gateOf("t")): QueuedRange {
  const range = new QueuedRange(run, gate, gate.tool.name, 0, 0, 5, 10, 100);
  for (let offset = 0; offset < count; offset++)
    range.append(offset % 2 === 0 ? `given${offset}` : undefined, offset % 2 === 0 ? { offset } : undefined);
  return range;
}

describe("QueuedRange", () => {
  it("takes only a call that continues it exactly: same tool, priority, rank and time, the next position and arrival number", () => {
    const gate = gateOf("t");
    const range = rangeOf(2, gate);
    expect(range.continuesWith(gate, 0, 0, 5, 12, 102)).toBe(true);
    expect(range.continuesWith(gateOf("t"), 0, 0, 5, 12, 102)).toBe(false);
    expect(range.continuesWith(gate, 1, 0, 5, 12, 102)).toBe(false);
    expect(range.continuesWith(gate, 0, 3, 5, 12, 102)).toBe(false);
    expect(range.continuesWith(gate, 0, 0, 6, 12, 102)).toBe(false);
    expect(range.continuesWith(gate, 0, 0, 5, 13, 103)).toBe(false);
    expect(range.continuesWith(gate, 0, 0, 5, 12, 105)).toBe(false);
  });

  it("knows each call's id, given or generated from its position", () => {
    const range = rangeOf(3);
    expect([range.idAt(10), range.idAt(11), range.idAt(12)]).toEqual(["given0", "call_11", "given2"]);
  });

  it("lets go of calls in order, each with its arguments or a fresh {}, and leaves its heap with the last", () => {
    const heap = new PriorityHeap<QueueItem>(startsBefore);
    const range = rangeOf(2);
    heap.push(range);
    range.parkedIn = heap;
    expect(range.letGo(10)).toEqual({ offset: 0 });
    expect([range.next, range.seq, heap.size]).toEqual([11, 101, 1]);
    const fresh = range.letGo(11);
    expect(fresh).toEqual({});
    expect(Object.isFrozen(fresh)).toBe(false);
    expect(heap.size).toBe(0);
  });

  it("steps over a call taken out ahead of its turn, and sorts after it from then on", () => {
    const heap = new PriorityHeap<QueueItem>(startsBefore);
    const range = rangeOf(4);
    heap.push(range);
    range.parkedIn = heap;
    const early = range.take(11);
    expect(early).toBeInstanceOf(CallState);
    expect([early.id, early.index, early.seq, early.phase]).toEqual(["call_11", 11, 101, "queued"]);
    expect(range.next).toBe(10);
    range.letGo(10);
    // 11 was taken early: the range's next call is 12, and it sorts as that call would.
    expect([range.next, range.seq]).toEqual([12, 102]);
    expect(startsBefore(early, range)).toBe(true);
  });
});
