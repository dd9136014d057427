import { invalidOption, keysOf, rejectUnknownOptions } from "../errors/volley-error.ts";

/** Retries apply to retryable failures only: errors a tool marks `retryable`, and timeouts of idempotent tools. */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 means no retry. @default 1 */
  attempts: number;
  /** Delay before the first retry, before jitter. @default 100 */
  initialDelayMs?: number;
  /** Longest delay between attempts. @default 10000 */
  maxDelayMs?: number;
  /** Each retry waits `factor` times longer than the one before. @default 2 */
  factor?: number;
  /** Randomise each delay between half and all of its value, so that callers don't retry in lockstep. @default true */
  jitter?: boolean;
}

const RETRY_KEYS = keysOf<RetryPolicy>({
  attempts: true,
  initialDelayMs: true,
  maxDelayMs: true,
  factor: true,
  jitter: true,
});

export const DEFAULT_RETRY: Required<RetryPolicy> = Object.freeze({
  attempts: 1,
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: true,
});

export function validateRetryPolicy(where: string, value: unknown): Required<RetryPolicy> {
  const retry = value as Partial<RetryPolicy> | null;
  if (retry === null || typeof retry !== "object")
    invalidOption(where, "retry", "{ attempts, initialDelayMs?, maxDelayMs?, factor?, jitter? }", value);
  rejectUnknownOptions(`${where}: retry`, retry, RETRY_KEYS);
  const policy = { ...DEFAULT_RETRY, ...retry };
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1)
    invalidOption(where, "retry.attempts", "an integer from 1 and up", policy.attempts);
  if (!(policy.initialDelayMs >= 0))
    invalidOption(where, "retry.initialDelayMs", "a number from 0 and up", policy.initialDelayMs);
  if (!(policy.maxDelayMs >= policy.initialDelayMs))
    invalidOption(where, "retry.maxDelayMs", "a number no smaller than initialDelayMs", policy.maxDelayMs);
  if (!(policy.factor >= 1)) invalidOption(where, "retry.factor", "a number from 1 and up", policy.factor);
  if (typeof policy.jitter !== "boolean") invalidOption(where, "retry.jitter", "a boolean", policy.jitter);
  return policy;
}

/** The delay before attempt `nextAttempt` (2 for the first retry). `random` returns [0, 1). */
export function backoffDelayMs(policy: Required<RetryPolicy>, nextAttempt: number, random: () => number): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (nextAttempt - 2));
  return policy.jitter ? base / 2 + (random() * base) / 2 : base;
}
