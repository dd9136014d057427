/** What the pool and its threads say to each other. */

/** Pool → thread: run one attempt. */
export interface RunMessage {
  type: "run";
  taskId: number;
  module: string;
  toolName: string;
  args: unknown;
  callId: string;
  runId: string;
  attempt: number;
}

/** Thread → pool. */
export type ThreadMessage =
  | { type: "progress"; taskId: number; update: { progress: number; total?: number; message?: string } }
  | { type: "result"; taskId: number; ok: true; output: unknown }
  | { type: "result"; taskId: number; ok: false; error: SerializedError };

/** A failure as it crosses threads: what Volley reads from a thrown error survives. */
export interface SerializedError {
  name: string;
  message: string;
  retryable?: boolean;
  retryAfterMs?: number;
  code?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error === null || typeof error !== "object") return { name: "Error", message: String(error) };
  const fields = error as Partial<Record<keyof SerializedError, unknown>>;
  return {
    name: typeof fields.name === "string" ? fields.name : "Error",
    message: typeof fields.message === "string" ? fields.message : "(no message)",
    ...(typeof fields.retryable === "boolean" ? { retryable: fields.retryable } : {}),
    ...(typeof fields.retryAfterMs === "number" ? { retryAfterMs: fields.retryAfterMs } : {}),
    ...(typeof fields.code === "string" ? { code: fields.code } : {}),
  };
}

/** The error again, on the caller's side, with the fields the scheduler reads. */
export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  return Object.assign(error, {
    ...(serialized.retryable !== undefined ? { retryable: serialized.retryable } : {}),
    ...(serialized.retryAfterMs !== undefined ? { retryAfterMs: serialized.retryAfterMs } : {}),
    ...(serialized.code !== undefined ? { code: serialized.code } : {}),
  });
}
