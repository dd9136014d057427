/** Weight of the newest duration in the moving average. */
const SMOOTHING = 0.3;

/**
 * Per-tool duration estimates, learned from durations observed so far (an exponentially
 * weighted moving average). They rank ready calls by the longest remaining path.
 */
export class DurationEstimates {
  readonly #byTool = new Map<string, number>();
  /** What a tool never seen is assumed to take, so that a path's rank counts its calls. */
  static readonly UNKNOWN_MS = 1;

  constructor(seed: Readonly<Record<string, number>> = {}) {
    for (const [tool, ms] of Object.entries(seed)) this.#byTool.set(tool, ms);
  }

  get(tool: string): number {
    return this.#byTool.get(tool) ?? DurationEstimates.UNKNOWN_MS;
  }

  observe(tool: string, durationMs: number): void {
    const previous = this.#byTool.get(tool);
    this.#byTool.set(tool, previous === undefined ? durationMs : previous + SMOOTHING * (durationMs - previous));
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.#byTool);
  }
}
