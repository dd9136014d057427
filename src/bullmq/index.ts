export { bullmqBackend, type BullmqBackendOptions } from "./bullmq-backend.ts";
export { startWorker, type StartWorkerOptions, type VolleyWorker } from "./start-worker.ts";
