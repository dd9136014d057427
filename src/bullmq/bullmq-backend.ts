import { randomUUID } from "node:crypto";
import { Queue, QueueEvents, type ConnectionOptions } from "bullmq";
import type { Backend } from "../backend/backend.ts";
import { ToolError } from "../errors/tool-error.ts";
import { invalidOption } from "../errors/volley-error.ts";
import type { ProgressUpdate, Tool } from "../tool/define-tool.ts";
import { deserializeError } from "../worker/worker-messages.ts";
import {
  CANCEL_TOPIC,
  DEFAULT_PREFIX,
  queueName,
  type CallJob,
  type CallOutcome,
  type CancelMessage,
} from "./job-envelope.ts";
import { openRelay, settlesWithin, type OwnRelay } from "./own-relay.ts";
import { readJobOutcomes, type JobOutcome } from "./job-outcomes.ts";
import { RedisReachability } from "./reachability.ts";
import { injectTraceContext, loadOpenTelemetry } from "./trace-context.ts";

export interface BullmqBackendOptions {
  /** Redis, as BullMQ takes it: `{ host, port }`, a URL in `{ url }`, or an ioredis client. */
  connection: ConnectionOptions;
  /** Redis key prefix; callers and workers must agree. @default "volley" */
  prefix?: string;
  /** How long Redis may be unreachable before the calls waiting on it fail (ms). @default 10000 */
  outageTimeoutMs?: number;
  /**
   * How long Redis keeps a finished call's result for a caller that has not read it yet (ms): a
   * caller that falls this far behind (a stalled event loop) finds its result gone. Minimum: 1000.
   * @default 3600000 (an hour)
   */
  keepFinishedMs?: number;
}

/** Calls sent and silent this long are looked up in Redis: their events may have been missed (ms). */
const RECONCILE_AFTER_MS = 2000;
/** How often silent calls are looked for (ms). */
const RECONCILE_EVERY_MS = 500;
/** Most calls looked up in one turn: the rest wait for the next, which looks at others first. */
const MOST_LOOKS_PER_TURN = 5000;

interface Lane {
  tool: Tool;
  queue: Queue<CallJob, CallOutcome>;
  events: QueueEvents;
}

/** A call sent (or being sent) to the workers, whose outcome the caller awaits. */
interface Pending {
  readonly tool: Tool;
  /** Redis has acknowledged the job: from here on, a worker may be running it. */
  sent: boolean;
  /** Since when nothing was heard of the call: when it was sent, or last looked up. */
  quietSince: number;
  resolve(output: unknown): void;
  reject(error: Error): void;
  progress(update: ProgressUpdate): void;
}

/** QueueEvents.close() waits for Redis to come back; without it, the connection is dropped instead. */
async function closeEvents(events: QueueEvents): Promise<void> {
  const closing = events.close();
  if (!(await settlesWithin(closing, 500))) await events.getBackend().close(true);
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const workerFailed = (reason: string | undefined): Error =>
  new Error(`the worker running it failed: ${reason ?? "no reason given"}`);

/**
 * Sends each call to worker processes through Redis, with BullMQ: a queue per tool, whose
 * concurrency and rate limits are set cluster-wide from the tool's. Results come back on the
 * queues' event streams, as they happen; the scheduler, its graph and its limits stay here.
 *
 * Redis going away is answered, never waited on forever: calls made while it is unreachable fail
 * at once (retryably: nothing was sent); calls already sent wait for it to come back, and then
 * either go on, take the result they missed, or fail plainly if Redis lost them (a restart
 * without persistence). If it stays away for `outageTimeoutMs`, they fail too.
 */
export function bullmqBackend(options: BullmqBackendOptions): Backend {
  const where = "bullmqBackend";
  if (options === null || typeof options !== "object")
    invalidOption(where, "options", "{ connection, prefix?, outageTimeoutMs? }", options);
  const { connection, prefix = DEFAULT_PREFIX, outageTimeoutMs = 10_000, keepFinishedMs = 3_600_000 } = options;
  if (connection === null || typeof connection !== "object")
    invalidOption(where, "connection", "Redis connection options, as BullMQ takes them", connection);
  if (typeof prefix !== "string" || prefix === "") invalidOption(where, "prefix", "a non-empty string", prefix);
  if (!Number.isInteger(outageTimeoutMs) || outageTimeoutMs < 1)
    invalidOption(where, "outageTimeoutMs", "an integer number of ms from 1 up", outageTimeoutMs);
  if (!Number.isInteger(keepFinishedMs) || keepFinishedMs < 1000)
    invalidOption(where, "keepFinishedMs", "an integer number of ms from 1000 up", keepFinishedMs);
  const keptFor = { age: Math.ceil(keepFinishedMs / 1000) };

  const lanes = new Map<string, Promise<Lane>>();
  /** Every queue and event stream opened, ready or not: closing closes them all. */
  const opened = new Set<Lane>();
  let relay: OwnRelay | undefined;
  /** Cancellations on their way to Redis: closing waits for them, or the worker would run on. */
  const cancelling = new Set<Promise<void>>();
  const pending = new Map<string, Pending>();
  let closed = false;
  const openTelemetry = loadOpenTelemetry();

  const redis = new RedisReachability();
  let outageTimer: ReturnType<typeof setTimeout> | undefined;
  let reconcileTimer: ReturnType<typeof setTimeout> | undefined;

  function settle(jobId: string, outcome: unknown): void {
    const call = pending.get(jobId);
    if (call === undefined) return;
    pending.delete(jobId);
    const result = (typeof outcome === "string" ? JSON.parse(outcome) : outcome) as CallOutcome;
    if (result.ok) call.resolve(result.output);
    else call.reject(deserializeError(result.error));
  }

  function fail(jobId: string, error: Error): void {
    const call = pending.get(jobId);
    pending.delete(jobId);
    call?.reject(error);
  }

  /** Redis stayed away too long: every call waiting on it is answered now. */
  function endOutage(): void {
    outageTimer = undefined;
    const seconds = outageTimeoutMs / 1000;
    for (const [jobId, call] of pending) {
      fail(
        jobId,
        call.sent
          ? new ToolError(
              `${redis.describe()} for ${seconds} s: the call was sent to the workers, but whether it ran is unknown`,
              { retryable: call.tool.idempotent },
            )
          : new ToolError(`${redis.describe()} for ${seconds} s: the call was not sent`, { retryable: true }),
      );
    }
  }

  /** A lane's part in an outage: losing Redis starts the clock; finding it again, recovery. */
  function outageHandlers(lane: () => Promise<Lane>): { lost(): void; back(): void } {
    return {
      lost: () => {
        outageTimer ??= setTimeout(endOutage, outageTimeoutMs);
      },
      back: () => {
        if (redis.reachable) {
          clearTimeout(outageTimer);
          outageTimer = undefined;
        }
        void lane().then(recover, () => undefined);
      },
    };
  }

  /**
   * Back from an outage. If Redis restarted empty, it forgot the tool's cluster-wide limits and
   * the calls it held: set the limits again, then find out what became of each call sent.
   */
  async function recover(lane: Lane): Promise<void> {
    await applyLimits(lane.tool, lane.queue).catch(() => undefined);
    const sent = [...pending].filter(([, call]) => call.sent && call.tool.name === lane.tool.name);
    await reconcile(
      lane,
      sent,
      "Redis restarted and lost this call (it keeps no data across restarts unless persistence is on)",
    ).catch(() => undefined);
  }

  /**
   * Answers calls from what Redis holds of their jobs. Their events can be missed: the event
   * stream is trimmed, and a caller that falls behind it (a burst, a stalled event loop) never
   * reads them. Each call is answered once, whichever of the two comes first.
   */
  async function reconcile(lane: Lane, calls: readonly [string, Pending][], whyGone: string): Promise<void> {
    const outcomes = await readJobOutcomes(
      lane.queue,
      calls.map(([jobId]) => jobId),
    );
    calls.forEach(([jobId, call], index) => {
      if (pending.get(jobId) !== call) return;
      const outcome = outcomes[index] as JobOutcome;
      if (outcome.kind === "completed") settle(jobId, outcome.returnvalue);
      else if (outcome.kind === "failed") fail(jobId, workerFailed(outcome.reason));
      else if (outcome.kind === "gone")
        fail(
          jobId,
          new ToolError(`${whyGone}: it may have run on a worker, in part or whole`, {
            retryable: call.tool.idempotent,
          }),
        );
    });
  }

  /** Looks up the calls nothing was heard of for a while, a turn at a time while any call is out. */
  function reconcileLater(): void {
    if (reconcileTimer === undefined && !closed)
      reconcileTimer = setTimeout(() => void reconcileQuiet(), RECONCILE_EVERY_MS);
  }

  async function reconcileQuiet(): Promise<void> {
    const now = Date.now();
    const byTool = new Map<string, [string, Pending][]>();
    let looks = 0;
    let out = 0;
    for (const entry of pending) {
      const call = entry[1];
      if (!call.sent) continue;
      out++;
      if (now - call.quietSince < RECONCILE_AFTER_MS || looks >= MOST_LOOKS_PER_TURN) continue;
      call.quietSince = now;
      looks++;
      const calls = byTool.get(call.tool.name);
      if (calls === undefined) byTool.set(call.tool.name, [entry]);
      else calls.push(entry);
    }
    const why = `Redis no longer has this call (lost in a restart without persistence, or dropped ${keptFor.age} s after it finished while this caller had not read it)`;
    await Promise.all(
      [...byTool].map(async ([name, calls]) => {
        const lane = await lanes.get(name);
        if (lane !== undefined) await reconcile(lane, calls, why);
      }),
    ).catch(() => undefined); // Redis away: the outage handling answers the calls.
    reconcileTimer = undefined;
    if (out > 0) reconcileLater();
  }

  // Every caller sets the same limits from the same tool: the cluster runs no more of it at once, nor faster.
  async function applyLimits(tool: Tool, queue: Queue<CallJob, CallOutcome>): Promise<void> {
    if (tool.concurrency === Infinity) await queue.removeGlobalConcurrency();
    else await queue.setGlobalConcurrency(tool.concurrency);
    if (tool.rateLimit === undefined) await queue.removeGlobalRateLimit();
    else await queue.setGlobalRateLimit(tool.rateLimit.limit, tool.rateLimit.intervalMs);
  }

  function laneOf(tool: Tool): Promise<Lane> {
    let lane = lanes.get(tool.name);
    if (lane === undefined) {
      const opening = (async () => {
        const name = queueName(tool.name);
        const queue = new Queue<CallJob, CallOutcome>(name, { connection, prefix });
        const events = new QueueEvents(name, { connection, prefix });
        opened.add({ tool, queue, events });
        const outage = outageHandlers(() => opening);
        redis.watch(queue.getBackend(), outage);
        redis.watch(events.getBackend(), outage);
        // The classes' own `error` events repeat what the connections said; calls carry it.
        queue.on("error", () => undefined);
        events.on("error", () => undefined);
        events.on("completed", ({ jobId, returnvalue }) => settle(jobId, returnvalue));
        events.on("failed", ({ jobId, failedReason }) => fail(jobId, workerFailed(failedReason)));
        events.on("progress", ({ jobId, data }) => {
          const call = pending.get(jobId);
          if (call === undefined) return;
          call.quietSince = Date.now();
          call.progress(data as ProgressUpdate);
        });
        try {
          await Promise.all([events.waitUntilReady(), openTelemetry]);
          await applyLimits(tool, queue);
        } catch (error) {
          // Not kept: the next call tries again, once Redis answers.
          lanes.delete(tool.name);
          await Promise.allSettled([events.close(), queue.close()]);
          throw error;
        }
        return { tool, queue, events };
      })();
      lane = opening;
      lanes.set(tool.name, lane);
    }
    return lane;
  }

  async function cancel(tool: Tool, jobId: string, reason: string): Promise<void> {
    const lane = await laneOf(tool);
    // Waiting: take it off the queue. Running: ask the worker that runs it to abort.
    await lane.queue.remove(jobId).catch(() => 0);
    relay ??= openRelay(connection, prefix, "volley caller");
    const message: CancelMessage = { queue: queueName(tool.name), jobId, reason };
    await relay.relay.publish(CANCEL_TOPIC, message);
  }

  function sendCancel(tool: Tool, jobId: string, reason: string): void {
    const sent = cancel(tool, jobId, reason)
      .catch(() => undefined)
      .finally(() => cancelling.delete(sent));
    cancelling.add(sent);
  }

  return {
    execute(tool, args, context) {
      if (closed) return Promise.reject(new Error("the BullMQ backend is closed"));
      const { signal } = context;
      if (signal.aborted) return Promise.reject(signal.reason as Error);
      if (!redis.reachable)
        return Promise.reject(new ToolError(`${redis.describe()}: the call was not sent`, { retryable: true }));
      const jobId = randomUUID();
      return new Promise((resolve, reject) => {
        const onAbort = (): void => {
          pending.delete(jobId);
          reject(signal.reason as Error);
          // Not yet in Redis: it is taken back once it is (below).
          if (call.sent) sendCancel(tool, jobId, messageOf(signal.reason));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        const detach = () => signal.removeEventListener("abort", onAbort);
        const call: Pending = {
          tool,
          sent: false,
          quietSince: 0,
          resolve: (output) => {
            detach();
            resolve(output);
          },
          reject: (error) => {
            detach();
            reject(error);
          },
          progress: (update) => context.progress(update),
        };
        pending.set(jobId, call);
        laneOf(tool)
          .then(async (lane) => {
            // Read here, where the caller's context (the call's span) is still the active one.
            const trace = injectTraceContext(await openTelemetry);
            const job: CallJob = {
              args,
              callId: context.callId,
              runId: context.runId,
              attempt: context.attempt,
              ...(trace ? { trace } : {}),
            };
            await lane.queue.add(tool.name, job, {
              jobId,
              attempts: 1,
              removeOnComplete: keptFor,
              removeOnFail: keptFor,
            });
            call.sent = true;
            call.quietSince = Date.now();
            reconcileLater();
            // Answered while it was on its way (an outage, a cancel): take it back, or it would run for no one.
            if (pending.get(jobId) !== call)
              sendCancel(tool, jobId, signal.aborted ? messageOf(signal.reason) : "the caller stopped waiting for it");
          })
          .catch((error: unknown) => {
            if (pending.get(jobId) === call)
              fail(jobId, new ToolError(`could not send the call to Redis: ${messageOf(error)}`, { retryable: true }));
          });
      });
    },

    async close() {
      closed = true;
      redis.close();
      clearTimeout(outageTimer);
      clearTimeout(reconcileTimer);
      // Cancels get a moment to reach the workers; with Redis gone they never will.
      await settlesWithin(Promise.all(cancelling), 2000);
      for (const jobId of pending.keys()) fail(jobId, new Error("the BullMQ backend closed before the call ended"));
      await Promise.allSettled([...opened].flatMap(({ queue, events }) => [closeEvents(events), queue.close()]));
      await relay?.close();
    },
  };
}
