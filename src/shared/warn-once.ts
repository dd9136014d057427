/**
 * Reports a user's failing hook (listener, instrumentation, store) as a process warning, once
 * per key: a hook that throws on every event must not flood the log, nor ever break a run.
 */
export class WarnOnce {
  readonly #reported = new Set<unknown>();

  report(key: unknown, what: string, error: unknown): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    process.emitWarning(`${what} (later throws are not reported): ${String(error)}`, { code: "VOLLEY_LISTENER" });
  }
}
