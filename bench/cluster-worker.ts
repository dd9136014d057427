// A BullMQ worker process for the benchmark: the cluster tools, CONCURRENCY calls of each at once.
import { startWorker } from "volley/bullmq";
import { ioCall, limitedVisit, noop } from "./cluster-tools.ts";

const { REDIS_PORT = "6379", PREFIX = "volley-bench", CONCURRENCY = "4" } = process.env;
const worker = startWorker({
  tools: [ioCall, noop, limitedVisit],
  connection: { host: "127.0.0.1", port: Number(REDIS_PORT) },
  prefix: PREFIX,
  concurrency: Number(CONCURRENCY),
});
await worker.ready;
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void worker.close().then(() => process.exit(0));
});
