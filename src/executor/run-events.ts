import type { RunEvent } from "../run/types.ts";
import type { HistoryRecorder } from "../store/history-recorder.ts";
import { isStoredEvent } from "../store/run-store.ts";
import type { ExecutorCore } from "./executor-core.ts";
import { EventLog } from "../shared/event-log.ts";

/**
 * Where a run's events go: its `events` readers, its own listener, the executor's, and the
 * history (which keeps only some). The flags tell the hot path whether to build an event at all.
 */
export class RunEvents {
  /** Every event, for readers of an open run's `events`; `run()` keeps none. */
  readonly log: EventLog<RunEvent> | undefined;
  /** Someone reads this run's events: `events`, or an `onEvent` listener. */
  readonly listened: boolean;
  /** Events are wanted at all: by a listener, or by the history. */
  readonly observed: boolean;
  readonly #runId: string;
  readonly #core: Pick<ExecutorCore, "onEvent" | "notify">;
  readonly #onEvent: ((event: RunEvent) => void) | undefined;
  readonly #history: HistoryRecorder | undefined;
  #storedSeq = 0;

  constructor(
    runId: string,
    core: Pick<ExecutorCore, "onEvent" | "notify" | "history">,
    onEvent: ((event: RunEvent) => void) | undefined,
    keepEvents: boolean,
  ) {
    this.#runId = runId;
    this.#core = core;
    this.#onEvent = onEvent;
    this.#history = core.history;
    this.log = keepEvents ? new EventLog<RunEvent>() : undefined;
    this.listened = this.log !== undefined || onEvent !== undefined || core.onEvent !== undefined;
    this.observed = this.listened || this.#history !== undefined;
  }

  emit(event: RunEvent): void {
    this.log?.push(event);
    if (this.#history !== undefined && isStoredEvent(event))
      this.#history.push({ kind: "event", runId: this.#runId, seq: this.#storedSeq++, event });
    if (this.#onEvent !== undefined) this.#core.notify(this.#onEvent, event);
    if (this.#core.onEvent !== undefined) this.#core.notify(this.#core.onEvent, event);
  }

  /** The run has ended: readers of `events` stop after what they have. */
  close(): void {
    this.log?.close();
  }
}
