/** Items remember their slot so that they can be removed or re-ranked cheaply. */
export interface HeapItem {
  heapIndex: number;
}

/** `heapIndex` of an item in no queue. Items in the sorted lane use `LANE_BASE - position`. */
const NOT_QUEUED = -1;
const LANE_BASE = -2;
/** Consumed lane slots kept before the lane is compacted. */
const LANE_SLACK = 1024;

/**
 * A priority queue by `before(a, b)`: `a` comes out first when it returns true.
 *
 * Items usually arrive already in order (equal priority and rank, rising arrival number), so
 * besides a binary heap it keeps a sorted lane: an item that does not come before the lane's
 * last item is appended in O(1), and `pop` takes the better of the lane's head and the heap's
 * top. Order is exact either way; the lane only spares the O(log n) sift for in-order items.
 * Removal and re-ranking work on both.
 */
export class PriorityHeap<T extends HeapItem> {
  #heap: T[] = [];
  #lane: (T | undefined)[] = [];
  #laneHead = 0;
  #laneSize = 0;
  /** Lane positions are absolute, so that compaction never rewrites the items' indices. */
  #laneOffset = 0;
  readonly #before: (a: T, b: T) => boolean;

  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  get size(): number {
    return this.#heap.length + this.#laneSize;
  }

  peek(): T | undefined {
    const laneHead = this.#laneFront();
    const heapTop = this.#heap[0];
    if (laneHead === undefined) return heapTop;
    if (heapTop === undefined) return laneHead;
    return this.#before(heapTop, laneHead) ? heapTop : laneHead;
  }

  has(item: T): boolean {
    const index = item.heapIndex;
    if (index >= 0) return this.#heap[index] === item;
    return index <= LANE_BASE && this.#lane[LANE_BASE - index - this.#laneOffset] === item;
  }

  push(item: T): void {
    const lane = this.#lane;
    const last = lane.length === 0 ? undefined : lane[lane.length - 1];
    if (this.#laneSize === 0 || (last !== undefined && !this.#before(item, last))) {
      if (this.#laneSize === 0) this.#resetLane();
      item.heapIndex = LANE_BASE - (this.#laneOffset + this.#lane.length);
      this.#lane.push(item);
      this.#laneSize++;
      return;
    }
    item.heapIndex = this.#heap.length;
    this.#heap.push(item);
    this.#siftUp(item.heapIndex);
  }

  pop(): T | undefined {
    const laneHead = this.#laneFront();
    const heapTop = this.#heap[0];
    if (laneHead !== undefined && (heapTop === undefined || !this.#before(heapTop, laneHead))) {
      this.#lane[this.#laneHead++] = undefined;
      this.#laneSize--;
      laneHead.heapIndex = NOT_QUEUED;
      return laneHead;
    }
    if (heapTop === undefined) return undefined;
    this.#removeFromHeap(heapTop);
    return heapTop;
  }

  /** Removes `item` if it is queued here; returns whether it was. */
  remove(item: T): boolean {
    if (!this.has(item)) return false;
    if (item.heapIndex >= 0) {
      this.#removeFromHeap(item);
    } else {
      this.#lane[LANE_BASE - item.heapIndex - this.#laneOffset] = undefined;
      this.#laneSize--;
      item.heapIndex = NOT_QUEUED;
    }
    return true;
  }

  /** Restores order after `item`'s rank changed. */
  update(item: T): void {
    if (!this.has(item)) return;
    if (item.heapIndex >= 0) {
      this.#siftUp(item.heapIndex);
      this.#siftDown(item.heapIndex);
    } else {
      this.remove(item);
      this.push(item);
    }
  }

  /** Empties the queue and returns its items in no particular order. */
  drain(): T[] {
    const items = this.#heap;
    for (let i = this.#laneHead; i < this.#lane.length; i++) {
      const item = this.#lane[i];
      if (item !== undefined) items.push(item);
    }
    this.#heap = [];
    this.#resetLane();
    for (const item of items) item.heapIndex = NOT_QUEUED;
    return items;
  }

  /** The lane's first live item, skipping holes left by removals and compacting now and then. */
  #laneFront(): T | undefined {
    if (this.#laneSize === 0) return undefined;
    while (this.#lane[this.#laneHead] === undefined) this.#laneHead++;
    if (this.#laneHead > LANE_SLACK && this.#laneHead * 2 > this.#lane.length) this.#compactLane();
    return this.#lane[this.#laneHead];
  }

  #resetLane(): void {
    this.#lane = [];
    this.#laneHead = 0;
    this.#laneSize = 0;
    this.#laneOffset = 0;
  }

  #compactLane(): void {
    this.#laneOffset += this.#laneHead;
    this.#lane = this.#lane.slice(this.#laneHead);
    this.#laneHead = 0;
  }

  #removeFromHeap(item: T): void {
    const heap = this.#heap;
    const index = item.heapIndex;
    const last = heap.pop() as T;
    if (last !== item) {
      heap[index] = last;
      last.heapIndex = index;
      this.#siftDown(index);
      this.#siftUp(last.heapIndex);
    }
    item.heapIndex = NOT_QUEUED;
  }

  #siftUp(index: number): void {
    const items = this.#heap;
    const item = items[index] as T;
    while (index > 0) {
      const parentIndex = (index - 1) >>> 1;
      const parent = items[parentIndex] as T;
      if (!this.#before(item, parent)) break;
      items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = item;
    item.heapIndex = index;
  }

  #siftDown(index: number): void {
    const items = this.#heap;
    const length = items.length;
    const item = items[index] as T;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && this.#before(items[right] as T, items[left] as T)) child = right;
      const childItem = items[child] as T;
      if (!this.#before(childItem, item)) break;
      items[index] = childItem;
      childItem.heapIndex = index;
      index = child;
    }
    items[index] = item;
    item.heapIndex = index;
  }
}
