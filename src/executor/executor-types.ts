import { keysOf } from "../errors/volley-error.ts";
import type { ExecutorStats } from "../run/executor-stats.ts";
import type { Instrumentation } from "../run/instrumentation.ts";
import type { ApprovalDecision, ApprovalRequest, RunEvent, RunResult, ToolCall } from "../run/types.ts";
import type { Clock } from "../shared/clock.ts";
import type { Backend } from "../backend/backend.ts";
import type { WorkerPool } from "../worker/worker-pool.ts";
import type { RateLimit, Tool } from "../tool/define-tool.ts";
import type { RetryPolicy } from "../tool/retry-policy.ts";
import type { RunStore } from "../store/run-store.ts";

export interface ExecutorOptions {
  /** The tools calls may name. Names must be unique. */
  tools: readonly Tool[];
  /** Most calls running at once across every run of this executor. Minimum: 1. @default 16 */
  maxConcurrency?: number;
  /** `false` runs each run's calls one at a time, in the order they were added (dependencies still respected). @default true */
  parallel?: boolean;
  /** How ready calls of equal priority are chosen: longest estimated remaining path first, or in arrival order. @default "critical-path" */
  order?: "critical-path" | "fifo";
  /** Time limit of each attempt of a call, unless its call or tool sets one. @default none */
  timeoutMs?: number;
  /** Retry policy of tools that set none. @default `{ attempts: 1 }` (no retries) */
  retry?: RetryPolicy;
  /** Called synchronously with every event of every run. A listener that throws is reported once as a process warning and otherwise ignored. */
  onEvent?: (event: RunEvent) => void;
  /** Expected duration of each tool in ms, until durations are observed; tools with neither count as 1 ms. @default {} */
  estimates?: Readonly<Record<string, number>>;
  /** Where time is read; inject one for deterministic tests. @default the high-resolution system clock */
  clock?: Clock;
  /** Source of jitter for retry back-off, in [0, 1). @default Math.random */
  random?: () => number;
  /** Watches runs from the inside, as `createTracing()` from `volley/otel` does. @default none */
  instrumentation?: Instrumentation;
  /**
   * Records every run, call and event here (a `RunStore` from `volley/store`), in batches off the
   * hot path, and seeds per-tool duration estimates from it (see `ready`). @default none
   */
  history?: RunStore;
  /**
   * With `history`: while a call waits for approval, how often the history is read for a
   * decision recorded there from another process (`store.decideApproval`, a dashboard sharing
   * the file). @default 1000
   */
  decisionPollMs?: number;
  /**
   * Decides calls of tools with `needsApproval`: by a rule, or by asking a person. Return
   * `undefined` to leave a call to `run.approve()` / `run.deny()`; a policy that throws denies.
   * @default none: such calls wait for `run.approve()` or `run.deny()`
   */
  approve?: (request: ApprovalRequest) => ApprovalDecision | Promise<ApprovalDecision>;
  /** Where every call executes. @default in this thread, except tools declared with `worker`, which run in `workers` */
  backend?: Backend;
  /** Without a `backend`: the pool that runs tools declared with `worker`. @default one made on first need, with a thread per core */
  workers?: WorkerPool;
}

export interface RunOptions {
  /** Aborting it cancels the run. */
  signal?: AbortSignal;
  /** Most calls of this run running at once, within the executor's limit. @default the executor's `maxConcurrency` */
  maxConcurrency?: number;
  /** `false` runs this run's calls one at a time in the order added. @default the executor's `parallel` */
  parallel?: boolean;
  /** Time limit of the whole run: then running calls answer `timeout` and the rest `cancelled`. @default none */
  timeoutMs?: number;
  /** Id of the run, for logs and events. @default the executor's random prefix and a counter */
  runId?: string;
  /**
   * What the run is, for people: kept in the history, shown in the dashboard's runs list and on
   * the run's page, and found by its search. The agent names each step by its conversation and
   * question. Cut to 200 characters. @default none
   */
  name?: string;
  /** Called synchronously with each event of this run. */
  onEvent?: (event: RunEvent) => void;
  /**
   * Id of an earlier run whose unfinished work this run takes over, such as an agent step
   * resumed after its process stopped. The history links the two both ways. @default none
   */
  resumes?: string;
}

/** A run that calls can be added to while it goes, as a model streams them. */
export interface LiveRun {
  readonly id: string;
  /** Adds a call and starts it as soon as its inputs and limits allow. Returns its id. Throws after `end()` or `cancel()`. */
  add(call: ToolCall): string;
  /** No more calls will come; `result` resolves once every call is answered. */
  end(): void;
  /** Aborts running calls and answers the rest `cancelled`. Implies `end()`. */
  cancel(reason?: unknown): void;
  /**
   * Lets a call that waits for approval run. Resolves to whether this decision stands: false when
   * no call of that id is waiting (or one is being decided already) and, with a history, when
   * another process recorded a decision first; that one is applied instead.
   */
  approve(callId: string, reason?: string): Promise<boolean>;
  /** Answers a call that waits for approval `denied`, with the reason the model will read. Resolves as `approve` does. */
  deny(callId: string, reason?: string): Promise<boolean>;
  /** The calls waiting for approval now, in the order they asked. */
  pendingApprovals(): ApprovalRequest[];
  /** Every event of the run from its start, for each reader; ends after `run-end`. */
  readonly events: AsyncIterable<RunEvent>;
  readonly result: Promise<RunResult>;
}

/** Per-tool limits that can change at runtime. */
export interface ToolSettings {
  concurrency?: number;
  rateLimit?: RateLimit | null;
}

export interface ExecutorConfiguration {
  maxConcurrency?: number;
  parallel?: boolean;
  timeoutMs?: number | null;
  retry?: RetryPolicy;
  tools?: Readonly<Record<string, ToolSettings>>;
}

export interface Executor {
  /** Runs a batch of calls; resolves with one result per call, in order. Never rejects because a call failed. */
  run(calls: readonly ToolCall[], options?: RunOptions): Promise<RunResult>;
  /** Opens a run that takes calls as they come. */
  start(options?: RunOptions): LiveRun;
  /** Per-tool and per-run figures since the executor was created. */
  stats(): ExecutorStats;
  /** Current per-tool duration estimates (ms), as learned so far. */
  estimates(): Record<string, number>;
  /** Changes limits while runs are going; queued calls see them at once. */
  configure(changes: ExecutorConfiguration): void;
  /**
   * Replaces the tools, while runs are going: calls added from now on see the new set (a removed
   * tool is answered `unknown_tool`); calls already added keep the definition they came with. A
   * tool given again as the same object keeps its gate, limits and learned estimate; figures
   * are kept by name. An MCP server whose tool list changes uses it (`mcpTools`'s `onChange`).
   */
  setTools(tools: readonly Tool[]): void;
  readonly tools: readonly Tool[];
  /** The store its runs are recorded in (`history`), or undefined. */
  readonly history: RunStore | undefined;
  /** Resolves once duration estimates from `history` are loaded (at once without history). Await it before the first run to rank by them. */
  readonly ready: Promise<void>;
  /** Resolves once every history write so far is in the store. */
  flush(): Promise<void>;
}

export const EXECUTOR_KEYS = keysOf<ExecutorOptions>({
  tools: true,
  maxConcurrency: true,
  parallel: true,
  timeoutMs: true,
  retry: true,
  onEvent: true,
  estimates: true,
  clock: true,
  random: true,
  instrumentation: true,
  history: true,
  decisionPollMs: true,
  order: true,
  approve: true,
  backend: true,
  workers: true,
});
export const RUN_KEYS = keysOf<RunOptions>({
  signal: true,
  maxConcurrency: true,
  parallel: true,
  timeoutMs: true,
  runId: true,
  onEvent: true,
  resumes: true,
  name: true,
});
export const CONFIGURATION_KEYS = keysOf<ExecutorConfiguration>({
  maxConcurrency: true,
  parallel: true,
  timeoutMs: true,
  retry: true,
  tools: true,
});
export const TOOL_SETTING_KEYS = keysOf<ToolSettings>({ concurrency: true, rateLimit: true });
