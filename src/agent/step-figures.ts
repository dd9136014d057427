import type { RunResult } from "../run/types.ts";

/**
 * What parallelism and eager dispatch bought in one agent step. A step's run starts with its
 * first call, while the model may still be writing, so the run's own `speedup` mixes the model's
 * writing into the tools' time; these figures keep the two apart.
 */
export interface StepFigures {
  /** From the model request to the end of its stream. */
  modelMs: number;
  /** Time at least one of the step's calls was running. */
  toolsBusyMs: number;
  /** The calls' durations added up: running them one after another would take this long. */
  toolsSumMs: number;
  /** `toolsSumMs / toolsBusyMs`: what running the tools in parallel bought. `null` when fewer than two calls ran. */
  toolsSpeedup: number | null;
  /** Tool time spent while the model was still writing the step. */
  overlapMs: number;
  /**
   * How much sooner the step's calls were done than if they had waited for the whole message and
   * then all started at once (its end at best: the stream's end plus the run's critical path).
   * A lower bound on what eager dispatch saved.
   */
  savedMs: number;
}

/** Now, on the executor's default clock (`systemClock`): the time its results are stamped with. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The figures of a step whose model stream ran from `startedAt` to `streamEndedAt` (epoch ms, the executor's clock). */
export function stepFigures(run: RunResult, startedAt: number, streamEndedAt: number): StepFigures {
  const intervals = run.results
    .filter((result) => result.attempts > 0 && !result.cached && result.endedAt > result.startedAt)
    .map((result) => [result.startedAt, result.endedAt] as const)
    .sort((a, b) => a[0] - b[0]);
  let busyMs = 0;
  let overlapMs = 0;
  let spanStart = Number.NaN;
  let spanEnd = Number.NaN;
  const close = (): void => {
    if (Number.isNaN(spanStart)) return;
    busyMs += spanEnd - spanStart;
    overlapMs += Math.max(0, Math.min(spanEnd, streamEndedAt) - spanStart);
  };
  for (const [start, end] of intervals) {
    if (start > spanEnd) {
      close();
      spanStart = start;
      spanEnd = end;
    } else if (Number.isNaN(spanStart)) {
      spanStart = start;
      spanEnd = end;
    } else {
      spanEnd = Math.max(spanEnd, end);
    }
  }
  close();
  const lastEnd = intervals.reduce((latest, [, end]) => Math.max(latest, end), streamEndedAt);
  const { sumMs, criticalPathMs, speedup } = run.stats;
  return {
    modelMs: Math.max(0, streamEndedAt - startedAt),
    toolsBusyMs: busyMs,
    toolsSumMs: sumMs,
    toolsSpeedup: speedup === null ? null : busyMs > 0 ? sumMs / busyMs : 1,
    overlapMs,
    savedMs: Math.max(0, streamEndedAt + criticalPathMs - lastEnd),
  };
}
