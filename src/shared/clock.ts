/** Where Volley reads the time. Inject one to make tests deterministic. */
export interface Clock {
  /** Milliseconds since the Unix epoch, fractional. */
  now(): number;
}

const origin = performance.timeOrigin;

/** High-resolution wall clock: `performance.timeOrigin + performance.now()`. */
export const systemClock: Clock = { now: () => origin + performance.now() };
