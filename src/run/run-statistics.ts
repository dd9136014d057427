import type { CallError, RunStats, ToolResult } from "./types.ts";

/** A run's statistics (its `RunStats`), kept as results arrive so that finishing the run costs nothing per call. */
export class RunStatistics {
  #succeeded = 0;
  #cached = 0;
  #retries = 0;
  #sumMs = 0;
  /** Calls that ran at least once. */
  #ran = 0;
  #criticalPathMs = 0;
  #lastEndedAt = 0;
  readonly #errors: Partial<Record<CallError["type"], number>> = {};

  /** `pathMs`: the longest measured chain of dependent calls ending with this one. */
  observe(result: ToolResult, pathMs: number): void {
    this.#lastEndedAt = result.endedAt;
    if (pathMs > this.#criticalPathMs) this.#criticalPathMs = pathMs;
    if (result.ok) this.#succeeded++;
    else {
      const type = result.error.type;
      this.#errors[type] = (this.#errors[type] ?? 0) + 1;
    }
    if (result.cached) this.#cached++;
    if (result.attempts > 0) {
      this.#ran++;
      this.#sumMs += result.durationMs;
      this.#retries += result.attempts - 1;
    }
  }

  stats(calls: number, startedAt: number, maxInFlight: number): RunStats {
    const wallMs = calls === 0 ? 0 : Math.max(0, this.#lastEndedAt - startedAt);
    return {
      calls,
      succeeded: this.#succeeded,
      failed: calls - this.#succeeded,
      cached: this.#cached,
      retries: this.#retries,
      wallMs,
      sumMs: this.#sumMs,
      speedup: this.#ran < 2 ? null : wallMs > 0 ? this.#sumMs / wallMs : 1,
      criticalPathMs: this.#criticalPathMs,
      maxInFlight,
      errors: { ...this.#errors },
    };
  }
}
