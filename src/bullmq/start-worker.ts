import { Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Backend } from "../backend/backend.ts";
import { localBackend } from "../worker/local-backend.ts";
import { invalidOption } from "../errors/volley-error.ts";
import { isTool, type Tool, type ToolContext } from "../tool/define-tool.ts";
import { serializeError } from "../worker/worker-messages.ts";
import {
  CANCEL_TOPIC,
  DEFAULT_PREFIX,
  queueName,
  type CallJob,
  type CallOutcome,
  type CancelMessage,
} from "./job-envelope.ts";
import { openRelay } from "./own-relay.ts";
import { RedisReachability } from "./reachability.ts";
import { loadOpenTelemetry } from "./trace-context.ts";

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
  /** Told of trouble with Redis (unreachable, a call it lost). BullMQ reconnects by itself. @default one line on stderr per new message */
  onError?: (error: Error) => void;
}

export interface VolleyWorker {
  /** Resolves once every queue is connected and taking jobs. */
  readonly ready: Promise<void>;
  /**
   * Stops taking calls, lets running ones finish (unless Redis is unreachable), then disconnects.
   * If Redis goes away while they finish, it waits for Redis to come back to deliver their results.
   */
  close(): Promise<void>;
}

/** Logs each message once, not once per reconnection attempt. */
function logChanges(): (error: Error) => void {
  let last: string | undefined;
  return (error) => {
    if (error.message === last) return;
    last = error.message;
    process.stderr.write(`volley worker: ${error.message}\n`);
  };
}

/**
 * Runs tool calls that callers' `bullmqBackend` sends through Redis: one BullMQ worker per
 * tool queue. Cancellations and timeouts from the caller abort the tool's signal here; if this
 * process dies mid-call, the call's lock runs out and another worker runs it. Tools declared
 * with `worker` run in this process's worker threads, as they would in the caller's. With the
 * OpenTelemetry SDK registered here, each call gets a span in the caller's trace.
 */
export function startWorker(options: StartWorkerOptions): VolleyWorker {
  const where = "startWorker";
  if (options === null || typeof options !== "object")
    invalidOption(where, "options", "{ tools, connection, concurrency? }", options);
  const {
    tools,
    connection,
    concurrency = 8,
    prefix = DEFAULT_PREFIX,
    lockDurationMs = 5000,
    onError = logChanges(),
  } = options;
  if (!Array.isArray(tools) || tools.length === 0 || !tools.every(isTool))
    invalidOption(where, "tools", "a non-empty array of tools made by defineTool()", tools);
  if (connection === null || typeof connection !== "object")
    invalidOption(where, "connection", "Redis connection options, as BullMQ takes them", connection);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    invalidOption(where, "concurrency", "an integer from 1 and up", concurrency);
  if (!Number.isInteger(lockDurationMs) || lockDurationMs < 100)
    invalidOption(where, "lockDurationMs", "an integer number of ms from 100 up", lockDurationMs);
  if (typeof onError !== "function") invalidOption(where, "onError", "a function of an Error", onError);

  const backend = localBackend();
  const redis = new RedisReachability();
  const report = (error: unknown) => onError(error instanceof Error ? error : new Error(String(error)));
  const workers = new Map<string, Worker<CallJob, CallOutcome>>();
  for (const tool of tools) {
    const name = queueName(tool.name);
    const worker = new Worker<CallJob, CallOutcome>(
      name,
      (job, _token, signal) => runCall(backend, tool, job, signal),
      {
        connection,
        prefix,
        concurrency,
        lockDuration: lockDurationMs,
        stalledInterval: lockDurationMs,
      },
    );
    worker.on("error", report);
    redis.watch(worker.getBackend());
    workers.set(name, worker);
  }

  // Callers publish cancellations; the worker running the job aborts its signal, the others ignore it.
  const relay = openRelay(connection, prefix, "volley worker");
  const subscription = relay.relay.subscribe<CancelMessage>(CANCEL_TOPIC, ({ data }) => {
    workers.get(data.queue)?.cancelJob(data.jobId, data.reason);
  });

  return {
    ready: Promise.all([...workers.values()].map((worker) => worker.waitUntilReady())).then(async () => {
      await Promise.all([subscription, loadOpenTelemetry()]);
    }),
    close: async () => {
      // Running calls finish first, unless Redis is gone: then their results have nowhere to go.
      const force = !redis.reachable;
      redis.close();
      await Promise.all([...workers.values()].map((worker) => worker.close(force)));
      await relay.close();
      await backend.close();
    },
  };
}

async function runCall(
  backend: Backend,
  tool: Tool,
  job: Job<CallJob, CallOutcome>,
  signal: AbortSignal | undefined,
): Promise<CallOutcome> {
  const { args, callId, runId, attempt, trace } = job.data;
  const callSignal = signal ?? new AbortController().signal;
  const context: ToolContext = {
    signal: callSignal,
    abortSignal: callSignal,
    callId,
    toolCallId: callId,
    runId,
    name: tool.name,
    attempt,
    progress: (update) => void job.updateProgress(update).catch(() => undefined),
  };
  const execute = async (): Promise<CallOutcome> => {
    try {
      return { ok: true, output: await backend.execute(tool, args as Record<string, unknown>, context) };
    } catch (error) {
      return { ok: false, error: serializeError(error) };
    }
  };
  const otel = await loadOpenTelemetry();
  if (otel === undefined) return execute();

  // A consumer span, by the messaging conventions, in the caller's trace; the tool runs inside it.
  const parent = trace === undefined ? otel.context.active() : otel.propagation.extract(otel.context.active(), trace);
  const tracer = otel.trace.getTracer("volley");
  const span = tracer.startSpan(
    `process ${queueName(tool.name)}`,
    {
      kind: otel.SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "bullmq",
        "messaging.operation.type": "process",
        "messaging.destination.name": queueName(tool.name),
        "messaging.message.id": job.id ?? "",
        "gen_ai.tool.name": tool.name,
        "gen_ai.tool.call.id": callId,
        "volley.run.id": runId,
        "volley.attempt": attempt,
      },
    },
    parent,
  );
  const outcome = await otel.context.with(otel.trace.setSpan(parent, span), execute);
  if (!outcome.ok) {
    span.setAttribute("error.type", outcome.error.code ?? outcome.error.name);
    span.setStatus({ code: otel.SpanStatusCode.ERROR, message: outcome.error.message });
  }
  span.end();
  return outcome;
}
