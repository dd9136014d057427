import { AsyncResource } from "node:async_hooks";
import { VolleyError, describeValue } from "../errors/volley-error.ts";
import type { CallInfo, RunInstrumentation } from "../run/instrumentation.ts";
import type { ApprovalDecision, ApprovalRequest, CallError, RunEvent, RunResult, RunStatus, ToolCall, ToolResult } from "../run/types.ts";
import { outputsOf, scanArguments, resolveReferences, type ScannedArguments } from "../scheduler/call-arguments.ts";
import { RunFigures } from "../run/run-figures.ts";
import { CallGraph } from "../scheduler/call-graph.ts";
import { toClaims } from "../scheduler/resource-claims.ts";
import { Attempt, CallState, startsBefore, type QueueItem, type RunSlots } from "../scheduler/call-state.ts";
import { QueuedRange } from "../scheduler/queued-range.ts";
import { PriorityHeap } from "../shared/priority-heap.ts";
import { canonicalJson, whyNotJson } from "../shared/canonical-json.ts";
import { backoffDelayMs } from "../tool/retry-policy.ts";
import type { ResourceClaim } from "../tool/define-tool.ts";
import type { ToolGate } from "../scheduler/tool-gate.ts";
import type { InputValidator, ValidationOutcome } from "../tool/input-validator.ts";
import { inProcessBackend } from "../backend/backend.ts";
import { CallContext } from "./call-context.ts";
import { callErrors, describeReason } from "./call-errors.ts";
import type { ExecutorCore } from "./executor-core.ts";
import { RunEventLog } from "./run-event-log.ts";
import type { HistoryRecorder } from "../store/history-recorder.ts";
import { isStoredEvent } from "../store/run-store.ts";

export interface OpenRunOptions {
  runId: string;
  maxConcurrency: number;
  parallel: boolean;
  /** Time limit of the whole run. */
  timeoutMs: number | undefined;
  onEvent: ((event: RunEvent) => void) | undefined;
  /** Keep every event for `events` readers (open runs); `run()` needs none. */
  keepEvents: boolean;
  /** The earlier run whose unfinished work this one takes over, recorded with the run's options. */
  resumes: string | undefined;
}

/** Why running attempts are being stopped: their own time limit, the run's, or a cancel. */
type Interruption =
  | { kind: "timeout"; scope: "call" | "run"; limitMs: number }
  | { kind: "cancelled"; reason: string };

function notStartedReason(interruption: Interruption): string {
  return interruption.kind === "cancelled" ? interruption.reason : `the run's time limit of ${interruption.limitMs} ms was reached`;
}

type Execute = (args: unknown, context: CallContext) => unknown;

/** The two reactions an attempt's promise settles through, and the attempt they serve now. */
interface SettleReactions {
  attempt: Attempt | undefined;
  /** The next idle pair, while this one is idle. */
  nextIdle: SettleReactions | undefined;
  readonly fulfilled: (output: unknown) => void;
  readonly rejected: (error: unknown) => void;
}

// Only compared with a promise's `then`, never called unbound.
// eslint-disable-next-line @typescript-eslint/unbound-method
const nativeThen = Promise.prototype.then;

/** How the arguments of a tool that takes `$ref` objects as data are read. */
const LITERAL_ARGUMENTS = { references: false } as const;

const expectedDurationOf = (call: CallState): number => (call.gate as ToolGate).expectedDurationMs;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as PromiseLike<unknown>).then === "function";
}

/**
 * One run: its calls, the graph their references make, and the answer to each. It decides
 * what happens to a call (ready, retried, answered); the dispatcher decides when it starts.
 */
export class OpenRun implements RunSlots {
  readonly id: string;
  active = 0;
  maxInFlight = 0;
  maxConcurrency: number;
  readonly waiting = new PriorityHeap<QueueItem>(startsBefore);
  readonly events: RunEventLog | undefined;
  readonly result: Promise<RunResult>;

  readonly #core: ExecutorCore;
  readonly #parallel: boolean;
  /** Ranked by critical path; otherwise equal-priority calls go in arrival order. */
  readonly #ranked: boolean;
  readonly #graph: CallGraph;
  /** The range the last call joined, which the next one may join too (see `QueuedRange`). */
  #openRange: QueuedRange | undefined;
  /** Calls of the batch being added that wait to be ranked together at its end (see `CallGraph.rankBatch`). */
  #unranked: CallState[] | undefined;
  /** The gate the last call named that had one (see `#gateNamed`). */
  #lastGate: ToolGate | undefined;
  /** Each call's result at its index, filled in as they arrive: the run's answer, ready when the last one does. */
  #results: (ToolResult | undefined)[] = [];
  readonly #onEvent: ((event: RunEvent) => void) | undefined;
  /** Someone reads this run's events: `events`, or an `onEvent` listener. */
  readonly #listened: boolean;
  /** Events are wanted at all: by a listener, or by the history (which keeps only some). */
  readonly #observed: boolean;
  /** No listener or instrumentation watches the run's calls: a range's call can run without state (see `Attempt`). */
  readonly #standsIn: boolean;
  readonly #startedAt: number;
  /**
   * The async context of whoever started the run. Every attempt is launched inside it, so that
   * AsyncLocalStorage values (and OpenTelemetry's active span) reach every `execute`, whatever
   * event started it: a dependency ending, a retry timer, another run freeing a slot. An
   * AsyncResource with manual destroy costs a hundredth of `AsyncLocalStorage.snapshot()`.
   */
  readonly #callerContext = new AsyncResource("volley.run", { requireManualDestroy: true });
  /** Where this run is recorded, when the executor keeps history. */
  readonly #history: HistoryRecorder | undefined;
  #eventSeq = 0;
  /** What the executor's instrumentation keeps for this run, if it has one. */
  readonly #instrument: RunInstrumentation | undefined;
  #resolve!: (result: RunResult) => void;
  #unanswered = 0;
  #ended = false;
  #finished = false;
  #interruption: Interruption | undefined;
  #status: RunStatus = "completed";
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #detachSignal: (() => void) | undefined;
  readonly #figures = new RunFigures();
  /**
   * Reactions for attempts' promises, free for the next attempt: the first of a list linked
   * through `nextIdle`. Two closures and their context per call were the largest allocation on
   * the hot path; a run needs as many pairs as it ever has attempts in flight.
   */
  #idleReactions: SettleReactions | undefined;
  /** Calls waiting for a person's approval, by id, in the order they asked; `deciding` while a decision is being recorded. */
  readonly #awaitingApproval = new Map<string, { call: CallState; request: ApprovalRequest; deciding: boolean }>();

  constructor(core: ExecutorCore, options: OpenRunOptions) {
    this.#core = core;
    this.id = options.runId;
    this.maxConcurrency = options.parallel ? options.maxConcurrency : 1;
    this.#parallel = options.parallel;
    this.#ranked = options.parallel && core.settings.order === "critical-path";
    this.#graph = new CallGraph({ lineUp: (call) => core.dispatcher.enqueue(call), stateOf: (attempt) => this.#stateOf(attempt) });
    this.#onEvent = options.onEvent;
    this.events = options.keepEvents ? new RunEventLog() : undefined;
    this.#history = core.history;
    this.#listened = this.events !== undefined || this.#onEvent !== undefined || core.onEvent !== undefined;
    this.#observed = this.#listened || this.#history !== undefined;
    this.#standsIn = !this.#listened && core.instrumentation === undefined;
    this.#startedAt = core.clock.now();
    this.#history?.push({ kind: "run-start", runId: this.id, startedAt: this.#startedAt, options: { maxConcurrency: options.maxConcurrency, parallel: options.parallel, timeoutMs: options.timeoutMs ?? null, ...(options.resumes === undefined ? {} : { resumes: options.resumes }) } });
    this.result = new Promise((resolve) => (this.#resolve = resolve));
    const instrumentation = core.instrumentation;
    this.#instrument = instrumentation && core.guard("instrumentation.runStart", "Volley instrumentation threw in runStart", () => instrumentation.runStart({ runId: this.id }));
    if (this.#observed) this.#emit({ type: "run-start", runId: this.id, at: this.#startedAt });
    if (options.timeoutMs !== undefined && options.timeoutMs !== Infinity) {
      const limit = options.timeoutMs;
      this.#deadline = setTimeout(() => {
        this.#deadline = undefined;
        this.#interrupt("timed_out", { kind: "timeout", scope: "run", limitMs: limit });
      }, limit);
    }
  }

  /** Cancels the run when `signal` aborts; an aborted signal cancels at once. */
  attachSignal(signal: AbortSignal): void {
    if (signal.aborted) {
      this.cancel(signal.reason);
      return;
    }
    const onAbort = (): void => this.cancel(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    this.#detachSignal = () => signal.removeEventListener("abort", onAbort);
  }

  // ───────────────────────────── adding calls ─────────────────────────────

  /**
   * Adds calls as one batch: ranks are known for all of them before any starts. The signal is
   * attached before the first start, so that an aborted one answers every call `cancelled`.
   */
  addAll(calls: readonly ToolCall[], signal?: AbortSignal): void {
    const now = this.#core.clock.now();
    if (this.#graph.size === 0 && calls.length > this.#results.length) {
      this.#graph.reserve(calls.length);
      this.#results = new Array<ToolResult | undefined>(calls.length);
      // A batch whose first call carries an id most likely gives every call one.
      if (calls.length > 16 && typeof calls[0]?.id === "string") this.#graph.reserveIds(calls.length);
    }
    const unranked: CallState[] = [];
    this.#unranked = unranked;
    try {
      // Indexed: `for…of` allocates an iterator result per call until the loop is optimized.
      for (let index = 0; index < calls.length; index++) this.#add(calls[index] as ToolCall, now);
      if (unranked.length > 0) this.#graph.rankBatch(unranked, expectedDurationOf);
      if (signal !== undefined) this.attachSignal(signal);
    } finally {
      this.#unranked = undefined;
      this.#core.dispatcher.pump();
    }
  }

  add(call: ToolCall): string {
    const index = this.#add(call, this.#core.clock.now());
    // Already answered if a listener cancelled the run as it was added; its state may be gone then.
    const id = this.#results[index]?.id ?? this.#graph.idAt(index);
    this.#core.dispatcher.pump();
    return id;
  }

  /** Adds one call; returns its position. */
  #add(input: ToolCall, now: number): number {
    if (this.#ended) {
      throw new VolleyError("run_closed", `Run ${this.id} is ${this.#interruption ? "cancelled" : "ended"}: no more calls can be added`);
    }
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      throw new VolleyError("invalid_call_list", `Expected a tool call object ({ name, args?, id? }), got ${describeValue(input)}`);
    }
    const graph = this.#graph;
    const requestedId = input.id;
    const explicit = typeof requestedId === "string" && requestedId !== "";
    const name = typeof input.name === "string" ? input.name : "";
    const gate = this.#gateNamed(name);
    const scanned = input.args === undefined ? undefined : scanArguments(input.args, gate?.tool.references === false ? LITERAL_ARGUMENTS : undefined);
    // Validated here only for a call that can join a range; any other is validated once its inputs are ready.
    let validated: ValidationOutcome | Promise<ValidationOutcome> | undefined;
    if (gate !== undefined && this.#fitsRange(input, gate, scanned)) {
      const args = scanned?.ok === true ? scanned.args : undefined;
      const validate = gate.tool.validateInput;
      if (validate === undefined) {
        if (this.#claimsId(input)) return this.#addToRange(input, gate, args, now);
      } else {
        validated = runValidator(validate, args ?? {});
        if (!(validated instanceof Promise) && validated.ok && this.#claimsId(input)) return this.#addToRange(input, gate, validated.value, now);
      }
    }
    const id = explicit ? requestedId : graph.generateId();
    const taken = explicit && graph.has(id);
    const call = new CallState(this, graph.size, this.#core.dispatcher.nextSeq(), id, name, now);
    graph.append(call);
    this.#results[call.index] = undefined;
    this.#unanswered++;
    // Kept for the history from the start: a call answered before it runs shows what it was sent.
    if (scanned !== undefined) call.args = scanned.ok ? scanned.args : argumentsAsSent(input.args);
    // Registered before anything can fail, so that calls waiting for this id learn of its fate, and
    // before a listener hears of it, so that a call it adds with the same id is the duplicate.
    const awaited = !taken && graph.register(call);
    if (this.#listened) {
      const dependsOn = new Set(Array.isArray(input.dependsOn) ? input.dependsOn.filter((d): d is string => typeof d === "string") : []);
      if (scanned?.ok) for (const reference of scanned.references) dependsOn.add(reference.callId);
      this.#emit({ type: "call-add", runId: this.id, at: call.addedAt, callId: id, name, dependsOn: [...dependsOn] });
      // A listener cancelled the run as the call was added: it is answered, and must not start.
      if (call.result !== undefined) return call.index;
    }
    if (taken) {
      this.#answer(call, false, undefined, callErrors.duplicateId(id), false);
      return call.index;
    }

    const problem = this.#checkCallFields(input, requestedId);
    if (problem !== undefined) {
      this.#answer(call, false, undefined, callErrors.invalidArguments(name || "(no name)", problem), false);
      return call.index;
    }
    if (gate === undefined) {
      this.#answer(call, false, undefined, callErrors.unknownTool(input.name, this.#core.toolNames), false);
      return call.index;
    }
    call.gate = gate;
    call.timeoutMs = input.timeoutMs;
    call.priority = this.#parallel ? (input.priority ?? gate.tool.priority) : 0;
    if (scanned === undefined) {
      call.args = {};
    } else {
      if (!scanned.ok) {
        this.#answer(call, false, undefined, callErrors.invalidArguments(name, scanned.message), false);
        return call.index;
      }
      // Its arguments were kept as the call was made.
      call.references = scanned.references;
    }

    if (input.dependsOn !== undefined || call.references.length > 0) {
      const dependencyIds = new Set<string>(input.dependsOn);
      for (const reference of call.references) dependencyIds.add(reference.callId);
      if (dependencyIds.has(id)) {
        this.#answer(call, false, undefined, callErrors.cycle([id]), false);
        return call.index;
      }
      const failed = graph.link(call, dependencyIds);
      if (failed !== undefined) {
        this.#answer(call, false, undefined, callErrors.dependencyFailed(failed, failed.result?.error as CallError), false);
        return call.index;
      }
      // Only a call that others were already waiting for, and that waits itself, can close a cycle.
      if (awaited && call.pendingDependencies > 0) {
        const cycle = graph.cycleThrough(call);
        if (cycle.length > 0) {
          this.#answerCycle(cycle);
          return call.index;
        }
      }
    }
    if (this.#ranked) {
      // In a batch, ranked with the rest at its end; nothing starts before then.
      if (this.#unranked !== undefined) this.#unranked.push(call);
      else graph.rank(call, expectedDurationOf);
    }
    if (call.pendingDependencies === 0) this.#prepare(call, validated);
    return call.index;
  }

  /** The gate of the tool named; calls in a batch mostly name the same tool as the call before. */
  #gateNamed(name: string): ToolGate | undefined {
    const last = this.#lastGate;
    if (last !== undefined && last.tool.name === name) return last;
    const gate = this.#core.gates.get(name);
    if (gate !== undefined) this.#lastGate = gate;
    return gate;
  }

  /**
   * Whether the call can wait in a range: valid fields, a known tool that needs nothing decided
   * call by call, no dependencies, no time limit of its own, and an id nobody waits for (nor has
   * used: `#claimsId`).
   */
  #fitsRange(input: ToolCall, gate: ToolGate, scanned: ScannedArguments | undefined): boolean {
    if (!gate.queuesInRanges || input.timeoutMs !== undefined) return false;
    // Fields a caller got wrong are answered on the general path.
    if (this.#checkCallFields(input, input.id) !== undefined) return false;
    if (input.dependsOn !== undefined && input.dependsOn.length > 0) return false;
    if (scanned !== undefined && (!scanned.ok || scanned.references.length > 0)) return false;
    const graph = this.#graph;
    // A given id must also be free: `#claimsId` checks that as it takes it.
    if (input.id !== undefined) return !graph.isAwaited(input.id);
    return graph.positionalIdIsFree();
  }

  /** Takes the call's given id for the next place, if it has one; false when another call has it (a duplicate, answered on the general path). */
  #claimsId(input: ToolCall): boolean {
    return input.id === undefined || this.#graph.claimNextId(input.id);
  }

  /** Adds a call that fits a range (see `#fitsRange`) to the open range, or to a new one. */
  #addToRange(input: ToolCall, gate: ToolGate, args: Record<string, unknown> | undefined, now: number): number {
    const graph = this.#graph;
    const index = graph.size;
    const seq = this.#core.dispatcher.nextSeq();
    const priority = this.#parallel ? (input.priority ?? gate.tool.priority) : 0;
    const rank = this.#ranked ? gate.expectedDurationMs : 0;
    const id = input.id;
    const open = this.#openRange;
    const opens = open === undefined || !open.continuesWith(gate, priority, rank, now, index, seq);
    const range = opens ? (this.#openRange = new QueuedRange(this, gate, gate.tool.name, priority, rank, now, index, seq)) : open;
    range.append(id, args);
    graph.appendToRange(range);
    this.#results[index] = undefined;
    this.#unanswered++;
    if (opens) this.#core.dispatcher.lineUp(range);
    if (this.#listened) this.#emit({ type: "call-add", runId: this.id, at: now, callId: id ?? graph.idAt(index), name: gate.tool.name, dependsOn: [] });
    return index;
  }

  /**
   * Starts a range's next call. In a run that no listener or instrumentation watches, its first
   * attempt stands in for its state (see `Attempt`): nothing here needs that state before the
   * call ends, and the history needs only what the attempt holds.
   */
  startNext(range: QueuedRange, now: number): void {
    const index = range.next;
    if (!this.#standsIn) {
      this.execute(this.#graph.take(index), now);
      return;
    }
    const attempt = Attempt.standingIn(range, index, range.letGo(index), now);
    this.#graph.standIn(index, attempt);
    if (this.#observed) this.#emit({ type: "call-start", runId: this.id, at: now, callId: attempt.callId, name: range.name, attempt: 1 });
    this.#run(attempt);
  }

  /** The state of the call an attempt runs, made now if the attempt stood in for it until now. */
  #stateOf(attempt: Attempt): CallState {
    if (attempt.call !== undefined) return attempt.call;
    const call = (attempt.range as QueuedRange).stateOf(attempt.index, attempt.args);
    call.phase = "running";
    call.attempts = 1;
    call.startedAt = attempt.startedAt;
    call.attempt = attempt;
    attempt.call = call;
    this.#graph.put(call);
    return call;
  }

  /** Why the call's own fields are unusable, or undefined. Arguments are checked later. */
  #checkCallFields(input: ToolCall, requestedId: unknown): string | undefined {
    if (requestedId !== undefined && (typeof requestedId !== "string" || requestedId === "")) {
      return `"id" must be a non-empty string, got ${describeValue(requestedId)}`;
    }
    if (input.dependsOn !== undefined && (!Array.isArray(input.dependsOn) || !input.dependsOn.every((d) => typeof d === "string"))) {
      return `"dependsOn" must be an array of call ids, got ${describeValue(input.dependsOn)}`;
    }
    if (input.priority !== undefined && (typeof input.priority !== "number" || !Number.isFinite(input.priority))) {
      return `"priority" must be a finite number, got ${describeValue(input.priority)}`;
    }
    if (input.timeoutMs !== undefined && !(typeof input.timeoutMs === "number" && input.timeoutMs > 0)) {
      return `"timeoutMs" must be a number of milliseconds above 0, got ${describeValue(input.timeoutMs)}`;
    }
    return undefined;
  }

  /** Answers every call on a cycle `cycle`; calls that depend on them then fail as dependents do. */
  #answerCycle(members: readonly CallState[]): void {
    const error = callErrors.cycle(members.map((member) => member.id));
    // Record every member before moving the graph on, or the first would fail the next as a dependent.
    for (const member of members) this.#record(member, false, undefined, error, false);
    for (const member of members) this.#propagate(member);
    if (this.#ended && this.#unanswered === 0) this.#finish();
  }

  // ─────────────────────────── getting ready to run ───────────────────────────

  /**
   * All dependencies succeeded: resolve references, validate, then queue (or share).
   * `validated`: the outcome of validating the arguments, when that was done already.
   */
  #prepare(call: CallState, validated?: ValidationOutcome | Promise<ValidationOutcome>): void {
    if (call.references.length > 0 && !this.#resolveReferences(call)) return;
    const validate = (call.gate as ToolGate).tool.validateInput;
    if (validate === undefined) {
      this.#queue(call);
      return;
    }
    const outcome = validated ?? runValidator(validate, call.args);
    if (!(outcome instanceof Promise)) {
      this.#afterValidation(call, outcome);
      return;
    }
    outcome.then(
      (settled) => this.#afterValidation(call, settled),
      (error: unknown) => this.#afterValidation(call, validatorThrew(error)),
    ).finally(() => this.#core.dispatcher.pump());
  }

  /** Puts the outputs of dependencies where the call's `$ref`s were; false if one is missing. */
  #resolveReferences(call: CallState): boolean {
    const resolved = resolveReferences(call.args, call.references, outputsOf(call.dependencies));
    if (!resolved.ok) {
      this.#answer(call, false, undefined, callErrors.missingPath(resolved.message, call.references[0]?.callId ?? ""), false);
      return false;
    }
    const args = resolved.args as unknown;
    if (args === null || typeof args !== "object" || Array.isArray(args)) {
      this.#answer(call, false, undefined, callErrors.invalidArguments(call.name, `the referenced output that became the arguments is ${describeValue(args)}, not an object`), false);
      return false;
    }
    call.args = args as Record<string, unknown>;
    return true;
  }

  #afterValidation(call: CallState, outcome: ValidationOutcome): void {
    if (call.result !== undefined) return;
    if (!outcome.ok) {
      this.#answer(call, false, undefined, callErrors.schemaMismatch(call.name, outcome.message), false);
      return;
    }
    call.args = outcome.value;
    this.#queue(call);
  }

  /** Serves from the cache, joins an identical call in flight, or takes claims and queues. */
  #queue(call: CallState): void {
    const tool = (call.gate as ToolGate).tool;
    if (tool.needsApproval !== false && !call.approved) {
      this.#askApproval(call, tool.needsApproval);
      return;
    }
    if (tool.cache !== undefined || tool.idempotent) {
      if (call.shareKey === undefined) call.shareKey = shareKeyOf(tool.name, call.args);
      const key = call.shareKey;
      if (key !== undefined) {
        const hit = this.#core.caches.get(tool.name)?.get(key, this.#core.clock.now());
        if (hit !== undefined) {
          this.#answer(call, true, hit.output, undefined, true);
          return;
        }
        const leader = this.#core.shares.get(key);
        if (leader !== undefined && leader !== call) {
          call.phase = "shared";
          call.leader = leader;
          (leader.followers ??= []).push(call);
          return;
        }
        this.#core.shares.set(key, call);
      }
    }
    if (tool.resources !== undefined && call.claims === undefined) {
      const claims = this.#claimsOf(call);
      if (claims === undefined) return;
      call.claims = claims;
    }
    this.#core.dispatcher.enqueue(call);
  }

  #claimsOf(call: CallState): ResourceClaim[] | undefined {
    const fail = (detail: string): undefined => {
      this.#answer(call, false, undefined, { type: "tool_error", message: `"${call.name}" ${detail}`, retryable: false }, false);
      return undefined;
    };
    let declared: unknown;
    try {
      declared = ((call.gate as ToolGate).tool.resources as (args: unknown) => unknown)(call.args);
    } catch (error) {
      return fail(`could not name its resources: ${describeReason(error, "resources() threw")}`);
    }
    const outcome = toClaims(declared);
    return outcome.ok ? outcome.claims : fail(`named its resources wrongly: ${outcome.message}`);
  }

  // ───────────────────────────── running ─────────────────────────────

  /** Called by the dispatcher once the call holds its slots, at `now`. */
  execute(call: CallState, now: number): void {
    const attempt = Attempt.of(call, now);
    call.attempts = attempt.number;
    call.attempt = attempt;
    call.phase = "running";
    if (call.startedAt < 0) call.startedAt = now;
    if (this.#observed) this.#emit({ type: "call-start", runId: this.id, at: now, callId: call.id, name: call.name, attempt: attempt.number });
    this.#run(attempt);
  }

  /** Launches the attempt in the run's async context (see `#callerContext`). */
  #run(attempt: Attempt): void {
    const context = new CallContext(this, attempt);
    if (this.#instrument?.attempt === undefined) this.#callerContext.runInAsyncScope(this.#launch, this, attempt, context);
    else this.#callerContext.runInAsyncScope(this.#launchInstrumented, this, attempt, context);
  }

  /** Lets the instrumentation launch the attempt in a context of its own; launches it anyway if it doesn't. */
  #launchInstrumented(attempt: Attempt, context: CallContext): void {
    let launched = false;
    const launch = (): void => {
      if (launched) return;
      launched = true;
      this.#launch(attempt, context);
    };
    const instrument = this.#instrument as RunInstrumentation;
    this.#core.guard("instrumentation.attempt", "Volley instrumentation threw in attempt", () => instrument.attempt?.(this.#callInfo(this.#stateOf(attempt)), launch));
    if (!launched) launch();
  }

  #callInfo(call: CallState): CallInfo {
    return {
      runId: this.id,
      callId: call.id,
      name: call.name,
      description: call.gate?.tool.description,
      args: call.args,
      dependsOn: call.dependencies.map((dependency) => dependency.id),
      attempt: call.attempts,
    };
  }

  /** Runs the tool, inside the run's async context. */
  #launch(attempt: Attempt, context: CallContext): void {
    const gate = attempt.gate;
    const tool = gate.tool;
    const timeoutMs = attempt.call?.timeoutMs ?? tool.timeoutMs ?? this.#core.settings.timeoutMs;
    if (timeoutMs !== undefined && timeoutMs !== Infinity) attempt.timer = setTimeout(this.#onAttemptTimeout, timeoutMs, attempt, timeoutMs);
    let value: unknown;
    try {
      const backend = gate.backend;
      value = backend === inProcessBackend ? (tool.execute as unknown as Execute)(attempt.args, context) : backend.execute(tool, attempt.args, context);
      // Inside the guard: a Proxy's traps, a `then` getter or a `then` that throws is the tool's failure.
      if (this.#awaitOutcome(attempt, value)) return;
    } catch (error) {
      this.#settle(attempt, false, error);
      return;
    }
    this.#settle(attempt, true, value);
  }

  /** Settles the attempt through `value` when it is a promise or another thenable; false when it is a plain output. */
  #awaitOutcome(attempt: Attempt, value: unknown): boolean {
    if (value instanceof Promise && value.then === nativeThen) {
      const reactions = this.#idleReactions ?? this.#newReactions();
      this.#idleReactions = reactions.nextIdle;
      reactions.nextIdle = undefined;
      reactions.attempt = attempt;
      value.then(reactions.fulfilled, reactions.rejected);
      return true;
    }
    if (!isPromiseLike(value)) return false;
    // Another thenable might call back twice: it gets a pair of its own, and #settle ignores a second call.
    value.then(
      (output) => this.#settle(attempt, true, output),
      (error: unknown) => this.#settle(attempt, false, error),
    );
    return true;
  }

  #newReactions(): SettleReactions {
    const reactions: SettleReactions = {
      attempt: undefined,
      nextIdle: undefined,
      fulfilled: (output) => this.#settleThrough(reactions, true, output),
      rejected: (error) => this.#settleThrough(reactions, false, error),
    };
    return reactions;
  }

  /** A native promise calls one of its reactions once: after that, the pair can serve another attempt. */
  #settleThrough(reactions: SettleReactions, ok: boolean, value: unknown): void {
    const attempt = reactions.attempt as Attempt;
    reactions.attempt = undefined;
    reactions.nextIdle = this.#idleReactions;
    this.#idleReactions = reactions;
    this.#settle(attempt, ok, value);
  }

  /** An attempt's promise settled: free its slots, then answer, retry or ignore (if interrupted). */
  #settle(attempt: Attempt, ok: boolean, value: unknown): void {
    if (attempt.settled) return;
    attempt.settled = true;
    if (attempt.timer !== undefined) clearTimeout(attempt.timer);
    this.#core.dispatcher.release(attempt);
    this.#core.dispatcher.pump(attempt.abortReason === undefined ? this.#conclude(attempt, ok, value) : undefined);
  }

  /**
   * Answers or retries a call whose attempt settled. Returns the time it ended when the next
   * call may start at that same time: one clock read for both, when no code outside Volley
   * (listeners, instrumentation, a dependent's validator, another run's) runs between them.
   */
  #conclude(attempt: Attempt, ok: boolean, value: unknown): number | undefined {
    if (!ok) {
      const error = callErrors.toolFailed(value);
      const retryAfterMs = error.retryAfterMs;
      delete error.retryAfterMs;
      this.#failAttempt(this.#stateOf(attempt), error, retryAfterMs);
      return undefined;
    }
    const why = whyNotJson(value);
    if (why !== undefined) {
      this.#failAttempt(this.#stateOf(attempt), callErrors.notJson(attempt.gate.tool.name, why), undefined);
      return undefined;
    }
    // Once the run takes no more calls, no call can come to refer to this one: it needs no state.
    if (attempt.call === undefined && this.#ended) return this.#answerStateless(attempt, value);
    const call = this.#stateOf(attempt);
    const now = this.#core.clock.now();
    const quiet = !this.#listened && this.#instrument === undefined && call.dependents.length === 0 && call.followers === undefined;
    this.#answer(call, true, value, undefined, false, now);
    return quiet ? now : undefined;
  }

  readonly #onAttemptTimeout = (attempt: Attempt, timeoutMs: number): void => {
    attempt.timer = undefined;
    if (attempt.settled || attempt.abortReason !== undefined) return;
    this.#interruptAttempt(attempt, { kind: "timeout", scope: "call", limitMs: timeoutMs });
  };

  /**
   * Aborts a running attempt and answers it at once. A tool that never read its signal could
   * not have stopped; one that did gets a turn of the event loop to settle, so that the
   * answer can say plainly whether it may still be running.
   */
  #interruptAttempt(attempt: Attempt, interruption: Interruption): void {
    if (attempt.abortReason !== undefined) return;
    const call = this.#stateOf(attempt);
    const reason = interruption.kind === "timeout"
      ? new DOMException(`Timed out after ${interruption.limitMs} ms`, "TimeoutError")
      : new DOMException(`Cancelled: ${interruption.reason}`, "AbortError");
    attempt.abortReason = reason;
    attempt.controller?.abort(reason);
    const answer = (): void => {
      if (call.result !== undefined || call.attempt !== attempt) return;
      const stopped = attempt.settled;
      if (interruption.kind === "cancelled") {
        this.#answer(call, false, undefined, callErrors.cancelled(interruption.reason, true, stopped), false);
      } else if (interruption.scope === "run") {
        this.#answer(call, false, undefined, callErrors.timeout(call.name, `was still running when the run's time limit of ${interruption.limitMs} ms was reached`, stopped), false);
      } else {
        this.#failAttempt(call, callErrors.timeout(call.name, `timed out after ${interruption.limitMs} ms`, stopped), undefined);
      }
      this.#core.dispatcher.pump();
    };
    if (attempt.controller !== undefined) setImmediate(answer);
    else answer();
  }

  /** A failed attempt: retry it when the failure is retryable and attempts remain, else answer. */
  #failAttempt(call: CallState, error: CallError, retryAfterMs: number | undefined): void {
    const tool = (call.gate as ToolGate).tool;
    const policy = tool.retry ?? this.#core.settings.retry;
    const retryable = error.type === "timeout" ? tool.idempotent : error.retryable;
    if (!retryable || call.attempts >= policy.attempts || this.#interruption !== undefined) {
      this.#answer(call, false, undefined, error, false);
      return;
    }
    const delayMs = Math.max(backoffDelayMs(policy, call.attempts + 1, this.#core.random), retryAfterMs ?? 0);
    call.phase = "backoff";
    call.attempt = undefined;
    if (this.#observed) {
      this.#emit({ type: "call-retry", runId: this.id, at: this.#core.clock.now(), callId: call.id, name: call.name, attempt: call.attempts + 1, delayMs, error });
    }
    call.backoffTimer = setTimeout(this.#retryNow, delayMs, call);
  }

  readonly #retryNow = (call: CallState): void => {
    call.backoffTimer = undefined;
    if (call.phase !== "backoff") return;
    this.#core.dispatcher.enqueue(call);
    this.#core.dispatcher.pump();
  };

  /** Progress from a running attempt, as an event. */
  progress(attempt: Attempt, update: { progress: number; total?: number; message?: string }): void {
    if (!this.#observed || attempt.settled || attempt.abortReason !== undefined) return;
    this.#emit({ type: "call-progress", runId: this.id, at: this.#core.clock.now(), callId: attempt.callId, name: attempt.gate.tool.name, ...update });
  }

  // ───────────────────────────── approval ─────────────────────────────

  /** Asks whether the call needs approval (a rule that throws says yes), then waits for it holding no slot. */
  #askApproval(call: CallState, rule: true | ((args: never) => boolean | Promise<boolean>)): void {
    if (rule === true) {
      this.#awaitApproval(call);
      return;
    }
    let needed: boolean | Promise<boolean>;
    try {
      needed = (rule as (args: unknown) => boolean | Promise<boolean>)(call.args);
    } catch {
      needed = true;
    }
    if (!(needed instanceof Promise)) {
      this.#afterApprovalRule(call, needed);
      return;
    }
    call.phase = "approval";
    needed
      .then(
        (answer) => this.#afterApprovalRule(call, answer),
        () => this.#afterApprovalRule(call, true),
      )
      .finally(() => this.#core.dispatcher.pump());
  }

  #afterApprovalRule(call: CallState, needed: boolean): void {
    if (call.result !== undefined) return;
    if (needed === false) {
      call.approved = true;
      call.phase = "waiting";
      this.#queue(call);
    } else {
      this.#awaitApproval(call);
    }
  }

  #awaitApproval(call: CallState): void {
    call.phase = "approval";
    const request: ApprovalRequest = { runId: this.id, callId: call.id, name: call.name, args: call.args, requestedAt: this.#core.clock.now() };
    this.#awaitingApproval.set(call.id, { call, request, deciding: false });
    if (this.#observed) this.#emit({ type: "approval-start", runId: this.id, at: request.requestedAt, callId: call.id, name: call.name, args: call.args });
    // A listener may have decided at once (a decision recorded while no process was there): the policy is not asked.
    if (this.#undecided(call.id)) this.#askPolicy(call.id, request);
    // Whatever else may decide, a decision recorded in the history from another process can come first.
    if (this.#awaitingApproval.has(call.id)) this.#core.storedDecisions?.watch(this);
  }

  /** The call waits for approval, and no decision on it is being recorded. */
  #undecided(callId: string): boolean {
    return this.#awaitingApproval.get(callId)?.deciding === false;
  }

  #askPolicy(callId: string, request: ApprovalRequest): void {
    const policy = this.#core.approve;
    if (policy === undefined) return;
    // A policy that throws or rejects denies: the safe answer, and nothing waits forever on it.
    const deny = (error: unknown) => void this.decide(callId, false, `the approval policy failed: ${describeReason(error, "unknown error")}`);
    let decision: ApprovalDecision | Promise<ApprovalDecision>;
    try {
      decision = policy(request);
    } catch (error) {
      deny(error);
      return;
    }
    if (decision instanceof Promise) decision.then((settled) => this.#applyDecision(callId, settled), deny);
    else this.#applyDecision(callId, decision);
  }

  #applyDecision(callId: string, decision: ApprovalDecision): void {
    if (decision === undefined) return;
    if (typeof decision === "boolean") void this.decide(callId, decision);
    else void this.decide(callId, decision.approved === true, typeof decision.reason === "string" ? decision.reason : undefined);
  }

  /**
   * A decision made in this process (`approve`, `deny`, the policy). With a history, it is
   * recorded there first, where the first decision recorded for a call stands in every process:
   * if another process's came first, that one is applied. Resolves to whether this one stood.
   */
  decide(callId: string, approved: boolean, reason?: string): Promise<boolean> {
    const waiting = this.#awaitingApproval.get(callId);
    if (waiting === undefined || waiting.deciding) return Promise.resolve(false);
    const stored = this.#core.storedDecisions;
    if (stored === undefined) return Promise.resolve(this.applyDecision(callId, approved, reason));
    waiting.deciding = true;
    return stored.record(this.id, callId, { approved, ...(reason === undefined ? {} : { reason }) }).then(
      ({ stood, decision }) => this.applyDecision(callId, decision.approved, decision.reason) && stood,
      (error: unknown) => {
        // The history can't be reached: the decision is applied here, as it is without a history (and reported).
        this.#core.warnings.report("history.decisions", "Volley could not read or record approval decisions in its history", error);
        return this.applyDecision(callId, approved, reason);
      },
    );
  }

  /** Approves or denies a waiting call, with a decision that stands; false when no call of that id is waiting for approval. */
  applyDecision(callId: string, approved: boolean, reason?: string): boolean {
    const waiting = this.#awaitingApproval.get(callId);
    if (waiting === undefined) return false;
    const { call } = waiting;
    this.#endApproval(call, approved, reason);
    if (approved) {
      call.approved = true;
      call.phase = "waiting";
      this.#queue(call);
    } else {
      this.#answer(call, false, undefined, callErrors.denied(call.name, reason), false);
    }
    this.#core.dispatcher.pump();
    return true;
  }

  /** The calls waiting for approval now, in the order they asked. */
  pendingApprovals(): ApprovalRequest[] {
    return [...this.#awaitingApproval.values()].map((waiting) => waiting.request);
  }

  #endApproval(call: CallState, approved: boolean, reason: string | undefined): void {
    this.#awaitingApproval.delete(call.id);
    if (this.#awaitingApproval.size === 0) this.#core.storedDecisions?.unwatch(this);
    if (this.#observed) this.#emit({ type: "approval-end", runId: this.id, at: this.#core.clock.now(), callId: call.id, name: call.name, approved, ...(reason === undefined ? {} : { reason }) });
  }

  // ───────────────────────────── answering ─────────────────────────────

  /**
   * Gives a call its one result, then moves the graph on: dependents of a success may become
   * ready, dependents of a failure fail too, and calls that shared this execution get its
   * result. Works through a stack, not recursion, so long chains can't overflow.
   */
  #answer(call: CallState, ok: boolean, output: unknown, error: CallError | undefined, cached: boolean, now?: number): void {
    if (!this.#record(call, ok, output, error, cached, now)) return;
    this.#propagate(call);
    if (this.#ended && this.#unanswered === 0) this.#finish();
  }

  #propagate(first: CallState): void {
    if (first.dependents.length === 0 && first.followers === undefined) return;
    const stack = [first];
    while (stack.length > 0) {
      const call = stack.pop() as CallState;
      const result = call.result as ToolResult;
      if (call.followers !== undefined) this.#core.settleFollowers(call);
      for (const dependent of call.dependents) {
        if (dependent.result !== undefined) continue;
        if (result.ok) {
          if (--dependent.pendingDependencies === 0) this.#prepare(dependent);
          continue;
        }
        const because = this.#interruption
          ? callErrors.cancelled(notStartedReason(this.#interruption), false, true)
          : callErrors.dependencyFailed(call, result.error);
        if (this.#record(dependent, false, undefined, because, false)) stack.push(dependent);
      }
    }
  }

  /**
   * Answers a call that followed an identical one in flight, with that call's outcome. Called
   * while the leader is being answered: whoever answered it pumps once everything that its
   * answer made ready (these calls' dependents too) is in line, not before.
   */
  answerShared(call: CallState, leaderResult: ToolResult): void {
    if (call.result !== undefined) return;
    call.leader = undefined;
    this.#answer(call, leaderResult.ok, leaderResult.output, leaderResult.error, true);
  }

  /** The call this one followed was cancelled with its run; this one runs on its own (queued, as above). */
  rejoin(call: CallState): void {
    if (call.result !== undefined) return;
    call.leader = undefined;
    call.phase = "waiting";
    this.#queue(call);
  }

  /** Stores the call's one result, ended at `now`; returns false (and changes nothing) if it already had one. */
  #record(call: CallState, ok: boolean, output: unknown, error: CallError | undefined, cached: boolean, now = this.#core.clock.now()): boolean {
    if (call.result !== undefined) return false;
    // Answered while waiting for approval (the run was cancelled or timed out): no decision will come.
    if (call.phase === "approval" && this.#awaitingApproval.has(call.id)) this.#endApproval(call, false, `no decision: ${error?.message ?? "the run ended"}`);
    const startedAt = call.startedAt >= 0 ? call.startedAt : now;
    const result = toolResult(call.id, call.name, call.attempts, call.addedAt, startedAt, now, cached, ok, ok ? output : error);
    if (call.backoffTimer !== undefined) clearTimeout(call.backoffTimer);
    if (call.parkedIn !== undefined) this.#core.dispatcher.withdraw(call);
    call.result = result;
    this.#results[call.index] = result;
    // No call can come to refer to it any more: what depends on it holds it, the rest can let go.
    if (this.#ended) this.#graph.forget(call.index);
    call.phase = "done";
    call.attempt = undefined;
    this.#unanswered--;

    let longestDependency = 0;
    for (const dependency of call.dependencies) longestDependency = Math.max(longestDependency, dependency.pathMs);
    call.pathMs = longestDependency + (call.attempts > 0 ? result.durationMs : 0);
    this.#tally(result, call.gate, call.pathMs);
    if (call.shareKey !== undefined) this.#core.onAnswered(call, result, now);
    this.#history?.push({ kind: "call", runId: this.id, index: call.index, args: call.args, dependsOn: call.dependencies.map((dependency) => dependency.id), addedAt: call.addedAt, result });
    if (this.#listened) this.#emit({ type: "call-end", runId: this.id, at: now, callId: call.id, name: call.name, result });
    const instrument = this.#instrument;
    if (instrument?.callEnd !== undefined) this.#core.guard("instrumentation.callEnd", "Volley instrumentation threw in callEnd", () => instrument.callEnd?.(this.#callInfo(call), result));
    return true;
  }

  /**
   * Answers a call whose attempt stood in for it and succeeded, in a run that takes no more
   * calls: nothing can come to refer to it, and no listener watches, so it never needs state.
   * Returns when it ended.
   */
  #answerStateless(attempt: Attempt, output: unknown): number {
    const now = this.#core.clock.now();
    const range = attempt.range as QueuedRange;
    const result = toolResult(attempt.callId, range.name, 1, range.addedAt, attempt.startedAt, now, false, true, output);
    this.#results[attempt.index] = result;
    this.#graph.forget(attempt.index);
    this.#unanswered--;
    this.#tally(result, attempt.gate, result.durationMs);
    this.#history?.push({ kind: "call", runId: this.id, index: attempt.index, args: attempt.args, dependsOn: [], addedAt: range.addedAt, result });
    if (this.#unanswered === 0) this.#finish();
    return now;
  }

  /** Counts a result in the run's figures, and in its tool's statistics and duration estimate. */
  #tally(result: ToolResult, gate: ToolGate | undefined, pathMs: number): void {
    this.#figures.observe(result, pathMs);
    if (gate === undefined) return;
    if (result.ok && result.attempts > 0) gate.observeDuration(result.durationMs);
    gate.statistics.observe(result);
  }

  // ───────────────────────────── ending ─────────────────────────────

  /** No more calls will come. Calls still waiting for an id that never arrived can't run. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const [missingId, waiters] of this.#graph.takeUnresolved()) {
      for (const waiter of waiters) if (waiter.result === undefined) this.#answer(waiter, false, undefined, callErrors.missingCall(missingId), false);
    }
    if (this.#unanswered === 0) this.#finish();
    this.#core.dispatcher.pump();
  }

  cancel(reason?: unknown): void {
    this.#interrupt("cancelled", { kind: "cancelled", reason: describeReason(reason, "the run was cancelled") });
  }

  /**
   * Stops the run: running attempts are aborted (answered `timeout` when the run's time
   * limit ran out, `cancelled` otherwise), and everything not yet running is answered
   * `cancelled`.
   */
  #interrupt(status: RunStatus, interruption: Interruption): void {
    if (this.#finished || this.#interruption !== undefined) return;
    this.#interruption = interruption;
    this.#status = status;
    this.#ended = true;
    const graph = this.#graph;
    graph.takeUnresolved();
    for (let index = 0; index < graph.size; index++) {
      const slot = graph.slotAt(index);
      if (slot === undefined) continue;
      const call = slot instanceof QueuedRange ? graph.take(index) : slot instanceof Attempt ? this.#stateOf(slot) : slot;
      if (call.result !== undefined) continue;
      if (call.phase === "running" && call.attempt !== undefined) {
        this.#interruptAttempt(call.attempt, interruption);
      } else {
        if (call.leader?.followers) call.leader.followers.splice(call.leader.followers.indexOf(call), 1);
        this.#answer(call, false, undefined, callErrors.cancelled(notStartedReason(interruption), false, true), false);
      }
    }
    if (this.#unanswered === 0) this.#finish();
    this.#core.dispatcher.pump();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#deadline !== undefined) clearTimeout(this.#deadline);
    this.#detachSignal?.();
    this.#callerContext.emitDestroy();
    const results = this.#results as ToolResult[];
    // Room was reserved for a batch that a misused call cut short.
    if (results.length > this.#graph.size) results.length = this.#graph.size;
    const stats = this.#figures.stats(results.length, this.#startedAt, this.maxInFlight);
    const result: RunResult = { runId: this.id, status: this.#status, results, stats };
    this.#core.statistics.observeRun(stats);
    const endedAt = this.#core.clock.now();
    if (this.#listened) this.#emit({ type: "run-end", runId: this.id, at: endedAt, result });
    this.#history?.push({ kind: "run-end", result, endedAt });
    this.events?.close();
    const instrument = this.#instrument;
    if (instrument?.runEnd !== undefined) this.#core.guard("instrumentation.runEnd", "Volley instrumentation threw in runEnd", () => instrument.runEnd?.(result));
    this.#resolve(result);
  }

  #emit(event: RunEvent): void {
    this.events?.push(event);
    if (this.#history !== undefined && isStoredEvent(event)) this.#history.push({ kind: "event", runId: this.id, seq: this.#eventSeq++, event });
    if (this.#onEvent !== undefined) this.#core.notify(this.#onEvent, event);
    if (this.#core.onEvent !== undefined) this.#core.notify(this.#core.onEvent, event);
  }
}

/**
 * A call's one result: `outcome` is the output of a success, the error of a failure. Both kinds
 * have their fields in one order, wherever they are made.
 */
function toolResult(id: string, name: string, attempts: number, addedAt: number, startedAt: number, endedAt: number, cached: boolean, ok: boolean, outcome: unknown): ToolResult {
  const durationMs = endedAt - startedAt;
  const queuedMs = startedAt - addedAt;
  return ok
    ? { id, name, ok, output: outcome, attempts, startedAt, endedAt, durationMs, queuedMs, cached }
    : { id, name, ok, error: outcome as CallError, attempts, startedAt, endedAt, durationMs, queuedMs, cached };
}

/** Arguments that could not be read, as the history keeps them: the text as it came, or a word on why not. */
function argumentsAsSent(raw: unknown): Record<string, unknown> {
  return { $unparsed: typeof raw === "string" ? raw.slice(0, 10_000) : "(arguments that could not be read: nested too deeply, self-containing, or throwing when read)" };
}

/** Validates arguments; a validator that throws gives a failed outcome saying so. */
function runValidator(validate: InputValidator, args: Record<string, unknown>): ValidationOutcome | Promise<ValidationOutcome> {
  try {
    return validate(args);
  } catch (error) {
    return validatorThrew(error);
  }
}

function validatorThrew(error: unknown): ValidationOutcome {
  return { ok: false, message: `the validator threw: ${describeReason(error, "unknown error")}` };
}

/** Tool name and canonical arguments; undefined when the arguments can't be written as JSON. */
function shareKeyOf(name: string, args: Record<string, unknown>): string | undefined {
  try {
    return `${name}\u0000${canonicalJson(args)}`;
  } catch {
    return undefined;
  }
}
