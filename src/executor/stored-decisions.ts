import type { RunStore } from "../store/run-store.ts";

/** A run with calls waiting for approval, as the watch sees it. */
export interface AwaitingRun {
  readonly id: string;
  /** Approves or denies a waiting call; false when no call of that id waits. */
  decide(callId: string, approved: boolean, reason?: string): boolean;
}

/**
 * Brings decisions recorded in the history from outside this process (`store.decideApproval`,
 * the dashboard of a `volley serve` sharing the file) to this process's waiting calls. A store
 * can't notify, so the history is read every `intervalMs` while any call waits, and not at all
 * otherwise. The timer keeps the process alive meanwhile: a decision may still come.
 */
export class StoredDecisions {
  readonly #store: RunStore;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #waiting = new Set<AwaitingRun>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reading = false;

  constructor(store: RunStore, intervalMs: number, onError: (error: unknown) => void) {
    this.#store = store;
    this.#intervalMs = intervalMs;
    this.#onError = onError;
  }

  /** The run has a call waiting for approval. */
  watch(run: AwaitingRun): void {
    this.#waiting.add(run);
    this.#schedule();
  }

  /** No call of the run waits any more. */
  unwatch(run: AwaitingRun): void {
    this.#waiting.delete(run);
    if (this.#waiting.size === 0 && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#reading || this.#waiting.size === 0) return;
    this.#timer = setTimeout(() => void this.#read(), this.#intervalMs);
  }

  async #read(): Promise<void> {
    this.#timer = undefined;
    this.#reading = true;
    try {
      for (const run of [...this.#waiting]) {
        const decided = await this.#store.approvals({ runId: run.id, pending: false });
        // Calls this process decided itself are no longer waiting: `decide` passes them by.
        for (const { callId, decision } of decided) if (decision !== undefined) run.decide(callId, decision.approved, decision.reason);
      }
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#reading = false;
      this.#schedule();
    }
  }
}
