import type { SerializedError } from "../worker/worker-messages.ts";

/** What a job carries to a worker. */
export interface CallJob {
  args: unknown;
  callId: string;
  runId: string;
  attempt: number;
  /** The caller's trace context (W3C `traceparent` and the like), so that the worker's spans join its trace. */
  trace?: Record<string, string>;
}

/** What a worker answers with: a job completes with this whether the tool succeeded or failed, so the failure's details survive. */
export type CallOutcome = { ok: true; output: unknown } | { ok: false; error: SerializedError };

/** Each tool has its own queue, so that its limits hold across every worker. */
export function queueName(toolName: string): string {
  return `tool.${toolName}`;
}

/** The Relay topic where callers ask workers to stop a running job. */
export const CANCEL_TOPIC = "volley.cancel";
export const RELAY_NAMESPACE = "volley";

export interface CancelMessage {
  queue: string;
  jobId: string;
  reason: string;
}

export const DEFAULT_PREFIX = "volley";
