import { inProcessBackend } from "../src/index.ts";
import { createWorkerPool } from "../src/index.ts";
import { backendContract } from "../src/backend/backend.contract.ts";

backendContract("in process", () => inProcessBackend);
backendContract("worker threads", () => createWorkerPool({ maxThreads: 2 }));
