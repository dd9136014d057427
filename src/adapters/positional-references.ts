import type { ToolCall } from "../run/types.ts";

/**
 * Tells a model, in a system prompt, that one call of a message may take an earlier call's
 * output by its position there (a model can't know the ids its provider will give its calls).
 * Give the calls to `resolvePositions` (or an adapter's `calls(message, { positionalReferences:
 * true })`), and Volley starts the later call as soon as the earlier one's output exists: two
 * model turns become one.
 */
export const POSITIONAL_REFERENCES_PROMPT = [
  "When a tool call needs the output of another tool call you are making in the same message, make both now:",
  "in the later call's arguments, write {\"$ref\": n} where that output should go, n being the earlier call's",
  'position in your message (1 for the first call), with "path": "/field/0" beside it for a value inside the',
  "output (a JSON Pointer). The later call runs once the earlier one has finished, with the output in place.",
].join(" ");

/** The id a call gets when another refers to it by position and it has none. */
const positionId = (position: number): string => `position ${position}`;

/** `{ "$ref": n }` or `{ "$ref": n, "path": "/…" }`, n a whole number: a reference by position. */
function positionOf(value: Record<string, unknown>): number | undefined {
  const target = value.$ref;
  if (typeof target !== "number" || !Number.isInteger(target)) return undefined;
  for (const key in value) if (key !== "$ref" && key !== "path") return undefined;
  return value.path === undefined || typeof value.path === "string" ? target : undefined;
}

/** A copy of `value` with each reference by position made a reference by id; `undefined` when it has none. */
function rewrite(value: unknown, idAt: (position: number) => string, depth: number): unknown {
  if (value === null || typeof value !== "object" || depth > 256) return undefined;
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    let changed: unknown[] | undefined;
    items.forEach((item, index) => {
      const next = rewrite(item, idAt, depth + 1);
      if (next === undefined) return;
      changed ??= [...items];
      changed[index] = next;
    });
    return changed;
  }
  const record = value as Record<string, unknown>;
  const position = positionOf(record);
  if (position !== undefined) return { ...record, $ref: idAt(position) };
  let changed: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const next = rewrite(record[key], idAt, depth + 1);
    if (next === undefined) continue;
    changed ??= { ...record };
    changed[key] = next;
  }
  return changed;
}

/**
 * The call with every `{ "$ref": n }` in its arguments turned into `{ "$ref": idOf(n) }`, `path`
 * kept; itself when it has none. `position` is its own place in the message, counted from 1. A
 * position `idOf` does not know, or the call's own, becomes an id no call has, so that the executor
 * answers the call `invalid_reference` in words the model can act on. Arguments as JSON text are
 * read only when they hold a `$ref`.
 */
export function resolvePositionsOf(
  call: ToolCall,
  position: number,
  idOf: (position: number) => string | undefined,
): ToolCall {
  let args: unknown = call.args;
  if (typeof args === "string") {
    if (!args.includes('"$ref"')) return call;
    try {
      args = JSON.parse(args) as unknown;
    } catch {
      return call; // The executor answers text that is no JSON.
    }
  }
  const idAt = (target: number): string => (target === position ? undefined : idOf(target)) ?? positionId(target);
  const next = rewrite(args, idAt, 0);
  return next === undefined ? call : { ...call, args: next as Record<string, unknown> };
}

/**
 * The calls of one message with every `{ "$ref": n }` in their arguments (n counting the
 * message's calls from 1) turned into a reference to that call's id (see `resolvePositionsOf`).
 * A call that is referred to and has no id gets one, `position n`.
 */
export function resolvePositions(calls: readonly ToolCall[]): ToolCall[] {
  const ids = calls.map((call) => (typeof call.id === "string" && call.id !== "" ? call.id : undefined));
  const referred = new Set<number>();
  const idOf = (position: number): string | undefined => {
    if (position < 1 || position > calls.length) return undefined;
    referred.add(position);
    return ids[position - 1] ?? positionId(position);
  };
  const resolved = calls.map((call, index) => resolvePositionsOf(call, index + 1, idOf));
  // A call referred to by position needs an id to be found by.
  return resolved.map((call, index) =>
    ids[index] === undefined && referred.has(index + 1) ? { ...call, id: positionId(index + 1) } : call,
  );
}

/** Options of the adapters' `calls`. */
export interface CallsOptions {
  /** Read `{ "$ref": n }` as a reference to the message's n-th call (see `POSITIONAL_REFERENCES_PROMPT`). @default false */
  positionalReferences?: boolean;
}

/** The calls as they are, or with references by position resolved, as `options` asks. */
export function withPositions(calls: ToolCall[], options: CallsOptions | undefined): ToolCall[] {
  return options?.positionalReferences === true ? resolvePositions(calls) : calls;
}
