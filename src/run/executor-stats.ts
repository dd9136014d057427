import type { CallErrorType, RunStats, ToolResult } from "../run/types.ts";

/** Durations kept per tool for percentiles: the most recent ones. */
const RESERVOIR = 1024;

export interface ToolStats {
  /** Calls answered, cached and failed ones included. */
  calls: number;
  failures: number;
  failuresByType: Partial<Record<CallErrorType, number>>;
  retries: number;
  /** Calls answered from the cache or by an identical call in flight. */
  cached: number;
  /** Durations of executed calls (nearest-rank percentiles); the executor keeps its most recent 1,024. */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
}

/** The percentiles (nearest rank) and mean of some durations; zeros for none. */
export function durationFigures(durations: readonly number[]): Pick<ToolStats, "p50Ms" | "p95Ms" | "p99Ms" | "meanMs"> {
  const sorted = [...durations].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);
  const meanMs = sorted.length === 0 ? 0 : sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length;
  return { p50Ms: at(0.5), p95Ms: at(0.95), p99Ms: at(0.99), meanMs };
}

export interface ExecutorStats {
  runs: number;
  /** Mean `speedup` of the runs that have one (two calls or more ran): how much faster than one call after another. 0 before any. */
  averageSpeedup: number;
  calls: number;
  tools: Record<string, ToolStats>;
}

/** One tool's figures. Held by the tool's gate, so that recording a result needs no lookup. */
export class ToolStatistics {
  calls = 0;
  failures = 0;
  retries = 0;
  cached = 0;
  readonly failuresByType: Partial<Record<CallErrorType, number>> = {};
  readonly durations: number[] = [];
  #next = 0;

  observe(result: ToolResult): void {
    this.calls++;
    if (result.attempts > 1) this.retries += result.attempts - 1;
    if (result.cached) this.cached++;
    if (result.error) {
      this.failures++;
      this.failuresByType[result.error.type] = (this.failuresByType[result.error.type] ?? 0) + 1;
    }
    if (result.attempts > 0) {
      if (this.durations.length < RESERVOIR) this.durations.push(result.durationMs);
      else this.durations[this.#next] = result.durationMs;
      this.#next = (this.#next + 1) % RESERVOIR;
    }
  }

  snapshot(): ToolStats {
    return {
      calls: this.calls,
      failures: this.failures,
      failuresByType: { ...this.failuresByType },
      retries: this.retries,
      cached: this.cached,
      ...durationFigures(this.durations),
    };
  }
}

/** What an executor has seen, per tool and per run, since it was created. */
export class ExecutorStatistics {
  readonly #tools = new Map<string, ToolStatistics>();
  #runs = 0;
  #speedupSum = 0;
  #speedupRuns = 0;
  #calls = 0;

  /** The record of a tool, made on first use. */
  forTool(name: string): ToolStatistics {
    let record = this.#tools.get(name);
    if (record === undefined) {
      record = new ToolStatistics();
      this.#tools.set(name, record);
    }
    return record;
  }

  observeRun(stats: RunStats): void {
    this.#calls += stats.calls;
    if (stats.calls === 0) return;
    this.#runs++;
    if (stats.speedup === null) return;
    this.#speedupRuns++;
    this.#speedupSum += stats.speedup;
  }

  snapshot(): ExecutorStats {
    const tools: Record<string, ToolStats> = {};
    for (const [name, record] of this.#tools) if (record.calls > 0) tools[name] = record.snapshot();
    return {
      runs: this.#runs,
      averageSpeedup: this.#speedupRuns === 0 ? 0 : this.#speedupSum / this.#speedupRuns,
      calls: this.#calls,
      tools,
    };
  }
}
