// Tools for the BullMQ benchmark, served by bench/cluster-worker.ts and declared to the caller.
import { defineTool } from "volley";

const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  });

/** An I/O-bound call: it waits, as a call to a remote API does, and uses no CPU meanwhile. */
export const ioCall = defineTool({
  name: "io_call",
  execute: async (args: unknown, { signal }) => {
    await pause((args as { ms?: number }).ms ?? 200, signal);
    return "done";
  },
});

/** Does nothing: what it takes is the cost of sending a call to a worker and its result back. */
export const noop = defineTool({ name: "noop", execute: () => 1 });

/** At most three at once across the cluster; says when it ran, and where. */
export const limitedVisit = defineTool({
  name: "limited_visit",
  concurrency: 3,
  execute: async (args: unknown, { signal }) => {
    const started = Date.now();
    await pause((args as { ms?: number }).ms ?? 100, signal);
    return { started, ended: Date.now(), pid: process.pid };
  },
});
