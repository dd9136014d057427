/** What BullMQ's backends (`queue.getBackend()`, `worker.getBackend()`…) tell of their connection. */
export interface ConnectionEvents {
  on(event: "ready" | "error" | "close", listener: (error?: unknown) => void): unknown;
}

/**
 * Whether Redis answers, as BullMQ's connections see it: each one that closes has lost Redis
 * until it is ready again. ioredis reconnects by itself; this only keeps count.
 */
export class RedisReachability {
  readonly #lost = new Set<ConnectionEvents>();
  #lastError = "the connection closed";
  #closed = false;

  /** True unless some watched connection has lost Redis and not found it again. */
  get reachable(): boolean {
    return this.#lost.size === 0;
  }

  /** "Redis is unreachable (what the connection last said)", for messages. */
  describe(): string {
    return `Redis is unreachable (${this.#lastError})`;
  }

  /** Follows one connection: `lost` when the first connection is lost; `back` when this one is ready again. */
  watch(connection: ConnectionEvents, on: { lost?(): void; back?(): void } = {}): void {
    connection.on("error", (error) => {
      this.#lastError = error instanceof Error ? error.message : String(error);
    });
    connection.on("close", () => {
      if (this.#closed) return;
      this.#lost.add(connection);
      on.lost?.();
    });
    connection.on("ready", () => {
      if (this.#lost.delete(connection)) on.back?.();
    });
  }

  /** Stops listening: connections closed on purpose from here on are not outages. */
  close(): void {
    this.#closed = true;
  }
}
