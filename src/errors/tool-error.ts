export interface ToolErrorOptions {
  /** The failure is transient and the call may be retried (when the tool's `retry` allows). */
  retryable?: boolean;
  /** Wait at least this long before the next attempt, as a server's `Retry-After` asks. */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * What a tool throws to say more than "it failed". Volley reads `retryable` and
 * `retryAfterMs` from any thrown object, so errors from other libraries that carry these
 * fields work too; this class is the convenient way to set them.
 */
export class ToolError extends Error {
  override readonly name = "ToolError";
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: ToolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}
