import { describeValue } from "../errors/volley-error.ts";
import type { CallError } from "../run/types.ts";
import { outputsOf, resolveReferences } from "../scheduler/call-arguments.ts";
import type { CallState } from "../scheduler/call-state.ts";
import { toClaims } from "../scheduler/resource-claims.ts";
import type { ResourceClaim } from "../tool/define-tool.ts";
import type { InputValidator, ValidationOutcome } from "../tool/input-validator.ts";
import type { ApprovalDesk } from "./approval-desk.ts";
import { callErrors, describeReason } from "./call-errors.ts";
import { shareKeyOf, type CallSharing } from "./call-sharing.ts";
import type { ExecutorCore } from "./executor-core.ts";
import type { RunAnswers } from "./run-answers.ts";

/** What a step of preparation decided: go on with this value, or answer the call with this error. */
export type Verdict<T> = { ok: true; value: T } | { ok: false; error: CallError };

/** What preparing calls needs from the rest of its run. */
export interface CallPreparationParts {
  core: Pick<ExecutorCore, "clock" | "dispatcher">;
  answers: RunAnswers;
  approvals: ApprovalDesk;
  sharing: CallSharing;
}

/**
 * Gets a call whose dependencies all succeeded ready to run: its references resolved, its
 * arguments validated, its approval given, then served from the cache, joined to an
 * identical call in flight, or queued with the resources it claims. A step that finds a
 * problem answers the call with it instead.
 */
export class CallPreparation {
  readonly #core: CallPreparationParts["core"];
  readonly #answers: RunAnswers;
  readonly #approvals: ApprovalDesk;
  readonly #sharing: CallSharing;

  constructor(parts: CallPreparationParts) {
    this.#core = parts.core;
    this.#answers = parts.answers;
    this.#approvals = parts.approvals;
    this.#sharing = parts.sharing;
  }

  /** `validated`: the outcome of validating the call's arguments, when that was done as it was added. */
  prepare(call: CallState, validated?: ValidationOutcome | Promise<ValidationOutcome>): void {
    if (call.references.length > 0) {
      const resolved = resolvedArguments(call);
      if (!resolved.ok) {
        this.#answers.fail(call, resolved.error);
        return;
      }
      call.args = resolved.value;
    }
    const validate = call.tool.validateInput;
    if (validate === undefined) {
      this.queue(call);
      return;
    }
    const outcome = validated ?? runValidator(validate, call.args);
    if (!(outcome instanceof Promise)) {
      this.#afterValidation(call, outcome);
      return;
    }
    const dispatcher = this.#core.dispatcher;
    outcome.then(
      (settled) => dispatcher.inTurn(() => this.#afterValidation(call, settled)),
      (error: unknown) => dispatcher.inTurn(() => this.#afterValidation(call, validatorThrew(error))),
    );
  }

  #afterValidation(call: CallState, outcome: ValidationOutcome): void {
    if (call.result !== undefined) return;
    if (!outcome.ok) {
      this.#answers.fail(call, callErrors.schemaMismatch(call.name, outcome.message));
      return;
    }
    call.args = outcome.value;
    this.queue(call);
  }

  /** Asks for approval if the tool needs it; then serves from the cache, joins an identical call in flight, or takes claims and queues. */
  queue(call: CallState): void {
    const tool = call.tool;
    if (tool.needsApproval !== false && !call.approved) {
      this.#approvals.ask(call, tool.needsApproval);
      return;
    }
    if (tool.cache !== undefined || tool.idempotent) {
      if (call.shareKey === undefined) call.shareKey = shareKeyOf(tool.name, call.args);
      const key = call.shareKey;
      if (key !== undefined) {
        const hit = this.#sharing.cached(call, key, this.#core.clock.now());
        if (hit !== undefined) {
          this.#answers.serveCached(call, hit.output);
          return;
        }
        if (this.#sharing.follow(call, key)) return;
      }
    }
    if (tool.resources !== undefined && call.claims === undefined) {
      const claims = claimsOf(call);
      if (!claims.ok) {
        this.#answers.fail(call, claims.error);
        return;
      }
      call.claims = claims.value;
    }
    this.#core.dispatcher.enqueue(call);
  }
}

/** The call's arguments with the outputs of its dependencies where its `$ref`s were. */
export function resolvedArguments(call: CallState): Verdict<Record<string, unknown>> {
  const resolved = resolveReferences(call.args, call.references, outputsOf(call.dependencies));
  if (!resolved.ok)
    return { ok: false, error: callErrors.missingPath(resolved.message, call.references[0]?.callId ?? "") };
  const args = resolved.args as unknown;
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    return {
      ok: false,
      error: callErrors.invalidArguments(
        call.name,
        `the referenced output that became the arguments is ${describeValue(args)}, not an object`,
      ),
    };
  }
  return { ok: true, value: args as Record<string, unknown> };
}

/** The resources the call's tool says it needs for these arguments. */
export function claimsOf(call: CallState): Verdict<ResourceClaim[]> {
  const fail = (detail: string): Verdict<ResourceClaim[]> => ({
    ok: false,
    error: { type: "tool_error", message: `"${call.name}" ${detail}`, retryable: false },
  });
  let declared: unknown;
  try {
    declared = (call.tool.resources as (args: unknown) => unknown)(call.args);
  } catch (error) {
    return fail(`could not name its resources: ${describeReason(error, "resources() threw")}`);
  }
  const outcome = toClaims(declared);
  return outcome.ok ? { ok: true, value: outcome.claims } : fail(`named its resources wrongly: ${outcome.message}`);
}

/** Validates arguments; a validator that throws gives a failed outcome saying so. */
export function runValidator(
  validate: InputValidator,
  args: Record<string, unknown>,
): ValidationOutcome | Promise<ValidationOutcome> {
  try {
    return validate(args);
  } catch (error) {
    return validatorThrew(error);
  }
}

function validatorThrew(error: unknown): ValidationOutcome {
  return { ok: false, message: `the validator threw: ${describeReason(error, "unknown error")}` };
}
