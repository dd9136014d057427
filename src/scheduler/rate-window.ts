/**
 * A sliding-window log: at most `limit` starts in any window of `intervalMs`. Exact, unlike a
 * token bucket, which lets a burst of twice the limit through around a refill.
 */
export class RateWindow {
  readonly limit: number;
  readonly intervalMs: number;
  readonly #starts: number[];
  #oldest = 0;
  #count = 0;

  constructor(limit: number, intervalMs: number) {
    this.limit = limit;
    this.intervalMs = intervalMs;
    this.#starts = new Array<number>(limit).fill(0);
  }

  /** Starts still allowed at `now`. */
  available(now: number): number {
    this.#expire(now);
    return this.limit - this.#count;
  }

  /** Records a start; call only when `available(now) > 0`. */
  take(now: number): void {
    this.#starts[(this.#oldest + this.#count) % this.limit] = now;
    this.#count++;
  }

  /** When the next start will be allowed, if none is now. */
  nextAllowedAt(now: number): number {
    this.#expire(now);
    if (this.#count < this.limit) return now;
    return (this.#starts[this.#oldest] as number) + this.intervalMs;
  }

  #expire(now: number): void {
    while (this.#count > 0 && (this.#starts[this.#oldest] as number) + this.intervalMs <= now) {
      this.#oldest = (this.#oldest + 1) % this.limit;
      this.#count--;
    }
  }
}
