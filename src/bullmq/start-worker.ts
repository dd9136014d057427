import { Relay, Worker, type ConnectionOptions, type Job } from "bullmq";
import { invalidOption } from "../errors/volley-error.ts";
import { isTool, type Tool, type ToolContext } from "../tool/define-tool.ts";
import { serializeError } from "../worker/worker-messages.ts";
import { CANCEL_TOPIC, DEFAULT_PREFIX, queueName, RELAY_NAMESPACE, type CallJob, type CallOutcome, type CancelMessage } from "./job-envelope.ts";

export interface StartWorkerOptions {
  /** The tools this process runs; calls of other tools stay for workers that have them. */
  tools: readonly Tool[];
  /** Redis, as BullMQ takes it: `{ host, port }`, a URL in `{ url }`, or an ioredis client. */
  connection: ConnectionOptions;
  /** Most calls of each tool this process runs at once. Minimum: 1. @default 8 */
  concurrency?: number;
  /** Redis key prefix; callers and workers must agree. @default "volley" */
  prefix?: string;
  /** How long a worker holds a call before another may take it over, if this process dies (ms). @default 5000 */
  lockDurationMs?: number;
}

export interface VolleyWorker {
  /** Resolves once every queue is connected and taking jobs. */
  readonly ready: Promise<void>;
  /** Stops taking calls, lets running ones finish, then disconnects. */
  close(): Promise<void>;
}

/**
 * Runs tool calls that callers' `bullmqBackend` sends through Redis: one BullMQ worker per
 * tool queue. Cancellations and timeouts from the caller abort the tool's signal here; if this
 * process dies mid-call, the call's lock runs out and another worker runs it.
 */
export function startWorker(options: StartWorkerOptions): VolleyWorker {
  const where = "startWorker";
  if (options === null || typeof options !== "object") invalidOption(where, "options", "{ tools, connection, concurrency? }", options);
  const { tools, connection, concurrency = 8, prefix = DEFAULT_PREFIX, lockDurationMs = 5000 } = options;
  if (!Array.isArray(tools) || tools.length === 0 || !tools.every(isTool)) invalidOption(where, "tools", "a non-empty array of tools made by defineTool()", tools);
  if (connection === null || typeof connection !== "object") invalidOption(where, "connection", "Redis connection options, as BullMQ takes them", connection);
  if (!Number.isInteger(concurrency) || concurrency < 1) invalidOption(where, "concurrency", "an integer from 1 and up", concurrency);
  if (!Number.isInteger(lockDurationMs) || lockDurationMs < 100) invalidOption(where, "lockDurationMs", "an integer number of ms from 100 up", lockDurationMs);

  const workers = new Map<string, Worker<CallJob, CallOutcome>>();
  for (const tool of tools) {
    const name = queueName(tool.name);
    workers.set(
      name,
      new Worker<CallJob, CallOutcome>(name, (job, _token, signal) => runCall(tool, job, signal), {
        connection,
        prefix,
        concurrency,
        lockDuration: lockDurationMs,
        stalledInterval: lockDurationMs,
      }),
    );
  }

  // Callers publish cancellations; the worker running the job aborts its signal, the others ignore it.
  const relay = new Relay({ connection, prefix, namespace: RELAY_NAMESPACE, name: "volley worker" });
  const subscription = relay.subscribe<CancelMessage>(CANCEL_TOPIC, ({ data }) => {
    workers.get(data.queue)?.cancelJob(data.jobId, data.reason);
  });

  return {
    ready: Promise.all([...workers.values()].map((worker) => worker.waitUntilReady())).then(async () => {
      await subscription;
    }),
    close: async () => {
      await Promise.all([...workers.values()].map((worker) => worker.close()));
      await relay.close();
    },
  };
}

async function runCall(tool: Tool, job: Job<CallJob, CallOutcome>, signal: AbortSignal | undefined): Promise<CallOutcome> {
  const { args, callId, runId, attempt } = job.data;
  const context: ToolContext = {
    signal: signal ?? new AbortController().signal,
    callId,
    runId,
    name: tool.name,
    attempt,
    progress: (update) => void job.updateProgress(update).catch(() => undefined),
  };
  try {
    const output = await (tool.execute as (args: unknown, context: ToolContext) => unknown)(args, context);
    return { ok: true, output };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}
