import { randomUUID } from "node:crypto";
import { Queue, QueueEvents, Relay, type ConnectionOptions } from "bullmq";
import type { Backend } from "../backend/backend.ts";
import { invalidOption } from "../errors/volley-error.ts";
import type { ProgressUpdate, Tool } from "../tool/define-tool.ts";
import { deserializeError } from "../worker/worker-messages.ts";
import { CANCEL_TOPIC, DEFAULT_PREFIX, queueName, RELAY_NAMESPACE, type CallJob, type CallOutcome, type CancelMessage } from "./job-envelope.ts";

export interface BullmqBackendOptions {
  /** Redis, as BullMQ takes it: `{ host, port }`, a URL in `{ url }`, or an ioredis client. */
  connection: ConnectionOptions;
  /** Redis key prefix; callers and workers must agree. @default "volley" */
  prefix?: string;
}

interface Lane {
  queue: Queue<CallJob, CallOutcome>;
  events: QueueEvents;
}

interface Waiter {
  resolve(output: unknown): void;
  reject(error: Error): void;
  progress(update: ProgressUpdate): void;
}

/**
 * Sends each call to worker processes through Redis, with BullMQ: a queue per tool, whose
 * concurrency and rate limits are set cluster-wide from the tool's. Results come back on the
 * queues' event streams, as they happen; the scheduler, its graph and its limits stay here.
 */
export function bullmqBackend(options: BullmqBackendOptions): Backend {
  const where = "bullmqBackend";
  if (options === null || typeof options !== "object") invalidOption(where, "options", "{ connection, prefix? }", options);
  const { connection, prefix = DEFAULT_PREFIX } = options;
  if (connection === null || typeof connection !== "object") invalidOption(where, "connection", "Redis connection options, as BullMQ takes them", connection);
  if (typeof prefix !== "string" || prefix === "") invalidOption(where, "prefix", "a non-empty string", prefix);

  const lanes = new Map<string, Promise<Lane>>();
  let relay: Relay | undefined;
  /** Cancellations on their way to Redis: closing waits for them, or the worker would run on. */
  const cancelling = new Set<Promise<void>>();
  const waiting = new Map<string, Waiter>();
  let closed = false;

  function settle(jobId: string, outcome: unknown): void {
    const waiter = waiting.get(jobId);
    if (waiter === undefined) return;
    waiting.delete(jobId);
    const result = (typeof outcome === "string" ? JSON.parse(outcome) : outcome) as CallOutcome;
    if (result.ok) waiter.resolve(result.output);
    else waiter.reject(deserializeError(result.error));
  }

  function laneOf(tool: Tool): Promise<Lane> {
    let lane = lanes.get(tool.name);
    if (lane === undefined) {
      lane = (async () => {
        const name = queueName(tool.name);
        const queue = new Queue<CallJob, CallOutcome>(name, { connection, prefix });
        const events = new QueueEvents(name, { connection, prefix });
        events.on("completed", ({ jobId, returnvalue }) => settle(jobId, returnvalue));
        events.on("failed", ({ jobId, failedReason }) => {
          const waiter = waiting.get(jobId);
          waiting.delete(jobId);
          waiter?.reject(new Error(`the worker running it failed: ${failedReason}`));
        });
        events.on("progress", ({ jobId, data }) => waiting.get(jobId)?.progress(data as ProgressUpdate));
        await events.waitUntilReady();
        // Every caller sets the same limits from the same tool: the cluster runs no more of it at once, nor faster.
        if (tool.concurrency === Infinity) await queue.removeGlobalConcurrency();
        else await queue.setGlobalConcurrency(tool.concurrency);
        if (tool.rateLimit === undefined) await queue.removeGlobalRateLimit();
        else await queue.setGlobalRateLimit(tool.rateLimit.limit, tool.rateLimit.intervalMs);
        return { queue, events };
      })();
      lanes.set(tool.name, lane);
    }
    return lane;
  }

  async function cancel(tool: Tool, lane: Lane, jobId: string, reason: string): Promise<void> {
    // Waiting: take it off the queue. Running: ask the worker that runs it to abort.
    await lane.queue.remove(jobId).catch(() => 0);
    relay ??= new Relay({ connection, prefix, namespace: RELAY_NAMESPACE, name: "volley caller" });
    const message: CancelMessage = { queue: queueName(tool.name), jobId, reason };
    await relay.publish(CANCEL_TOPIC, message);
  }

  return {
    execute(tool, args, context) {
      if (closed) return Promise.reject(new Error("the BullMQ backend is closed"));
      const { signal } = context;
      if (signal.aborted) return Promise.reject(signal.reason as Error);
      const jobId = randomUUID();
      return new Promise((resolve, reject) => {
        const onAbort = (): void => {
          waiting.delete(jobId);
          reject(signal.reason as Error);
          const sent = laneOf(tool)
            .then((lane) => cancel(tool, lane, jobId, signal.reason instanceof Error ? signal.reason.message : String(signal.reason)))
            .catch(() => undefined)
            .finally(() => cancelling.delete(sent));
          cancelling.add(sent);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        const detach = () => signal.removeEventListener("abort", onAbort);
        waiting.set(jobId, {
          resolve: (output) => {
            detach();
            resolve(output);
          },
          reject: (error) => {
            detach();
            reject(error);
          },
          progress: (update) => context.progress(update),
        });
        laneOf(tool)
          .then((lane) =>
            lane.queue.add(tool.name, { args, callId: context.callId, runId: context.runId, attempt: context.attempt }, { jobId, attempts: 1, removeOnComplete: { age: 300 }, removeOnFail: { age: 3600 } }),
          )
          .catch((error: unknown) => {
            const waiter = waiting.get(jobId);
            waiting.delete(jobId);
            waiter?.reject(new Error(`could not send the call to Redis: ${error instanceof Error ? error.message : String(error)}`));
          });
      });
    },

    async close() {
      closed = true;
      await Promise.all(cancelling);
      for (const [jobId, waiter] of waiting) {
        waiting.delete(jobId);
        waiter.reject(new Error("the BullMQ backend closed before the call ended"));
      }
      const opened = await Promise.allSettled(lanes.values());
      await Promise.all(opened.flatMap((lane) => (lane.status === "fulfilled" ? [lane.value.events.close(), lane.value.queue.close()] : [])));
      await relay?.close();
    },
  };
}
