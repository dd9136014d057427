import type { HistoryWrite, RunStore } from "./run-store.ts";

/**
 * Collects history writes and hands them to the store in batches, one transaction per turn of
 * the event loop, so that recording never waits on the disk inside the scheduler. A store
 * that fails is reported, once, and the runs go on.
 */
export class HistoryRecorder {
  readonly store: RunStore;
  #pending: HistoryWrite[] = [];
  #scheduled = false;
  #writing: Promise<void> = Promise.resolve();
  readonly #onError: (error: unknown) => void;

  constructor(store: RunStore, onError: (error: unknown) => void) {
    this.store = store;
    this.#onError = onError;
  }

  push(write: HistoryWrite): void {
    this.#pending.push(write);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#flushPending);
  }

  /** Resolves once everything pushed so far is in the store (or has failed to get there). */
  flush(): Promise<void> {
    this.#flushPending();
    return this.#writing;
  }

  readonly #flushPending = (): void => {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    // Batches go one after another, so that a run's end never overtakes its start.
    this.#writing = this.#writing.then(() => this.store.write(batch)).catch(this.#onError);
  };
}
