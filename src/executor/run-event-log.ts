import type { RunEvent } from "../run/types.ts";

/**
 * Every event of an open run, kept so that each reader of `events` sees the whole run from
 * its start, however late it began to read. Ends after `run-end`.
 */
export class RunEventLog implements AsyncIterable<RunEvent> {
  readonly #events: RunEvent[] = [];
  #closed = false;
  #wakeReaders: (() => void)[] = [];

  push(event: RunEvent): void {
    this.#events.push(event);
    this.#wake();
  }

  close(): void {
    this.#closed = true;
    this.#wake();
  }

  #wake(): void {
    const readers = this.#wakeReaders;
    this.#wakeReaders = [];
    for (const wake of readers) wake();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<RunEvent> {
    let next = 0;
    for (;;) {
      while (next < this.#events.length) yield this.#events[next++] as RunEvent;
      if (this.#closed) return;
      await new Promise<void>((resolve) => this.#wakeReaders.push(resolve));
    }
  }
}
