import type { RunStore } from "../store/run-store.ts";

/** A run with calls waiting for approval, as the watch sees it. */
export interface AwaitingRun {
  readonly id: string;
  /** Applies a decision that stands (recorded in the history) to a waiting call; false when no call of that id waits. */
  applyDecision(callId: string, approved: boolean, reason?: string): boolean;
}

export interface Decision {
  approved: boolean;
  reason?: string;
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

  readonly #flush: () => Promise<void>;

  /** `flush` writes what the run has recorded so far: a decision can only be recorded for an approval the store knows. */
  constructor(store: RunStore, intervalMs: number, flush: () => Promise<void>, onError: (error: unknown) => void) {
    this.#store = store;
    this.#intervalMs = intervalMs;
    this.#flush = flush;
    this.#onError = onError;
  }

  /**
   * Records a decision made in this process. The first decision recorded for a call stands, in
   * every process sharing the history: this one, or one recorded first elsewhere, which is
   * returned instead. Rejects when the store fails.
   */
  async record(runId: string, callId: string, decision: Decision): Promise<{ stood: boolean; decision: Decision }> {
    await this.#flush();
    if (await this.#store.decideApproval(runId, callId, decision)) return { stood: true, decision };
    const earlier = (await this.#store.approvals({ runId })).find((approval) => approval.callId === callId)?.decision;
    // Nothing recorded, and not pending either: the store never heard of the approval, so nobody else could decide it.
    if (earlier === undefined) return { stood: true, decision };
    return {
      stood: false,
      decision: { approved: earlier.approved, ...(earlier.reason === undefined ? {} : { reason: earlier.reason }) },
    };
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
        // Calls this process decided itself are no longer waiting: `applyDecision` passes them by.
        for (const { callId, decision } of decided)
          if (decision !== undefined) run.applyDecision(callId, decision.approved, decision.reason);
      }
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#reading = false;
      this.#schedule();
    }
  }
}
