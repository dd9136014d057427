import { invalidOption } from "../errors/volley-error.ts";
import type { Attempt } from "../scheduler/call-state.ts";
import type { ProgressUpdate, ToolContext } from "../tool/define-tool.ts";

interface ProgressSink {
  readonly id: string;
  progress(attempt: Attempt, update: ProgressUpdate): void;
}

/**
 * What `execute` receives. The AbortController behind `signal` is made only when a tool reads
 * it: most tools never do, and one controller per call would be the costliest thing on the
 * hot path. Reading it also tells Volley that the tool can react to an abort.
 */
export class CallContext implements ToolContext {
  readonly #run: ProgressSink;
  readonly #attempt: Attempt;
  #progress: ((update: ProgressUpdate) => void) | undefined;

  constructor(run: ProgressSink, attempt: Attempt) {
    this.#run = run;
    this.#attempt = attempt;
  }

  get signal(): AbortSignal {
    const attempt = this.#attempt;
    if (attempt.controller === undefined) {
      attempt.controller = new AbortController();
      if (attempt.abortReason !== undefined) attempt.controller.abort(attempt.abortReason);
    }
    return attempt.controller.signal;
  }

  get callId(): string {
    return this.#attempt.callId;
  }

  get toolCallId(): string {
    return this.#attempt.callId;
  }

  get abortSignal(): AbortSignal {
    return this.signal;
  }

  get runId(): string {
    return this.#run.id;
  }

  get name(): string {
    return this.#attempt.gate.tool.name;
  }

  get attempt(): number {
    return this.#attempt.number;
  }

  /**
   * Made on first use, bound to this call, so that a tool can take it out of the context
   * (`execute: (args, { progress }) => …`); most tools never report progress and pay nothing.
   */
  get progress(): (update: ProgressUpdate) => void {
    return (this.#progress ??= (update) => this.#report(update));
  }

  #report(update: ProgressUpdate): void {
    const where = `progress() of "${this.name}"`;
    if (update === null || typeof update !== "object")
      invalidOption(where, "update", "{ progress, total?, message? }", update);
    const { progress, total, message } = update;
    if (typeof progress !== "number" || !Number.isFinite(progress))
      invalidOption(where, "progress", "a finite number", progress);
    if (total !== undefined && (typeof total !== "number" || !Number.isFinite(total)))
      invalidOption(where, "total", "a finite number", total);
    if (message !== undefined && typeof message !== "string") invalidOption(where, "message", "a string", message);
    const event: ProgressUpdate = { progress };
    if (total !== undefined) event.total = total;
    if (message !== undefined) event.message = message;
    this.#run.progress(this.#attempt, event);
  }
}
