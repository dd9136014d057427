/** Items remember their slot so that they can be removed or re-ranked in O(log n). */
export interface HeapItem {
  heapIndex: number;
}

/**
 * A binary min-heap by `before(a, b)`: `a` comes out first when it returns true.
 * Supports removal and re-ranking of any item because items carry their own index.
 */
export class PriorityHeap<T extends HeapItem> {
  #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  has(item: T): boolean {
    return this.#items[item.heapIndex] === item;
  }

  push(item: T): void {
    item.heapIndex = this.#items.length;
    this.#items.push(item);
    this.#siftUp(item.heapIndex);
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop() as T;
    if (last !== top) {
      items[0] = last;
      last.heapIndex = 0;
      this.#siftDown(0);
    }
    top.heapIndex = -1;
    return top;
  }

  /** Removes `item` if it is in this heap; returns whether it was. */
  remove(item: T): boolean {
    if (!this.has(item)) return false;
    const items = this.#items;
    const index = item.heapIndex;
    const last = items.pop() as T;
    if (last !== item) {
      items[index] = last;
      last.heapIndex = index;
      this.#siftDown(index);
      this.#siftUp(last.heapIndex);
    }
    item.heapIndex = -1;
    return true;
  }

  /** Restores order after `item`'s rank changed. */
  update(item: T): void {
    if (!this.has(item)) return;
    this.#siftUp(item.heapIndex);
    this.#siftDown(item.heapIndex);
  }

  /** Empties the heap and returns its items in no particular order. */
  drain(): T[] {
    const items = this.#items;
    this.#items = [];
    for (const item of items) item.heapIndex = -1;
    return items;
  }

  #siftUp(index: number): void {
    const items = this.#items;
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
    const items = this.#items;
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
