import { closestName } from "../shared/closest-name.ts";

/**
 * Codes for misuse of Volley's API. Failures of tool calls are never thrown: they are
 * answered as results (see `CallErrorType`). Identify errors by `code`, not `instanceof`,
 * because they may cross process boundaries.
 */
export type VolleyErrorCode =
  | "invalid_option"
  | "invalid_tool"
  | "invalid_call_list"
  | "run_closed"
  | "unknown_tool"
  | "store_version"
  | "store_unreadable"
  | "unsupported_node"
  | "conversation_busy";

export class VolleyError extends Error {
  override readonly name = "VolleyError";
  readonly code: VolleyErrorCode;

  constructor(code: VolleyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Describes a value for an error message: `0 (number)`, `"fast" (string)`, `null`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case "string":
      return `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} (string)`;
    case "number":
    case "bigint":
    case "boolean":
      return `${String(value)} (${typeof value})`;
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    default:
      return "an object";
  }
}

/** Throws the error p-queue made familiar: what was expected, and what arrived. */
export function invalidOption(where: string, name: string, expected: string, got: unknown): never {
  throw new VolleyError(
    "invalid_option",
    `${where}: expected \`${name}\` to be ${expected}, got ${describeValue(got)}`,
  );
}

/** What other frameworks call what Volley names otherwise, so that a ported key gets the right did-you-mean. */
const FAMILIAR_NAMES: Partial<Record<string, string>> = {
  inputSchema: "input",
  parameters: "input",
  schema: "input",
  func: "execute",
  handler: "execute",
};

/**
 * Words for a key that is not one of `known`, naming the one it most likely meant:
 * "unknown option `concurency`; did you mean `concurrency`?". `noun` is what the keys are called.
 */
export function unknownKeyMessage(key: string, known: Iterable<string>, noun = "option"): string {
  const names = [...known];
  const familiar = FAMILIAR_NAMES[key];
  const meant = familiar !== undefined && names.includes(familiar) ? familiar : closestName(key, names);
  return meant === undefined
    ? `unknown ${noun} \`${key}\`; the ${noun}s are ${names.join(", ")}`
    : `unknown ${noun} \`${key}\`; did you mean \`${meant}\`?`;
}

/** The keys of every member of a union, not only those they share. */
type KeysOfEach<T> = T extends unknown ? keyof T : never;

/**
 * The keys of an options type, each listed once as `key: true`: the compiler refuses a list
 * with a key missing or one too many, so a check of unknown keys can't drift from the type.
 */
export function keysOf<T extends object>(keys: { readonly [K in KeysOfEach<T>]-?: true }): ReadonlySet<string> {
  return new Set(Object.keys(keys));
}

/** Throws an `invalid_option` error for the first key of `given` that is not one of `known`. */
export function rejectUnknownOptions(where: string, given: object, known: ReadonlySet<string>): void {
  for (const key of Object.keys(given)) {
    if (!known.has(key)) throw new VolleyError("invalid_option", `${where}: ${unknownKeyMessage(key, known)}`);
  }
}
