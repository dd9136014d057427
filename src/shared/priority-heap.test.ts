import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PriorityHeap } from "./priority-heap.ts";

interface Item {
  heapIndex: number;
  key: number;
  seq: number;
}

const before = (a: Item, b: Item): boolean => (a.key !== b.key ? a.key < b.key : a.seq < b.seq);

type Operation =
  | { op: "push"; key: number }
  | { op: "pop" }
  | { op: "remove"; pick: number }
  | { op: "rekey"; pick: number; key: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("push" as const), key: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("pop" as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("remove" as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("rekey" as const), pick: fc.nat(), key: fc.integer({ min: -2, max: 6 }) }),
  },
);

describe("PriorityHeap", () => {
  it("pops exactly what a sorted list would, through pushes, removals and re-keying", () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 3000 }), (operations) => {
        const heap = new PriorityHeap<Item>(before);
        let reference: Item[] = [];
        let seq = 0;
        for (const step of operations) {
          if (step.op === "push") {
            const item = { heapIndex: -1, key: step.key, seq: seq++ };
            heap.push(item);
            reference.push(item);
          } else if (step.op === "pop") {
            reference.sort((a, b) => (before(a, b) ? -1 : 1));
            const expected = reference.shift();
            expect(heap.pop()).toBe(expected);
          } else if (reference.length > 0) {
            const item = reference[step.pick % reference.length] as Item;
            if (step.op === "remove") {
              expect(heap.remove(item)).toBe(true);
              expect(heap.remove(item)).toBe(false);
              reference = reference.filter((other) => other !== item);
            } else {
              item.key = step.key;
              heap.update(item);
            }
          }
          expect(heap.size).toBe(reference.length);
        }
        const drained = heap.drain();
        expect(new Set(drained)).toEqual(new Set(reference));
        expect(heap.size).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it("keeps order across a long in-order lane that compacts while items leave it", () => {
    const heap = new PriorityHeap<Item>(before);
    const items = Array.from({ length: 5000 }, (_, seq) => ({ heapIndex: -1, key: 0, seq }));
    for (const item of items) heap.push(item);
    for (let i = 0; i < 3000; i++) expect(heap.pop()).toBe(items[i]);
    expect(heap.remove(items[4000] as Item)).toBe(true);
    const late = { heapIndex: -1, key: -1, seq: 9999 };
    heap.push(late);
    expect(heap.pop()).toBe(late);
    const rest: Item[] = [];
    for (let item = heap.pop(); item; item = heap.pop()) rest.push(item);
    expect(rest).toEqual(items.slice(3000).filter((item) => item.seq !== 4000));
  });
});
