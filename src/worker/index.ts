/** Tools that run in worker threads. */
export { localBackend } from "./local-backend.ts";
export { createWorkerPool, type WorkerPool, type WorkerPoolOptions } from "./worker-pool.ts";
