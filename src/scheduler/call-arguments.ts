import { messageOf } from "../shared/message-of.ts";
import { parseJsonPointer, readJsonPointer, type PointerLookup } from "../shared/json-pointer.ts";

/** A `{ "$ref": "<call id>", "path": "/json/pointer" }` found inside a call's arguments. */
export interface ArgumentReference {
  /** Where the reference sits inside the arguments: keys and array indices from the root. */
  readonly location: readonly (string | number)[];
  readonly callId: string;
  readonly pointer: string;
  readonly tokens: readonly string[];
}

/**
 * Shared by every call without references. Not frozen: V8 iterates a frozen array with `for…of`
 * on its slow path, allocating on every loop; `readonly` keeps it empty.
 */
export const NO_REFERENCES: readonly ArgumentReference[] = [];

/**
 * How deeply a call's arguments may nest. Deeper ones (a model looping on brackets, an object
 * that contains itself) are answered `invalid_arguments`: every step after intake (validators,
 * history, serialising to a worker) may walk them recursively, and must never overflow the stack.
 */
export const MAX_ARGUMENT_DEPTH = 256;

export type ScannedArguments =
  | { ok: true; args: Record<string, unknown>; references: readonly ArgumentReference[] }
  | { ok: false; message: string };

/** Keys that can reach an object's prototype when a tool copies or merges its arguments. */
function isPollutingKey(key: string, value: unknown): boolean {
  if (key === "__proto__") return true;
  return (key === "constructor" || key === "prototype") && value !== null && typeof value === "object";
}

function isReference(value: Record<string, unknown>): boolean {
  if (typeof value.$ref !== "string") return false;
  for (const key in value) if (key !== "$ref" && key !== "path") return false;
  return value.path === undefined || typeof value.path === "string";
}

function where(location: readonly (string | number)[]): string {
  return location.length === 0 ? "the top level" : `/${location.join("/")}`;
}

/** What a walk over the arguments collects; `location` is the path to the value being visited. */
interface Walk {
  readonly location: (string | number)[];
  references: ArgumentReference[] | undefined;
}

/** Visits one value; returns a problem to report, or undefined. Recursion is bounded by `MAX_ARGUMENT_DEPTH`. */
function visit(value: unknown, walk: Walk): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  if (walk.location.length >= MAX_ARGUMENT_DEPTH) {
    return `Arguments are nested more than ${MAX_ARGUMENT_DEPTH} levels deep (or contain themselves); flatten them`;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === null || typeof item !== "object") continue;
      walk.location.push(i);
      const problem = visit(item, walk);
      walk.location.pop();
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  if (isReference(record)) {
    const pointer = (record.path as string | undefined) ?? "";
    const tokens = parseJsonPointer(pointer);
    if (!tokens) return `"path" ${JSON.stringify(pointer)} at ${where(walk.location)} is not a JSON Pointer (it must start with "/")`;
    (walk.references ??= []).push({ location: [...walk.location], callId: record.$ref as string, pointer, tokens });
    return undefined;
  }
  for (const key of Object.keys(record)) {
    const nested = record[key];
    if (isPollutingKey(key, nested)) return `The key "${key}" at ${where(walk.location)} is not allowed in arguments`;
    if (nested === null || typeof nested !== "object") continue;
    walk.location.push(key);
    const problem = visit(nested, walk);
    walk.location.pop();
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Turns a call's `args` (an object, raw JSON text as a model emits it, or nothing) into an
 * object, finding every `$ref` inside and refusing keys that could pollute a prototype.
 */
export function scanArguments(raw: unknown): ScannedArguments {
  if (raw === undefined || raw === null) return { ok: true, args: {}, references: NO_REFERENCES };
  let args: unknown = raw;
  if (typeof args === "string") {
    const text = args.trim();
    if (text === "") return { ok: true, args: {}, references: NO_REFERENCES };
    try {
      args = JSON.parse(text) as unknown;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, message: `Arguments are not valid JSON: ${reason}` };
    }
  }
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    return { ok: false, message: `Arguments must be a JSON object, got ${Array.isArray(args) ? "an array" : args === null ? "null" : typeof args}` };
  }
  const walk: Walk = { location: [], references: undefined };
  let problem: string | undefined;
  try {
    problem = visit(args, walk);
  } catch (error) {
    // An object handed in by code, not parsed from text, can have getters or traps that throw.
    problem = `Arguments could not be read: ${messageOf(error)}`;
  }
  if (problem !== undefined) return { ok: false, message: problem };
  return { ok: true, args: args as Record<string, unknown>, references: walk.references ?? NO_REFERENCES };
}

export type ResolvedArguments = { ok: true; args: Record<string, unknown> } | { ok: false; message: string };

/**
 * Replaces each reference with the value its call produced, copying only the containers on
 * the way to a reference so that the caller's objects are never changed.
 */
export function resolveReferences(
  args: Record<string, unknown>,
  references: readonly ArgumentReference[],
  outputOf: (callId: string) => unknown,
): ResolvedArguments {
  const root: Record<string, unknown> = { ...args };
  const copied = new Set<object>([root]);
  for (const reference of references) {
    let lookup: PointerLookup;
    try {
      lookup = readJsonPointer(outputOf(reference.callId), reference.tokens);
    } catch (error) {
      // An output a tool made with getters or a Proxy can throw when read.
      return { ok: false, message: `the output of call "${reference.callId}" could not be read: ${messageOf(error)}` };
    }
    if (!lookup.found) {
      return {
        ok: false,
        message: `the output of call "${reference.callId}" has nothing at ${JSON.stringify(lookup.at)}` +
          (reference.pointer === lookup.at ? "" : ` (on the way to ${JSON.stringify(reference.pointer)})`),
      };
    }
    if (reference.location.length === 0) return { ok: true, args: lookup.value as Record<string, unknown> };
    let container: Record<string | number, unknown> = root;
    const last = reference.location.length - 1;
    for (let i = 0; i < last; i++) {
      const key = reference.location[i] as string | number;
      let next = container[key] as Record<string | number, unknown>;
      if (!copied.has(next)) {
        next = (Array.isArray(next) ? [...next] : { ...next }) as Record<string | number, unknown>;
        copied.add(next);
        container[key] = next;
      }
      container = next;
    }
    container[reference.location[last] as string | number] = lookup.value;
  }
  return { ok: true, args: root };
}

/** What `outputsOf` reads of a dependency. */
export interface FinishedCall {
  readonly id: string;
  readonly result?: { readonly output?: unknown } | undefined;
}

/**
 * Finds a dependency's output by id, for `resolveReferences`: by a scan among a few
 * dependencies, through a map built once among many, so that a call with thousands of
 * references resolves in time linear in them.
 */
export function outputsOf(dependencies: readonly FinishedCall[]): (id: string) => unknown {
  if (dependencies.length <= 8) return (id) => dependencies.find((dependency) => dependency.id === id)?.result?.output;
  const byId = new Map<string, FinishedCall>();
  for (const dependency of dependencies) byId.set(dependency.id, dependency);
  return (id) => byId.get(id)?.result?.output;
}
