import type { ToolResult } from "../run/types.ts";
import type { CallState } from "../scheduler/call-state.ts";
import { canonicalJson } from "../shared/canonical-json.ts";
import type { ResultCache } from "./result-cache.ts";

/**
 * Calls of idempotent or cached tools, across every run of an executor: an identical call
 * in flight leads the ones that arrive while it runs, which get its result; a cached tool's
 * fresh successes answer later identical calls until they expire.
 */
export class CallSharing {
  readonly #caches: ReadonlyMap<string, ResultCache>;
  /** The call executing for each share key, which identical calls follow. */
  readonly #leaders = new Map<string, CallState>();

  constructor(caches: ReadonlyMap<string, ResultCache>) {
    this.#caches = caches;
  }

  /** A fresh cached output for the call's key, if its tool caches and has one. */
  cached(call: CallState, key: string, now: number): { output: unknown } | undefined {
    return this.#caches.get(call.name)?.get(key, now);
  }

  /** Makes the call follow an identical one in flight, and returns true; or makes it the one that leads, and returns false. */
  follow(call: CallState, key: string): boolean {
    const leader = this.#leaders.get(key);
    if (leader === undefined || leader === call) {
      this.#leaders.set(key, call);
      return false;
    }
    call.phase = "shared";
    call.leader = leader;
    (leader.followers ??= []).push(call);
    return true;
  }

  /** After a call is answered: it no longer leads identical calls, and a fresh success is cached. */
  answered(call: CallState, result: ToolResult, now: number): void {
    const key = call.shareKey;
    if (key === undefined) return;
    if (this.#leaders.get(key) === call) this.#leaders.delete(key);
    if (result.ok && !result.cached) this.#caches.get(call.name)?.set(key, result.output, now);
  }

  /** Hands a leader's result to the calls that followed it, in whichever runs they are. */
  settleFollowers(leader: CallState): void {
    const followers = leader.followers;
    const result = leader.result;
    if (followers === undefined || result === undefined) return;
    leader.followers = undefined;
    const cancelled = !result.ok && result.error.type === "cancelled";
    for (const follower of followers) {
      if (cancelled) follower.run.rejoin(follower);
      else follower.run.answerShared(follower, result);
    }
  }
}

/** Tool name and canonical arguments; undefined when the arguments can't be written as JSON. */
export function shareKeyOf(name: string, args: Record<string, unknown>): string | undefined {
  try {
    return `${name}\u0000${canonicalJson(args)}`;
  } catch {
    return undefined;
  }
}
