import type { Executor, LiveRun, RunOptions } from "../executor/executor-types.ts";
import type { RunEvent, RunResult, ToolCall, ToolResult } from "../run/types.ts";
import type { StoredRun } from "../store/run-store.ts";

/** A run this server started: its calls as submitted, and everything that happened so far. */
export interface LiveRunEntry {
  readonly runId: string;
  readonly startedAt: number;
  readonly options: Record<string, unknown>;
  /** The calls as submitted, by id: the arguments the dashboard shows before a call ends. */
  readonly calls: ReadonlyMap<string, ToolCall>;
  /** Calls added, duplicates of an id included (each gets its own result). */
  readonly callCount: number;
  readonly run: LiveRun;
  /** Results so far, by call id. */
  readonly results: Map<string, ToolResult>;
  result: RunResult | undefined;
}

/**
 * The runs started through this server, live and recently ended, so that a reader who connects
 * late still gets every event from the start. Ended runs beyond `keepEnded` are forgotten here;
 * the history store keeps them.
 */
export class LiveRuns {
  readonly #executor: Executor;
  readonly #keepEnded: number;
  readonly #entries = new Map<string, LiveRunEntry>();

  constructor(executor: Executor, keepEnded: number) {
    this.#executor = executor;
    this.#keepEnded = keepEnded;
  }

  /** Starts a run of `calls`; throws what `executor.start` throws for bad options. */
  start(
    calls: readonly ToolCall[],
    options: Pick<RunOptions, "maxConcurrency" | "parallel" | "timeoutMs" | "name">,
  ): LiveRunEntry {
    const run = this.#executor.start(options);
    const byId = new Map<string, ToolCall>();
    const entry: LiveRunEntry = {
      runId: run.id,
      startedAt: Date.now(),
      options: { ...options, ...(typeof options.name === "string" ? { name: options.name.slice(0, 200) } : {}) },
      calls: byId,
      callCount: calls.length,
      run,
      results: new Map(),
      result: undefined,
    };
    this.#entries.set(run.id, entry);
    void this.#follow(entry);
    for (const call of calls) {
      const id = run.add(call);
      byId.set(id, call);
    }
    run.end();
    return entry;
  }

  get(runId: string): LiveRunEntry | undefined {
    return this.#entries.get(runId);
  }

  /** Newest first. */
  list(): LiveRunEntry[] {
    return [...this.#entries.values()].reverse();
  }

  get running(): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.result === undefined) count++;
    return count;
  }

  /** Cancels every run still going, as the server shuts down. */
  cancelAll(reason: string): void {
    for (const entry of this.#entries.values()) if (entry.result === undefined) entry.run.cancel(reason);
  }

  async #follow(entry: LiveRunEntry): Promise<void> {
    for await (const event of entry.run.events) this.#apply(entry, event);
    this.#forgetOldEnded();
  }

  #apply(entry: LiveRunEntry, event: RunEvent): void {
    if (event.type === "call-end") entry.results.set(event.callId, event.result);
    else if (event.type === "run-end") entry.result = event.result;
  }

  #forgetOldEnded(): void {
    let ended = 0;
    for (const entry of this.list()) {
      if (entry.result !== undefined && ++ended > this.#keepEnded) this.#entries.delete(entry.runId);
    }
  }
}

/** The run as the runs list shows it, before (or without) a history store. */
export function summarizeLiveRun(entry: LiveRunEntry): StoredRun {
  const { result } = entry;
  return {
    runId: entry.runId,
    status: result === undefined ? "running" : result.status,
    startedAt: entry.startedAt,
    endedAt: result === undefined ? undefined : entry.startedAt + result.stats.wallMs,
    options: entry.options,
    stats: result?.stats,
    calls: entry.callCount,
    // Runs started through the API take over no other run's work.
    resumes: undefined,
    resumedBy: [],
  };
}
