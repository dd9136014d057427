import { describeValue } from "../errors/volley-error.ts";
import type { ResourceClaim } from "../tool/define-tool.ts";

export type ClaimsOutcome = { ok: true; claims: ResourceClaim[] } | { ok: false; message: string };

function isClaim(item: unknown): item is ResourceClaim {
  const claim = item as Partial<ResourceClaim> | null;
  return (
    claim !== null &&
    typeof claim === "object" &&
    typeof claim.key === "string" &&
    (claim.mode === "read" || claim.mode === "write")
  );
}

/**
 * Turns what a tool's `resources(args)` returned into one claim per key: plain strings claim a
 * key for writing, and when a key is named twice the stronger mode wins, so that a call never
 * waits for itself.
 */
export function toClaims(declared: unknown): ClaimsOutcome {
  const byKey = new Map<string, ResourceClaim>();
  for (const item of Array.isArray(declared) ? (declared as unknown[]) : [declared]) {
    let claim: ResourceClaim;
    if (typeof item === "string") claim = { key: item, mode: "write" };
    else if (isClaim(item)) claim = { key: item.key, mode: item.mode };
    else return { ok: false, message: `expected keys or { key, mode: "read" | "write" }, got ${describeValue(item)}` };
    if (byKey.get(claim.key)?.mode !== "write") byKey.set(claim.key, claim);
  }
  return { ok: true, claims: [...byKey.values()] };
}
