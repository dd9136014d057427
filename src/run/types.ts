/** A tool call as a model asks for it, in Volley's canonical shape. */
export interface ToolCall {
  /** Unique within a run; generated (`call_<index>`) when missing. */
  id?: string;
  /** The tool to run. */
  name: string;
  /**
   * An object, or raw JSON text as a model emits it. `{ "$ref": "<id>", "path": "/json/pointer" }`
   * anywhere inside is replaced by that call's output, and makes this call wait for it.
   */
  args?: Record<string, unknown> | string;
  /** Calls that must end successfully before this one starts. */
  dependsOn?: readonly string[];
  /** Higher starts first among ready calls. @default the tool's priority */
  priority?: number;
  /** Time limit of each attempt of this call. @default the tool's, then the executor's */
  timeoutMs?: number;
}

/** Why a call did not succeed. Errors are data: they cross processes and reach models. */
export type CallErrorType =
  | "unknown_tool"
  | "invalid_arguments"
  | "invalid_reference"
  | "dependency_failed"
  | "cycle"
  | "tool_error"
  | "timeout"
  | "cancelled"
  | "denied"
  | "resource_exhausted";

export interface CallError {
  type: CallErrorType;
  /** Plain words a model can act on. */
  message: string;
  /** Whether trying the same call again may succeed. */
  retryable: boolean;
  /** The calls this error is about: the failed dependency, or the others on a cycle. */
  callIds?: string[];
}

/**
 * A call's one result: a success with its `output`, or a failure with its `error`. Narrow on
 * `ok` (`if (result.ok) result.output`); `result.error?.type` reads either kind.
 */
export type ToolResult<Output = unknown> = ToolSuccess<Output> | ToolFailure;

export interface ToolSuccess<Output = unknown> extends ToolResultTiming {
  ok: true;
  output: Output;
  error?: undefined;
}

export interface ToolFailure extends ToolResultTiming {
  ok: false;
  error: CallError;
  output?: undefined;
}

/** What every result carries, whatever its outcome. */
export interface ToolResultTiming {
  id: string;
  name: string;
  /** Attempts made; 0 when the call never ran. */
  attempts: number;
  /** Epoch ms when the first attempt started, or when the call was answered without running. */
  startedAt: number;
  /** Epoch ms when the result was delivered. */
  endedAt: number;
  /** `endedAt - startedAt`: retries and their back-off included. */
  durationMs: number;
  /** Time from being added to the run until the first attempt started (or the answer). */
  queuedMs: number;
  /** The output came from the cache or from an identical call running at the same time. */
  cached: boolean;
}

export interface RunStats {
  calls: number;
  succeeded: number;
  failed: number;
  /** Results reused from the cache or shared with an identical in-flight call. */
  cached: number;
  /** Retries made, over all calls. */
  retries: number;
  /** From the run's start to its last result. */
  wallMs: number;
  /** Sum of the calls' durations: the time running them one after another would take. */
  sumMs: number;
  /**
   * `sumMs / wallMs`: what parallelism bought. `null` when fewer than two calls ran (one call, or
   * only calls answered without running), where there is nothing to run in parallel.
   */
  speedup: number | null;
  /** Longest chain of dependent calls, by measured durations: no schedule can beat it. */
  criticalPathMs: number;
  /** Most attempts of this run running at once. */
  maxInFlight: number;
  /** Count of failed calls by error type. */
  errors: Partial<Record<CallErrorType, number>>;
}

/** A call that waits for a person's approval. */
export interface ApprovalRequest {
  runId: string;
  callId: string;
  name: string;
  /** The arguments the call would run with, references resolved and validated. */
  args: Readonly<Record<string, unknown>>;
  /** Epoch ms. */
  requestedAt: number;
}

/** Approve (`true`), deny (`false`), either with a reason; `undefined` leaves the call to `run.approve` / `run.deny`. */
export type ApprovalDecision = boolean | { approved: boolean; reason?: string } | undefined;

export type RunStatus = "completed" | "cancelled" | "timed_out";

export interface RunResult {
  runId: string;
  status: RunStatus;
  /** One per call, in the order the calls were added. */
  results: ToolResult[];
  stats: RunStats;
}

interface EventBase {
  runId: string;
  /** Epoch ms. */
  at: number;
}

export type RunEvent =
  | (EventBase & { type: "run-start" })
  /** `dependsOn`: the calls this one waits for, by `dependsOn` and by `$ref`. */
  | (EventBase & { type: "call-add"; callId: string; name: string; dependsOn: string[] })
  | (EventBase & { type: "call-start"; callId: string; name: string; attempt: number })
  /** The call needs a person's approval and waits for it, holding no slot. */
  | (EventBase & { type: "approval-start"; callId: string; name: string; args: Readonly<Record<string, unknown>> })
  /** The approval was decided (or the run ended first: not approved, with the reason). */
  | (EventBase & { type: "approval-end"; callId: string; name: string; approved: boolean; reason?: string })
  | (EventBase & {
      type: "call-progress";
      callId: string;
      name: string;
      progress: number;
      total?: number;
      message?: string;
    })
  | (EventBase & {
      type: "call-retry";
      callId: string;
      name: string;
      attempt: number;
      delayMs: number;
      error: CallError;
    })
  | (EventBase & { type: "call-end"; callId: string; name: string; result: ToolResult })
  | (EventBase & { type: "run-end"; result: RunResult });

export type RunEventType = RunEvent["type"];
