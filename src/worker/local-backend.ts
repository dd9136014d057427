import { inProcessBackend, type Backend } from "../backend/backend.ts";
import { createWorkerPool, type WorkerPool } from "./worker-pool.ts";

/**
 * What runs a call when no backend is named: tools declared with `worker` go to a pool of
 * threads (`workers`, or one made on first need), the rest run in this thread.
 */
export function localBackend(workers?: WorkerPool): Backend {
  let pool = workers;
  return {
    execute: (tool, args, context) =>
      (tool.worker ? (pool ??= createWorkerPool()) : inProcessBackend).execute(tool, args, context),
    close: () => pool?.close() ?? Promise.resolve(),
  };
}
