import type { ApprovalDecision, ApprovalRequest } from "../run/types.ts";
import type { CallState } from "../scheduler/call-state.ts";
import { describeReason } from "./call-errors.ts";
import type { ExecutorCore } from "./executor-core.ts";
import type { RunEvents } from "./run-events.ts";

/** What the desk needs from its run and executor, and whom it tells of each decision. */
export interface ApprovalDeskParts {
  runId: string;
  core: Pick<ExecutorCore, "clock" | "approve" | "storedDecisions" | "warnings" | "dispatcher">;
  events: RunEvents;
  /** The call may run: it goes on to queue, holding no approval. */
  approved: (call: CallState) => void;
  /** The call must not run: it is answered `denied`. */
  denied: (call: CallState, reason: string | undefined) => void;
}

/** A rule that says whether a call needs a person's approval. */
type ApprovalRule = true | ((args: never) => boolean | Promise<boolean>);

/**
 * Where a run's calls wait for a person's approval, holding no slot. A call is decided once:
 * by the executor's policy, by `approve`/`deny` in this process, or by a decision recorded in
 * the history from another; with a history, the first decision recorded stands everywhere.
 */
export class ApprovalDesk {
  readonly #runId: string;
  readonly #core: ApprovalDeskParts["core"];
  readonly #events: RunEvents;
  readonly #approved: (call: CallState) => void;
  readonly #denied: (call: CallState, reason: string | undefined) => void;
  /** Calls waiting, by id, in the order they asked; `deciding` while a decision is being recorded. */
  readonly #waiting = new Map<string, { call: CallState; request: ApprovalRequest; deciding: boolean }>();

  constructor(parts: ApprovalDeskParts) {
    this.#runId = parts.runId;
    this.#core = parts.core;
    this.#events = parts.events;
    this.#approved = parts.approved;
    this.#denied = parts.denied;
  }

  /** The run as the history's decision watch sees it. */
  get id(): string {
    return this.#runId;
  }

  /** Asks whether the call needs approval (a rule that throws says yes), then waits for a decision if it does. */
  ask(call: CallState, rule: ApprovalRule): void {
    if (rule === true) {
      this.#await(call);
      return;
    }
    let needed: boolean | Promise<boolean>;
    try {
      needed = (rule as (args: unknown) => boolean | Promise<boolean>)(call.args);
    } catch {
      needed = true;
    }
    if (!(needed instanceof Promise)) {
      this.#afterRule(call, needed);
      return;
    }
    call.phase = "approval";
    const dispatcher = this.#core.dispatcher;
    needed.then(
      (answer) => dispatcher.inTurn(() => this.#afterRule(call, answer)),
      () => dispatcher.inTurn(() => this.#afterRule(call, true)),
    );
  }

  #afterRule(call: CallState, needed: boolean): void {
    if (call.result !== undefined) return;
    if (needed === false) this.#letThrough(call);
    else this.#await(call);
  }

  #letThrough(call: CallState): void {
    call.approved = true;
    call.phase = "waiting";
    this.#approved(call);
  }

  #await(call: CallState): void {
    call.phase = "approval";
    const request: ApprovalRequest = {
      runId: this.#runId,
      callId: call.id,
      name: call.name,
      args: call.args,
      requestedAt: this.#core.clock.now(),
    };
    this.#waiting.set(call.id, { call, request, deciding: false });
    if (this.#events.observed)
      this.#events.emit({
        type: "approval-start",
        runId: this.#runId,
        at: request.requestedAt,
        callId: call.id,
        name: call.name,
        args: call.args,
      });
    // A listener may have decided at once (a decision recorded while no process was there): the policy is not asked.
    if (this.#waiting.get(call.id)?.deciding === false) this.#askPolicy(call.id, request);
    // Whatever else may decide, a decision recorded in the history from another process can come first.
    if (this.#waiting.has(call.id)) this.#core.storedDecisions?.watch(this);
  }

  #askPolicy(callId: string, request: ApprovalRequest): void {
    const policy = this.#core.approve;
    if (policy === undefined) return;
    // A policy that throws or rejects denies: the safe answer, and nothing waits forever on it.
    const deny = (error: unknown) =>
      void this.decide(callId, false, `the approval policy failed: ${describeReason(error, "unknown error")}`);
    let decision: ApprovalDecision | Promise<ApprovalDecision>;
    try {
      decision = policy(request);
    } catch (error) {
      deny(error);
      return;
    }
    if (decision instanceof Promise) decision.then((settled) => this.#applyPolicyDecision(callId, settled), deny);
    else this.#applyPolicyDecision(callId, decision);
  }

  #applyPolicyDecision(callId: string, decision: ApprovalDecision): void {
    if (decision === undefined) return;
    if (typeof decision === "boolean") void this.decide(callId, decision);
    else
      void this.decide(
        callId,
        decision.approved === true,
        typeof decision.reason === "string" ? decision.reason : undefined,
      );
  }

  /**
   * A decision made in this process (`approve`, `deny`, the policy). With a history, it is
   * recorded there first, where the first decision recorded for a call stands in every process:
   * if another process's came first, that one is applied. Resolves to whether this one stood.
   */
  decide(callId: string, approved: boolean, reason?: string): Promise<boolean> {
    const waiting = this.#waiting.get(callId);
    if (waiting === undefined || waiting.deciding) return Promise.resolve(false);
    const stored = this.#core.storedDecisions;
    if (stored === undefined) return Promise.resolve(this.applyDecision(callId, approved, reason));
    waiting.deciding = true;
    return stored.record(this.#runId, callId, { approved, ...(reason === undefined ? {} : { reason }) }).then(
      ({ stood, decision }) => this.applyDecision(callId, decision.approved, decision.reason) && stood,
      (error: unknown) => {
        // The history can't be reached: the decision is applied here, as it is without a history (and reported).
        this.#core.warnings.report(
          "history.decisions",
          "Volley could not read or record approval decisions in its history",
          error,
        );
        return this.applyDecision(callId, approved, reason);
      },
    );
  }

  /** Approves or denies a waiting call, with a decision that stands; false when no call of that id is waiting for approval. */
  applyDecision(callId: string, approved: boolean, reason?: string): boolean {
    const waiting = this.#waiting.get(callId);
    if (waiting === undefined) return false;
    const { call } = waiting;
    this.#core.dispatcher.inTurn(() => {
      this.#close(call, approved, reason);
      if (approved) this.#letThrough(call);
      else this.#denied(call, reason);
    });
    return true;
  }

  /** The call is being answered while it waits (its run was cancelled or timed out): no decision will come. */
  withdraw(call: CallState, reason: string): void {
    if (this.#waiting.has(call.id)) this.#close(call, false, reason);
  }

  /** The calls waiting for approval now, in the order they asked. */
  pending(): ApprovalRequest[] {
    return [...this.#waiting.values()].map((waiting) => waiting.request);
  }

  #close(call: CallState, approved: boolean, reason: string | undefined): void {
    this.#waiting.delete(call.id);
    if (this.#waiting.size === 0) this.#core.storedDecisions?.unwatch(this);
    if (this.#events.observed)
      this.#events.emit({
        type: "approval-end",
        runId: this.#runId,
        at: this.#core.clock.now(),
        callId: call.id,
        name: call.name,
        approved,
        ...(reason === undefined ? {} : { reason }),
      });
  }
}
