import type { Instrumentation } from "../run/instrumentation.ts";
import type { HistoryRecorder } from "../store/history-recorder.ts";
import type { StoredDecisions } from "./stored-decisions.ts";
import type { ApprovalDecision, ApprovalRequest, RunEvent } from "../run/types.ts";
import type { Dispatcher } from "../scheduler/dispatcher.ts";
import type { ToolGate } from "../scheduler/tool-gate.ts";
import type { Clock } from "../shared/clock.ts";
import type { WarnOnce } from "../shared/warn-once.ts";
import type { RetryPolicy } from "../tool/retry-policy.ts";
import type { ExecutorStatistics } from "../run/executor-stats.ts";
import { CallSharing } from "./call-sharing.ts";
import type { ResultCache } from "./result-cache.ts";

/** Settings that `configure()` may change while runs are going. */
export interface ExecutorSettings {
  timeoutMs: number | undefined;
  retry: Required<RetryPolicy>;
  parallel: boolean;
  order: "critical-path" | "fifo";
}

/** What every run of one executor shares: limits, caches, estimates, statistics. */
export class ExecutorCore {
  readonly dispatcher: Dispatcher;
  /** Each tool's gate, by name; `setTools` changes which tools there are. */
  readonly gates: ReadonlyMap<string, ToolGate>;
  toolNames: readonly string[];
  /** Goes up each time the tools change, so that a gate remembered by name is looked up again. */
  toolsVersion = 0;
  /** Identical calls in flight and cached results, across runs. */
  readonly sharing: CallSharing;
  readonly statistics: ExecutorStatistics;
  readonly settings: ExecutorSettings;
  readonly clock: Clock;
  readonly random: () => number;
  readonly onEvent: ((event: RunEvent) => void) | undefined;
  readonly instrumentation: Instrumentation | undefined;
  /** Where runs are recorded, if the executor keeps history. */
  readonly history: HistoryRecorder | undefined;
  /** Brings decisions recorded in the history by other processes to calls waiting here. */
  readonly storedDecisions: StoredDecisions | undefined;
  /** Decides calls that need approval, or leaves them to `run.approve` / `run.deny`. */
  readonly approve: ((request: ApprovalRequest) => ApprovalDecision | Promise<ApprovalDecision>) | undefined;

  constructor(parts: {
    dispatcher: Dispatcher;
    gates: ReadonlyMap<string, ToolGate>;
    caches: ReadonlyMap<string, ResultCache>;
    statistics: ExecutorStatistics;
    settings: ExecutorSettings;
    clock: Clock;
    random: () => number;
    onEvent: ((event: RunEvent) => void) | undefined;
    instrumentation: Instrumentation | undefined;
    history: HistoryRecorder | undefined;
    storedDecisions: StoredDecisions | undefined;
    approve: ((request: ApprovalRequest) => ApprovalDecision | Promise<ApprovalDecision>) | undefined;
    warnings: WarnOnce;
  }) {
    this.dispatcher = parts.dispatcher;
    this.gates = parts.gates;
    this.toolNames = [...parts.gates.keys()];
    this.sharing = new CallSharing(parts.caches);
    this.statistics = parts.statistics;
    this.settings = parts.settings;
    this.clock = parts.clock;
    this.random = parts.random;
    this.onEvent = parts.onEvent;
    this.instrumentation = parts.instrumentation;
    this.approve = parts.approve;
    this.history = parts.history;
    this.storedDecisions = parts.storedDecisions;
    this.warnings = parts.warnings;
  }

  readonly warnings: WarnOnce;

  /** The gates changed (`executor.setTools`). */
  toolsChanged(): void {
    this.toolNames = [...this.gates.keys()];
    this.toolsVersion++;
  }

  /** A listener that throws must never break a run: report it (once) and go on. */
  notify(listener: (event: RunEvent) => void, event: RunEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.warnings.report(listener, `A Volley event listener threw on "${event.type}"`, error);
    }
  }

  /** Runs a user's hook; a throw is reported once per `key` as a process warning, then ignored. */
  guard<T>(key: unknown, what: string, hook: () => T): T | undefined {
    try {
      return hook();
    } catch (error) {
      this.warnings.report(key, what, error);
      return undefined;
    }
  }
}
