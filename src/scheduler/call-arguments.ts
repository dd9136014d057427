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

/**
 * The rule for when an object is a reference to another call's output: its only keys are `$ref`
 * (a string) and, optionally, `path` (a string), and `$ref` is no document reference. A `$ref`
 * with a `#` or a `://` in it is one (JSON Schema's `#/definitions/user`, OpenAPI's
 * `common.yaml#/Pet`, a URL): call ids have neither, so such objects are always data.
 */
function isReference(value: Record<string, unknown>): boolean {
  const target = value.$ref;
  if (typeof target !== "string" || target.includes("#") || target.includes("://")) return false;
  for (const key in value) if (key !== "$ref" && key !== "path") return false;
  return value.path === undefined || typeof value.path === "string";
}

function describeKind(value: unknown): string {
  return Array.isArray(value) ? "an array" : value === null ? "null" : typeof value;
}

/** `{ "$literal": value }`: `value` as it is, references included, for a call that uses references elsewhere. */
function isLiteral(value: Record<string, unknown>): boolean {
  if (!Object.hasOwn(value, "$literal")) return false;
  for (const key in value) if (key !== "$literal") return false;
  return true;
}

function where(location: readonly (string | number)[]): string {
  return location.length === 0 ? "the top level" : `/${location.join("/")}`;
}

/** What a walk over the arguments collects; `location` is the path to the value being visited. */
interface Walk {
  readonly location: (string | number)[];
  references: ArgumentReference[] | undefined;
  /** Where `{ "$literal": … }` wrappers are, to be unwrapped once the walk is done. */
  literals: (string | number)[][] | undefined;
  /** Whether references are read here: not in a tool that takes documents, nor inside a literal. */
  readsReferences: boolean;
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
  if (walk.readsReferences && isLiteral(record)) {
    (walk.literals ??= []).push([...walk.location]);
    // Still checked for depth and polluting keys; only its references are left alone.
    walk.readsReferences = false;
    walk.location.push("$literal");
    const problem = visit(record.$literal, walk);
    walk.location.pop();
    walk.readsReferences = true;
    return problem;
  }
  if (walk.readsReferences && isReference(record)) {
    const pointer = (record.path as string | undefined) ?? "";
    const tokens = parseJsonPointer(pointer);
    if (!tokens)
      return `"path" ${JSON.stringify(pointer)} at ${where(walk.location)} is not a JSON Pointer (it must start with "/")`;
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

export interface ScanOptions {
  /** Read `{ "$ref": … }` objects as references to other calls' outputs (see `isReference`). `false`: the tool takes them literally. @default true */
  references?: boolean;
}

/**
 * Turns a call's `args` (an object, raw JSON text as a model emits it, or nothing) into an
 * object, finding every `$ref` inside, unwrapping `{ "$literal": … }`, and refusing keys that
 * could pollute a prototype.
 */
export function scanArguments(raw: unknown, options?: ScanOptions): ScannedArguments {
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
  if (args === null || typeof args !== "object" || Array.isArray(args))
    return { ok: false, message: `Arguments must be a JSON object, got ${describeKind(args)}` };
  const walk: Walk = {
    location: [],
    references: undefined,
    literals: undefined,
    readsReferences: options?.references !== false,
  };
  let problem: string | undefined;
  try {
    problem = visit(args, walk);
  } catch (error) {
    // An object handed in by code, not parsed from text, can have getters or traps that throw.
    problem = `Arguments could not be read: ${messageOf(error)}`;
  }
  if (problem !== undefined) return { ok: false, message: problem };
  const scanned =
    walk.literals === undefined
      ? (args as Record<string, unknown>)
      : unwrapLiterals(args as Record<string, unknown>, walk.literals);
  if (scanned === null || typeof scanned !== "object" || Array.isArray(scanned))
    return { ok: false, message: `Arguments must be a JSON object, got ${describeKind(scanned)} in "$literal"` };
  return { ok: true, args: scanned, references: walk.references ?? NO_REFERENCES };
}

/** Puts each literal's value where its wrapper was, copying the containers on the way, never changing the caller's. */
function unwrapLiterals(
  args: Record<string, unknown>,
  literals: readonly (readonly (string | number)[])[],
): Record<string, unknown> {
  if (literals.some((location) => location.length === 0))
    return (args as { $literal: Record<string, unknown> }).$literal;
  const copy = new CopyOnWrite(args);
  for (const location of literals) {
    const container = copy.containerOf(location);
    const last = location[location.length - 1] as string | number;
    container[last] = (container[last] as { $literal: unknown }).$literal;
  }
  return copy.root;
}

/** A copy of arguments that copies only the containers on the way to what is replaced, so that the caller's objects are never changed. */
class CopyOnWrite {
  readonly root: Record<string, unknown>;
  readonly #copied: Set<object>;

  constructor(args: Record<string, unknown>) {
    this.root = { ...args };
    this.#copied = new Set<object>([this.root]);
  }

  /** The container (copied, if it was not) that holds the value at `location`, a non-empty path. */
  containerOf(location: readonly (string | number)[]): Record<string | number, unknown> {
    let container: Record<string | number, unknown> = this.root;
    for (let i = 0; i < location.length - 1; i++) {
      const key = location[i] as string | number;
      let next = container[key] as Record<string | number, unknown>;
      if (!this.#copied.has(next)) {
        next = (Array.isArray(next) ? [...next] : { ...next }) as Record<string | number, unknown>;
        this.#copied.add(next);
        container[key] = next;
      }
      container = next;
    }
    return container;
  }
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
  const copy = new CopyOnWrite(args);
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
        message:
          `the output of call "${reference.callId}" has nothing at ${JSON.stringify(lookup.at)}` +
          (reference.pointer === lookup.at ? "" : ` (on the way to ${JSON.stringify(reference.pointer)})`),
      };
    }
    if (reference.location.length === 0) return { ok: true, args: lookup.value as Record<string, unknown> };
    copy.containerOf(reference.location)[reference.location.at(-1) as string | number] = lookup.value;
  }
  return { ok: true, args: copy.root };
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
