import { VolleyError, describeValue } from "../errors/volley-error.ts";
import type { CallError, ToolCall } from "../run/types.ts";
import { scanArguments } from "../scheduler/call-arguments.ts";
import type { CallGraph } from "../scheduler/call-graph.ts";
import { rankAdded } from "../scheduler/call-ranks.ts";
import { CallState, type RunSlots } from "../scheduler/call-state.ts";
import type { ToolGate } from "../scheduler/tool-gate.ts";
import type { ValidationOutcome } from "../tool/input-validator.ts";
import type { BatchPath } from "./batch-path.ts";
import { callErrors } from "./call-errors.ts";
import { runValidator, type CallPreparation } from "./call-preparation.ts";
import type { ExecutorCore } from "./executor-core.ts";
import type { RunAnswers } from "./run-answers.ts";
import type { RunEvents } from "./run-events.ts";
import type { RunLifecycle } from "./run-lifecycle.ts";

/** What taking calls in needs from the rest of its run and executor. */
export interface CallIntakeParts {
  run: RunLifecycle & RunSlots;
  core: Pick<ExecutorCore, "gates" | "toolNames" | "toolsVersion" | "dispatcher">;
  graph: CallGraph;
  events: RunEvents;
  answers: RunAnswers;
  batch: BatchPath;
  preparation: CallPreparation;
  /** Calls of equal priority start by critical path, so each call's rank is worked out as it is lined up. */
  ranked: boolean;
  /** Calls' priorities count (a run that is not parallel ignores them). */
  parallel: boolean;
}

/** How the arguments of a tool that takes `$ref` objects as data are read. */
const LITERAL_ARGUMENTS = { references: false } as const;

/**
 * Takes a run's calls in: checks each call's fields, gives it its id (refusing a duplicate),
 * finds its tool, reads its arguments and `$ref`s, and links it into the graph (refusing a
 * cycle). A call that fits the batch path joins a range; one whose dependencies are all met
 * goes on to be prepared; a call with a problem is answered with it at once.
 */
export class CallIntake {
  readonly #run: CallIntakeParts["run"];
  readonly #core: CallIntakeParts["core"];
  readonly #graph: CallGraph;
  readonly #events: RunEvents;
  readonly #answers: RunAnswers;
  readonly #batch: BatchPath;
  readonly #preparation: CallPreparation;
  readonly #ranked: boolean;
  readonly #parallel: boolean;
  /** The gate the last call named that had one (see `#gateNamed`). */
  #lastGate: ToolGate | undefined;
  /** The tools' version when it was remembered (see `ExecutorCore.toolsVersion`). */
  #lastGateVersion = 0;

  constructor(parts: CallIntakeParts) {
    this.#run = parts.run;
    this.#core = parts.core;
    this.#graph = parts.graph;
    this.#events = parts.events;
    this.#answers = parts.answers;
    this.#batch = parts.batch;
    this.#preparation = parts.preparation;
    this.#ranked = parts.ranked;
    this.#parallel = parts.parallel;
  }

  /** Adds calls as one batch: nothing starts before its end, so ranks are worked out knowing all of it. */
  addBatch(calls: readonly ToolCall[], now: number): void {
    if (this.#graph.size === 0 && calls.length > this.#answers.results.length) {
      this.#graph.reserve(calls.length);
      this.#answers.reserve(calls.length);
      // A batch whose first call carries an id most likely gives every call one.
      if (calls.length > 16 && typeof calls[0]?.id === "string") this.#graph.reserveIds(calls.length);
    }
    // Indexed: `for…of` allocates an iterator result per call until the loop is optimized.
    for (let index = 0; index < calls.length; index++) this.add(calls[index] as ToolCall, now);
  }

  /** Adds one call; returns its position. */
  add(input: ToolCall, now: number): number {
    const run = this.#run;
    if (run.ended) {
      throw new VolleyError(
        "run_closed",
        `Run ${run.id} is ${run.interruption ? "cancelled" : "ended"}: no more calls can be added`,
      );
    }
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      throw new VolleyError(
        "invalid_call_list",
        `Expected a tool call object ({ name, args?, id? }), got ${describeValue(input)}`,
      );
    }
    const name = typeof input.name === "string" ? input.name : "";
    const gate = this.#gateNamed(name);
    const scanned =
      input.args === undefined
        ? undefined
        : scanArguments(input.args, gate?.tool.references === false ? LITERAL_ARGUMENTS : undefined);
    const problem = checkCallFields(input);
    // Validated here only for a call that can join a range; any other is validated once its inputs are ready.
    let validated: ValidationOutcome | Promise<ValidationOutcome> | undefined;
    if (gate !== undefined && this.#batch.fits(input, gate, scanned, problem === undefined)) {
      const args = scanned?.ok === true ? scanned.args : undefined;
      const validate = gate.tool.validateInput;
      if (validate === undefined) {
        if (this.#batch.claimsId(input)) return this.#batch.add(input, gate, args, now);
      } else {
        validated = runValidator(validate, args ?? {});
        if (!(validated instanceof Promise) && validated.ok && this.#batch.claimsId(input))
          return this.#batch.add(input, gate, validated.value, now);
      }
    }

    const graph = this.#graph;
    const requestedId = input.id;
    const explicit = typeof requestedId === "string" && requestedId !== "";
    const id = explicit ? requestedId : graph.generateId();
    const taken = explicit && graph.has(id);
    const call = new CallState(run, graph.size, this.#core.dispatcher.nextSeq(), id, name, now);
    graph.append(call);
    this.#answers.expect(call.index);
    // Kept for the history from the start: a call answered before it runs shows what it was sent.
    if (scanned !== undefined) call.args = scanned.ok ? scanned.args : argumentsAsSent(input.args);
    // Registered before anything can fail, so that calls waiting for this id learn of its fate, and
    // before a listener hears of it, so that a call it adds with the same id is the duplicate.
    const awaited = !taken && graph.register(call);
    if (this.#events.listened) {
      const dependsOn = new Set(
        Array.isArray(input.dependsOn) ? input.dependsOn.filter((d): d is string => typeof d === "string") : [],
      );
      if (scanned?.ok) for (const reference of scanned.references) dependsOn.add(reference.callId);
      this.#events.emit({
        type: "call-add",
        runId: run.id,
        at: call.addedAt,
        callId: id,
        name,
        dependsOn: [...dependsOn],
      });
      // A listener cancelled the run as the call was added: it is answered, and must not start.
      if (call.result !== undefined) return call.index;
    }
    const refusal = this.#accept(call, input, gate, problem, taken, scanned);
    if (refusal !== undefined) {
      this.#answers.fail(call, refusal);
      return call.index;
    }
    if (!this.#link(call, input, awaited)) return call.index;
    if (this.#ranked) rankAdded(call, this.#core.dispatcher.staleInLine);
    if (call.pendingDependencies === 0) this.#preparation.prepare(call, validated);
    return call.index;
  }

  /** Gives the call its tool and fields; returns why it can't be taken instead, if it can't. */
  #accept(
    call: CallState,
    input: ToolCall,
    gate: ToolGate | undefined,
    problem: string | undefined,
    taken: boolean,
    scanned: ReturnType<typeof scanArguments> | undefined,
  ): CallError | undefined {
    if (taken) return callErrors.duplicateId(call.id);
    if (problem !== undefined) return callErrors.invalidArguments(call.name || "(no name)", problem);
    if (gate === undefined) return callErrors.unknownTool(input.name, this.#core.toolNames);
    call.gate = gate;
    call.timeoutMs = input.timeoutMs;
    call.priority = this.#parallel ? (input.priority ?? gate.tool.priority) : 0;
    if (scanned === undefined) {
      call.args = {};
      return undefined;
    }
    if (!scanned.ok) return callErrors.invalidArguments(call.name, scanned.message);
    // Its arguments were kept as the call was made.
    call.references = scanned.references;
    return undefined;
  }

  /** Links the call to the calls it depends on; false when it was answered instead (a failed dependency, a cycle). */
  #link(call: CallState, input: ToolCall, awaited: boolean): boolean {
    if (input.dependsOn === undefined && call.references.length === 0) return true;
    const dependencyIds = new Set<string>(input.dependsOn);
    for (const reference of call.references) dependencyIds.add(reference.callId);
    if (dependencyIds.has(call.id)) {
      this.#answers.fail(call, callErrors.cycle([call.id]));
      return false;
    }
    const failed = this.#graph.link(call, dependencyIds);
    if (failed !== undefined) {
      this.#answers.fail(call, callErrors.dependencyFailed(failed, failed.result?.error as CallError));
      return false;
    }
    // Only a call that others were already waiting for, and that waits itself, can close a cycle.
    if (awaited && call.pendingDependencies > 0) {
      const cycle = this.#graph.cycleThrough(call);
      if (cycle.length > 0) {
        this.#answers.failCycle(cycle);
        return false;
      }
    }
    return true;
  }

  /** The gate of the tool named; calls in a batch mostly name the same tool as the call before. */
  #gateNamed(name: string): ToolGate | undefined {
    const last = this.#lastGate;
    if (last !== undefined && last.tool.name === name && this.#lastGateVersion === this.#core.toolsVersion) return last;
    const gate = this.#core.gates.get(name);
    if (gate !== undefined) {
      this.#lastGate = gate;
      this.#lastGateVersion = this.#core.toolsVersion;
    }
    return gate;
  }
}

/** Why the call's own fields are unusable, or undefined. Arguments are checked later. */
export function checkCallFields(input: ToolCall): string | undefined {
  const requestedId: unknown = input.id;
  if (requestedId !== undefined && (typeof requestedId !== "string" || requestedId === "")) {
    return `"id" must be a non-empty string, got ${describeValue(requestedId)}`;
  }
  if (
    input.dependsOn !== undefined &&
    (!Array.isArray(input.dependsOn) || !input.dependsOn.every((d) => typeof d === "string"))
  ) {
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

/** Arguments that could not be read, as the history keeps them: the text as it came, or a word on why not. */
function argumentsAsSent(raw: unknown): Record<string, unknown> {
  return {
    $unparsed:
      typeof raw === "string"
        ? raw.slice(0, 10_000)
        : "(arguments that could not be read: nested too deeply, self-containing, or throwing when read)",
  };
}
