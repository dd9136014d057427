/**
 * Every item of something that goes on (a run's events, an agent turn's), kept so that each
 * reader sees it all from the start, or from where it left off, however late it began to read.
 * Ends once closed.
 */
export class EventLog<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #closed = false;
  #wakeReaders: (() => void)[] = [];

  push(item: T): void {
    this.#items.push(item);
    this.#wake();
  }

  close(): void {
    this.#closed = true;
    this.#wake();
  }

  /** How many items it holds. */
  get length(): number {
    return this.#items.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #wake(): void {
    const readers = this.#wakeReaders;
    this.#wakeReaders = [];
    for (const wake of readers) wake();
  }

  /** The items from position `from` on, as they come, until the log is closed. */
  async *read(from = 0): AsyncGenerator<T> {
    let next = Math.max(0, from);
    for (;;) {
      while (next < this.#items.length) yield this.#items[next++] as T;
      if (this.#closed) return;
      await new Promise<void>((resolve) => this.#wakeReaders.push(resolve));
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<T> {
    return this.read();
  }
}
