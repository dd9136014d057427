import { describeValue, invalidOption, rejectUnknownOptions, VolleyError } from "../errors/volley-error.ts";
import type { Instrumentation } from "../run/instrumentation.ts";
import type { RunEvent } from "../run/types.ts";
import { Dispatcher } from "../scheduler/dispatcher.ts";
import { ToolGate } from "../scheduler/tool-gate.ts";
import { systemClock } from "../shared/clock.ts";
import { WarnOnce } from "../shared/warn-once.ts";
import { inProcessBackend, type Backend } from "../backend/backend.ts";
import { localBackend } from "../worker/local-backend.ts";
import type { WorkerPool } from "../worker/worker-pool.ts";
import { isPositiveLimit, isTimeout, isTool, validateRateLimit, type Tool } from "../tool/define-tool.ts";
import { DEFAULT_RETRY, validateRetryPolicy } from "../tool/retry-policy.ts";
import { ExecutorCore } from "./executor-core.ts";
import {
  CONFIGURATION_KEYS,
  EXECUTOR_KEYS,
  RUN_KEYS,
  TOOL_SETTING_KEYS,
  type Executor,
  type ExecutorOptions,
  type RunOptions,
} from "./executor-types.ts";
import { ExecutorStatistics } from "../run/executor-stats.ts";
import { OpenRun } from "./open-run.ts";
import { ResultCache } from "./result-cache.ts";
import { HistoryRecorder } from "../store/history-recorder.ts";
import { StoredDecisions } from "./stored-decisions.ts";
import type { RunStore } from "../store/run-store.ts";
import { closestName } from "../shared/closest-name.ts";

/** Most calls running at once when `maxConcurrency` is not given. */
export const DEFAULT_MAX_CONCURRENCY = 16;
const DEFAULT_DECISION_POLL_MS = 1000;

function checkCallId(where: string, callId: unknown): string {
  if (typeof callId !== "string" || callId === "")
    invalidOption(`run.${where}`, "callId", "the id of a call waiting for approval", callId);
  return callId;
}

function checkReason(where: string, reason: unknown): string | undefined {
  if (reason !== undefined && typeof reason !== "string") invalidOption(`run.${where}`, "reason", "a string", reason);
  return reason;
}

function checkObject(where: string, name: string, value: unknown): asserts value is object {
  if (value === null || typeof value !== "object") invalidOption(where, name, "an options object", value);
}

/** Checks a list of tools: each made by `defineTool`, each name once. */
function checkToolList(where: string, tools: unknown): asserts tools is readonly Tool[] {
  if (!Array.isArray(tools)) invalidOption(where, "tools", "an array of tools made by defineTool()", tools);
  const names = new Set<string>();
  for (const [index, tool] of (tools as unknown[]).entries()) {
    if (!isTool(tool)) invalidOption(where, `tools[${index}]`, "a tool made by defineTool()", tool);
    if (names.has(tool.name))
      throw new VolleyError("invalid_tool", `${where}: two tools are named "${tool.name}"; tool names must be unique`);
    names.add(tool.name);
  }
}

/** Creates the engine that runs tool calls in parallel within every limit. */
export function createExecutor(options: ExecutorOptions): Executor {
  const where = "createExecutor";
  checkObject(where, "options", options);
  rejectUnknownOptions(where, options, EXECUTOR_KEYS);
  const {
    tools,
    maxConcurrency = DEFAULT_MAX_CONCURRENCY,
    parallel = true,
    timeoutMs,
    retry,
    onEvent,
    estimates = {},
    clock = systemClock(),
    random = Math.random,
    instrumentation,
    history,
    decisionPollMs = DEFAULT_DECISION_POLL_MS,
    order = "critical-path",
    approve,
    backend,
    workers,
  } = options;

  checkObject(where, "estimates", estimates);
  for (const [tool, ms] of Object.entries(estimates)) {
    if (typeof ms !== "number" || !(ms >= 0) || ms === Infinity)
      invalidOption(where, `estimates.${tool}`, "a finite number of milliseconds from 0 and up", ms);
  }
  if (backend !== undefined && typeof (backend as Partial<Backend> | null)?.execute !== "function")
    invalidOption(where, "backend", "a Backend, with execute() and close()", backend);
  if (workers !== undefined && typeof (workers as Partial<WorkerPool> | null)?.execute !== "function")
    invalidOption(where, "workers", "a pool made by createWorkerPool()", workers);
  // Routed per tool here, once: in-process calls keep the dispatch loop's direct-call fast path.
  const local = localBackend(workers);
  const statistics = new ExecutorStatistics();
  const gates = new Map<string, ToolGate>();
  const caches = new Map<string, ResultCache>();
  const gateOf = (tool: Tool, estimateMs: number | undefined): ToolGate =>
    new ToolGate(tool, estimateMs, statistics.forTool(tool.name), backend ?? (tool.worker ? local : inProcessBackend));
  checkToolList(where, tools);
  for (const tool of tools) {
    gates.set(tool.name, gateOf(tool, estimates[tool.name]));
    if (tool.cache) caches.set(tool.name, new ResultCache(tool.cache.ttlMs, tool.cache.maxEntries));
  }
  let currentTools: readonly Tool[] = Object.freeze([...tools]);
  if (!isPositiveLimit(maxConcurrency))
    invalidOption(where, "maxConcurrency", "an integer from 1 and up, or Infinity", maxConcurrency);
  if (typeof parallel !== "boolean") invalidOption(where, "parallel", "a boolean", parallel);
  if (order !== "critical-path" && order !== "fifo") invalidOption(where, "order", '"critical-path" or "fifo"', order);
  if (timeoutMs !== undefined && !isTimeout(timeoutMs))
    invalidOption(where, "timeoutMs", "a number of milliseconds above 0", timeoutMs);
  if (onEvent !== undefined && typeof onEvent !== "function") invalidOption(where, "onEvent", "a function", onEvent);
  if (approve !== undefined && typeof approve !== "function")
    invalidOption(where, "approve", "a function of the approval request", approve);
  if (typeof clock?.now !== "function") invalidOption(where, "clock", "an object with a now() method", clock);
  if (typeof random !== "function") invalidOption(where, "random", "a function returning a number in [0, 1)", random);
  if (
    instrumentation !== undefined &&
    typeof (instrumentation as Partial<Instrumentation> | null)?.runStart !== "function"
  ) {
    invalidOption(where, "instrumentation", "an object with a runStart() method", instrumentation);
  }
  if (
    history !== undefined &&
    (typeof (history as Partial<RunStore> | null)?.write !== "function" ||
      typeof history.durationEstimates !== "function")
  ) {
    invalidOption(where, "history", "a RunStore (MemoryRunStore or SqliteRunStore from volley/store)", history);
  }
  if (!isTimeout(decisionPollMs) || decisionPollMs === Infinity)
    invalidOption(where, "decisionPollMs", "a finite number of milliseconds above 0", decisionPollMs);

  const warnings = new WarnOnce();
  const recorder =
    history &&
    new HistoryRecorder(history, (error) =>
      warnings.report("history.write", "Volley could not write its history", error),
    );
  const core = new ExecutorCore({
    dispatcher: new Dispatcher(maxConcurrency, clock),
    gates,
    caches,
    statistics,
    settings: {
      timeoutMs,
      retry: retry === undefined ? DEFAULT_RETRY : validateRetryPolicy(where, retry),
      parallel,
      order,
    },
    clock,
    random,
    onEvent,
    instrumentation,
    history: recorder,
    storedDecisions:
      recorder &&
      new StoredDecisions(
        history,
        decisionPollMs,
        () => recorder.flush(),
        (error) =>
          warnings.report(
            "history.decisions",
            "Volley could not read or record approval decisions in its history",
            error,
          ),
      ),
    approve,
    warnings,
  });

  // Durations from earlier processes seed the estimates of tools this one has not timed yet.
  const ready: Promise<void> =
    history === undefined
      ? Promise.resolve()
      : history.durationEstimates().then(
          (learned) => {
            for (const [name, ms] of Object.entries(learned)) {
              const gate = gates.get(name);
              if (gate !== undefined && gate.estimateMs === undefined) gate.estimateMs = ms;
            }
          },
          (error: unknown) =>
            warnings.report("history.estimates", "Volley could not read duration estimates from its history", error),
        );

  // Run ids are this executor's random prefix and a counter: unique, and cheaper than a UUID each.
  const runIdPrefix = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  let runsStarted = 0;

  const open = (runOptions: RunOptions | undefined, keepEvents: boolean, method: string): OpenRun => {
    if (runOptions === undefined) {
      const runId = `${runIdPrefix}-${(runsStarted++).toString(36)}`;
      return new OpenRun(core, {
        runId,
        maxConcurrency: Infinity,
        parallel: core.settings.parallel,
        timeoutMs: undefined,
        onEvent: undefined,
        keepEvents,
        resumes: undefined,
        name: undefined,
      });
    }
    const at = `executor.${method}`;
    const given = runOptions ?? {};
    checkObject(at, "options", given);
    rejectUnknownOptions(at, given, RUN_KEYS);
    const {
      signal,
      maxConcurrency: runLimit = Infinity,
      parallel: runParallel = core.settings.parallel,
      timeoutMs: runTimeout,
      runId = `${runIdPrefix}-${(runsStarted++).toString(36)}`,
      onEvent: runOnEvent,
      resumes,
      name,
    } = given;
    if (signal !== undefined && !(signal instanceof AbortSignal)) invalidOption(at, "signal", "an AbortSignal", signal);
    if (!isPositiveLimit(runLimit))
      invalidOption(at, "maxConcurrency", "an integer from 1 and up, or Infinity", runLimit);
    if (typeof runParallel !== "boolean") invalidOption(at, "parallel", "a boolean", runParallel);
    if (runTimeout !== undefined && !isTimeout(runTimeout))
      invalidOption(at, "timeoutMs", "a number of milliseconds above 0", runTimeout);
    if (typeof runId !== "string" || runId === "") invalidOption(at, "runId", "a non-empty string", runId);
    if (runOnEvent !== undefined && typeof runOnEvent !== "function")
      invalidOption(at, "onEvent", "a function", runOnEvent);
    if (resumes !== undefined && (typeof resumes !== "string" || resumes === "" || resumes === runId))
      invalidOption(at, "resumes", "the id of another run", resumes);
    if (name !== undefined && typeof name !== "string") invalidOption(at, "name", "a string", name);
    return new OpenRun(core, {
      runId,
      maxConcurrency: runLimit,
      parallel: runParallel,
      timeoutMs: runTimeout,
      onEvent: runOnEvent,
      keepEvents,
      resumes,
      name: name === undefined || name === "" ? undefined : name.slice(0, 200),
    });
  };

  return {
    get tools() {
      return currentTools;
    },
    history,
    ready,
    flush: () => core.history?.flush() ?? Promise.resolve(),

    run(calls, runOptions) {
      try {
        if (!Array.isArray(calls)) {
          throw new VolleyError(
            "invalid_call_list",
            `executor.run: expected an array of tool calls, got ${describeValue(calls)}`,
          );
        }
        // The whole list is checked before anything starts: a bad entry must not leave its neighbours half run.
        for (let index = 0; index < calls.length; index++) {
          const call: unknown = calls[index];
          if (call === null || typeof call !== "object" || Array.isArray(call)) {
            throw new VolleyError(
              "invalid_call_list",
              `executor.run: expected a tool call object ({ name, args?, id? }) at index ${index}, got ${describeValue(call)}; no call was run`,
            );
          }
        }
        const run = open(runOptions, false, "run");
        run.addAll(calls, runOptions?.signal);
        run.end();
        return run.result;
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },

    start(runOptions) {
      const run = open(runOptions, true, "start");
      if (runOptions?.signal) run.attachSignal(runOptions.signal);
      return {
        id: run.id,
        add: (call) => run.add(call),
        end: () => run.end(),
        cancel: (reason) => run.cancel(reason),
        approve: (callId, reason) => run.decide(checkCallId("approve", callId), true, checkReason("approve", reason)),
        deny: (callId, reason) => run.decide(checkCallId("deny", callId), false, checkReason("deny", reason)),
        pendingApprovals: () => run.pendingApprovals(),
        events: run.events as AsyncIterable<RunEvent>,
        result: run.result,
      };
    },

    stats: () => core.statistics.snapshot(),

    estimates() {
      const learned: Record<string, number> = {};
      for (const [name, gate] of gates) if (gate.estimateMs !== undefined) learned[name] = gate.estimateMs;
      return learned;
    },

    setTools(next) {
      const at = "executor.setTools";
      checkToolList(at, next);
      const names = new Set(next.map((tool) => tool.name));
      for (const name of [...gates.keys()]) {
        if (names.has(name)) continue;
        gates.delete(name);
        caches.delete(name);
      }
      for (const tool of next) {
        const current = gates.get(tool.name);
        if (current?.tool === tool) continue;
        // A new definition gets a gate of its own; calls already added keep the one they came with.
        gates.set(tool.name, gateOf(tool, current?.estimateMs ?? estimates[tool.name]));
        if (tool.cache === undefined) caches.delete(tool.name);
        else if (current?.tool.cache !== tool.cache)
          caches.set(tool.name, new ResultCache(tool.cache.ttlMs, tool.cache.maxEntries));
      }
      core.toolsChanged();
      currentTools = Object.freeze([...next]);
    },

    configure(changes) {
      const at = "executor.configure";
      checkObject(at, "changes", changes);
      rejectUnknownOptions(at, changes, CONFIGURATION_KEYS);
      if (changes.maxConcurrency !== undefined && !isPositiveLimit(changes.maxConcurrency))
        invalidOption(at, "maxConcurrency", "an integer from 1 and up, or Infinity", changes.maxConcurrency);
      if (changes.parallel !== undefined && typeof changes.parallel !== "boolean")
        invalidOption(at, "parallel", "a boolean", changes.parallel);
      if (changes.timeoutMs != null && !isTimeout(changes.timeoutMs))
        invalidOption(at, "timeoutMs", "a number of milliseconds above 0, or null for none", changes.timeoutMs);
      const retryPolicy = changes.retry === undefined ? undefined : validateRetryPolicy(at, changes.retry);
      const toolChanges = Object.entries(changes.tools ?? {});
      for (const [name, settings] of toolChanges) {
        if (!gates.has(name)) {
          const meant = closestName(name, [...gates.keys()]);
          throw new VolleyError(
            "unknown_tool",
            `${at}: no tool is named "${name}"${meant === undefined ? "" : `; did you mean "${meant}"?`}`,
          );
        }
        checkObject(at, `tools.${name}`, settings);
        rejectUnknownOptions(`${at}: tools.${name}`, settings, TOOL_SETTING_KEYS);
        if (settings.concurrency !== undefined && !isPositiveLimit(settings.concurrency))
          invalidOption(at, `tools.${name}.concurrency`, "an integer from 1 and up, or Infinity", settings.concurrency);
        if (settings.rateLimit != null) validateRateLimit(`${at}: tools.${name}`, settings.rateLimit);
      }

      // Everything is valid: apply it all in one turn, so that the calls the new limits let through start together.
      core.dispatcher.inTurn(() => {
        if (changes.maxConcurrency !== undefined) core.dispatcher.maxConcurrency = changes.maxConcurrency;
        if (changes.parallel !== undefined) core.settings.parallel = changes.parallel;
        if (changes.timeoutMs !== undefined) core.settings.timeoutMs = changes.timeoutMs ?? undefined;
        if (retryPolicy !== undefined) core.settings.retry = retryPolicy;
        for (const [name, settings] of toolChanges) {
          const gate = gates.get(name) as ToolGate;
          if (settings.concurrency !== undefined) gate.concurrency = settings.concurrency;
          if (settings.rateLimit !== undefined) gate.setRateLimit(settings.rateLimit ?? undefined);
          core.dispatcher.wakeGate(gate);
        }
      });
    },
  };
}
