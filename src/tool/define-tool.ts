import type { StandardSchemaV1 } from "@standard-schema/spec";
import { describeValue, invalidOption, keysOf, rejectUnknownOptions, VolleyError } from "../errors/volley-error.ts";
import { validateRetryPolicy, type RetryPolicy } from "./retry-policy.ts";
import { createInputValidator, isStandardSchema, type InputValidator, type JsonSchema } from "./input-validator.ts";

/** What a running tool receives besides its arguments. */
export interface ToolContext {
  /** Aborted when the call times out or its run is cancelled; `reason` says which. */
  readonly signal: AbortSignal;
  readonly callId: string;
  readonly runId: string;
  /** The tool's name. */
  readonly name: string;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** Reports progress as a `call-progress` event. A function of its own: `({ progress }) => …` works. */
  readonly progress: (update: ProgressUpdate) => void;
  /** `callId`, by the name the AI SDK gives it, so that a ported `execute` reads it unchanged. */
  readonly toolCallId: string;
  /** `signal`, by the name the AI SDK gives it. */
  readonly abortSignal: AbortSignal;
}

export interface ProgressUpdate {
  progress: number;
  total?: number;
  message?: string;
}

/** At most `limit` calls start in any window of `intervalMs`. */
export interface RateLimit {
  limit: number;
  intervalMs: number;
}

export interface ToolCacheOptions {
  /** How long a successful result is reused for identical calls, across runs. */
  ttlMs: number;
  /** Most results kept for this tool; the oldest go first. @default 1000 */
  maxEntries?: number;
}

/** A key a call touches: calls that write a key never overlap with any other call on it; reads share. */
export interface ResourceClaim {
  key: string;
  mode: "read" | "write";
}

/** The arguments `execute` receives for an `input` schema: a Standard Schema's output type, or a plain record. */
export type ToolArguments<Input> = Input extends StandardSchemaV1
  ? StandardSchemaV1.InferOutput<Input>
  : Record<string, unknown>;
type InferInput<Input> = ToolArguments<Input>;

export interface ToolDefinition<Input extends StandardSchemaV1 | JsonSchema | undefined = undefined, Output = unknown> {
  /** Unique name the model calls the tool by: letters, digits, `_`, `-`, `.`, up to 128 characters. */
  name: string;
  /** What the tool does, for the model. */
  description?: string;
  /** Any Standard Schema validator (zod, valibot, arktype) or a JSON Schema object. Arguments are checked before `execute` runs. */
  input?: Input;
  execute: (args: InferInput<Input>, context: ToolContext) => Output | Promise<Output>;
  /** Most calls of this tool running at once, across every run of an executor. @default Infinity */
  concurrency?: number;
  /** Most calls of this tool started per interval. @default none */
  rateLimit?: RateLimit;
  /** Time limit of one attempt. @default the executor's `timeoutMs` */
  timeoutMs?: number;
  /** Retries for retryable failures. @default the executor's `retry` */
  retry?: RetryPolicy;
  /** Reuse successful results of identical calls for `ttlMs`. Implies identical in-flight calls share one execution. @default off */
  cache?: ToolCacheOptions;
  /** Calling twice with the same arguments has the effect of calling once: identical in-flight calls share one execution, and timeouts are retryable. @default false */
  idempotent?: boolean;
  /** The keys a call touches, from its validated arguments. A plain string claims the key for writing. */
  resources?: (args: InferInput<Input>) => readonly (ResourceClaim | string)[];
  /** Calls with higher priority start first among ready calls. @default 0 */
  priority?: number;
  /**
   * A person must approve each call first (`true`), or the calls for which this function of the
   * arguments says so. A call waiting for approval holds no slot; a denied one is answered `denied`.
   * @default false
   */
  needsApproval?: boolean | ((args: InferInput<Input>) => boolean | Promise<boolean>);
  /**
   * Whether `{ "$ref": "<call id>", "path"?: … }` objects in this tool's arguments are references
   * to other calls' outputs. `false` for a tool whose arguments are documents that use `$ref`
   * themselves (JSON Schema, OpenAPI): it receives them as they are.
   * @default true
   */
  references?: boolean;
  /**
   * Run each call in a worker thread, off the event loop every other call shares. `module` is
   * where the worker loads this tool from (`import.meta.url` of the file that defines it): the
   * worker runs that module's tool of this name, sharing no closure with the caller.
   * @default none: calls run in the caller's thread
   */
  worker?: WorkerOptions;
}

/** A tool as the executor holds it. */
export interface Tool<Output = unknown> {
  readonly name: string;
  readonly description: string | undefined;
  readonly input: StandardSchemaV1 | JsonSchema | undefined;
  readonly execute: (args: never, context: ToolContext) => Output | Promise<Output>;
  readonly concurrency: number;
  readonly rateLimit: RateLimit | undefined;
  readonly timeoutMs: number | undefined;
  readonly retry: Required<RetryPolicy> | undefined;
  readonly cache: Required<ToolCacheOptions> | undefined;
  readonly idempotent: boolean;
  readonly resources: ((args: never) => readonly (ResourceClaim | string)[]) | undefined;
  readonly priority: number;
  readonly needsApproval: boolean | ((args: never) => boolean | Promise<boolean>);
  readonly references: boolean;
  /** With `module` as a URL string. */
  readonly worker: Readonly<{ module: string; transfer: boolean; memoryMb?: number; cpuTimeMs?: number }> | undefined;
  /** @internal Checks arguments against `input`. */
  readonly validateInput: InputValidator | undefined;
}

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const KNOWN_KEYS = keysOf<ToolDefinition>({
  name: true,
  description: true,
  input: true,
  execute: true,
  concurrency: true,
  rateLimit: true,
  timeoutMs: true,
  retry: true,
  cache: true,
  idempotent: true,
  resources: true,
  priority: true,
  needsApproval: true,
  references: true,
  worker: true,
});

export function isPositiveLimit(value: unknown): value is number {
  return value === Infinity || (Number.isInteger(value) && (value as number) >= 1);
}

export function isTimeout(value: unknown): value is number {
  return typeof value === "number" && value > 0 && !Number.isNaN(value);
}

export function validateRateLimit(where: string, value: unknown): RateLimit | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object") invalidOption(where, "rateLimit", "{ limit, intervalMs }", value);
  const { limit, intervalMs } = value as Partial<Record<keyof RateLimit, unknown>>;
  if (!Number.isInteger(limit) || (limit as number) < 1)
    invalidOption(where, "rateLimit.limit", "an integer from 1 and up", limit);
  if (!isTimeout(intervalMs) || intervalMs === Infinity)
    invalidOption(where, "rateLimit.intervalMs", "a finite number of milliseconds above 0", intervalMs);
  return { limit: limit as number, intervalMs };
}

/** How a tool runs in a worker thread, and within what limits. */
export interface WorkerOptions {
  /** The module that defines the tool, as a file URL or path: `import.meta.url` in that module. */
  module: string | URL;
  /** Heap limit of the worker running a call, in MB. A call over it fails `resource_exhausted` and the worker is replaced. Minimum: 8. @default Node's default */
  memoryMb?: number;
  /** CPU time one call may use, in ms (the time its thread runs code; waiting on I/O is not counted); then its thread is stopped and replaced, and the call fails `resource_exhausted`. @default none */
  cpuTimeMs?: number;
  /** Move ArrayBuffers in the arguments to the worker instead of copying them; the caller's copies become unusable. @default false */
  transfer?: boolean;
}

/** Whether a value is a tool made by `defineTool`, from this copy of Volley or another. */
export function isTool(value: unknown): value is Tool {
  const tool = value as Partial<Tool> | null;
  return (
    tool !== null &&
    typeof tool === "object" &&
    typeof tool.name === "string" &&
    typeof tool.execute === "function" &&
    "validateInput" in tool
  );
}

/** The tools a module exports, alone or in arrays (the default export included). */
export function exportedTools(exports: Readonly<Record<string, unknown>>): Tool[] {
  const found = new Set<Tool>();
  for (const value of Object.values(exports)) {
    if (isTool(value)) found.add(value);
    else if (Array.isArray(value)) for (const item of value as unknown[]) if (isTool(item)) found.add(item);
  }
  return [...found];
}

/** Declares a tool. Throws a `VolleyError` naming the bad option when the definition is wrong. */
export function defineTool<Input extends StandardSchemaV1 | JsonSchema | undefined = undefined, Output = unknown>(
  definition: ToolDefinition<Input, Output>,
): Tool<Output> {
  if (definition === null || typeof definition !== "object") {
    throw new VolleyError(
      "invalid_tool",
      `defineTool: expected a tool definition object, got ${describeValue(definition)}`,
    );
  }
  const where = typeof definition.name === "string" ? `defineTool("${definition.name}")` : "defineTool";
  rejectUnknownOptions(where, definition, KNOWN_KEYS);
  const {
    name,
    description,
    input,
    execute,
    concurrency = Infinity,
    rateLimit,
    timeoutMs,
    retry,
    cache,
    idempotent = false,
    resources,
    priority = 0,
    needsApproval = false,
    references = true,
    worker,
  } = definition;

  if (typeof name !== "string" || !TOOL_NAME.test(name))
    invalidOption(where, "name", "1 to 128 letters, digits, _, - or .", name);
  if (description !== undefined && typeof description !== "string")
    invalidOption(where, "description", "a string", description);
  if (typeof execute !== "function") invalidOption(where, "execute", "a function", execute);
  if (
    input !== undefined &&
    !isStandardSchema(input) &&
    (input === null || typeof input !== "object" || Array.isArray(input))
  ) {
    invalidOption(where, "input", "a Standard Schema (zod, valibot, arktype) or a JSON Schema object", input);
  }
  if (!isPositiveLimit(concurrency))
    invalidOption(where, "concurrency", "an integer from 1 and up, or Infinity", concurrency);
  if (timeoutMs !== undefined && !isTimeout(timeoutMs))
    invalidOption(where, "timeoutMs", "a number of milliseconds above 0", timeoutMs);
  if (typeof idempotent !== "boolean") invalidOption(where, "idempotent", "a boolean", idempotent);
  if (resources !== undefined && typeof resources !== "function")
    invalidOption(where, "resources", "a function of the arguments", resources);
  if (typeof priority !== "number" || !Number.isFinite(priority))
    invalidOption(where, "priority", "a finite number", priority);
  if (typeof needsApproval !== "boolean" && typeof needsApproval !== "function")
    invalidOption(where, "needsApproval", "a boolean, or a function of the arguments", needsApproval);
  if (typeof references !== "boolean") invalidOption(where, "references", "a boolean", references);
  let workerOptions: Tool["worker"];
  if (worker !== undefined) {
    if (worker === null || typeof worker !== "object")
      invalidOption(where, "worker", "{ module: import.meta.url, memoryMb?, cpuTimeMs?, transfer? }", worker);
    const { module, memoryMb, cpuTimeMs, transfer = false } = worker;
    if (!(module instanceof URL) && (typeof module !== "string" || module === ""))
      invalidOption(
        where,
        "worker.module",
        "the URL or path of the module that defines the tool (import.meta.url)",
        module,
      );
    if (memoryMb !== undefined && !(Number.isInteger(memoryMb) && memoryMb >= 8))
      invalidOption(where, "worker.memoryMb", "an integer number of MB from 8 up", memoryMb);
    if (cpuTimeMs !== undefined && !isTimeout(cpuTimeMs))
      invalidOption(where, "worker.cpuTimeMs", "a number of milliseconds above 0", cpuTimeMs);
    if (typeof transfer !== "boolean") invalidOption(where, "worker.transfer", "a boolean", transfer);
    workerOptions = {
      module: module instanceof URL ? module.href : module,
      transfer,
      ...(memoryMb !== undefined ? { memoryMb } : {}),
      ...(cpuTimeMs !== undefined ? { cpuTimeMs } : {}),
    };
  }
  let cacheOptions: Required<ToolCacheOptions> | undefined;
  if (cache !== undefined) {
    if (cache === null || typeof cache !== "object") invalidOption(where, "cache", "{ ttlMs, maxEntries? }", cache);
    if (!isTimeout(cache.ttlMs)) invalidOption(where, "cache.ttlMs", "a number of milliseconds above 0", cache.ttlMs);
    const maxEntries = cache.maxEntries ?? 1000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      invalidOption(where, "cache.maxEntries", "an integer from 1 and up", maxEntries);
    cacheOptions = { ttlMs: cache.ttlMs, maxEntries };
  }

  return Object.freeze({
    name,
    description,
    input,
    execute: execute,
    concurrency,
    rateLimit: validateRateLimit(where, rateLimit),
    timeoutMs,
    retry: retry === undefined ? undefined : validateRetryPolicy(where, retry),
    cache: cacheOptions,
    idempotent,
    resources: resources,
    priority,
    needsApproval,
    references,
    worker: workerOptions,
    validateInput: createInputValidator(input),
  });
}

/** The options of a tool that can be set from outside its definition: limits, retries, caching, approval, locks. */
export type ToolOptions = Pick<
  ToolDefinition,
  "concurrency" | "rateLimit" | "timeoutMs" | "retry" | "cache" | "idempotent" | "priority" | "references"
> & {
  /** A person approves each call first. A rule over the arguments can only be given in code. */
  needsApproval?: boolean;
  /** The resources each call claims, from its arguments (in code only: a function). */
  resources?: (args: Record<string, unknown>) => readonly (ResourceClaim | string)[];
};

export const TOOL_OPTION_KEYS = keysOf<ToolOptions>({
  concurrency: true,
  rateLimit: true,
  timeoutMs: true,
  retry: true,
  cache: true,
  idempotent: true,
  priority: true,
  needsApproval: true,
  references: true,
  resources: true,
});

/**
 * The tool with some of its options set anew (a config tuning limits without editing the tool's
 * code), checked as `defineTool` checks them. The tool itself is left as it is.
 */
export function withToolOptions(tool: Tool, options: ToolOptions): Tool {
  const where = `withToolOptions("${tool.name}")`;
  if (options === null || typeof options !== "object")
    invalidOption(where, "options", "an object of tool options", options);
  rejectUnknownOptions(where, options, TOOL_OPTION_KEYS);
  // A Tool keeps its callbacks typed `(args: never)`: the definition they came from checked them against its input.
  const definition = {
    name: tool.name,
    execute: tool.execute,
    concurrency: tool.concurrency,
    idempotent: tool.idempotent,
    priority: tool.priority,
    needsApproval: tool.needsApproval,
    references: tool.references,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    ...(tool.input === undefined ? {} : { input: tool.input }),
    ...(tool.rateLimit === undefined ? {} : { rateLimit: tool.rateLimit }),
    ...(tool.timeoutMs === undefined ? {} : { timeoutMs: tool.timeoutMs }),
    ...(tool.retry === undefined ? {} : { retry: tool.retry }),
    ...(tool.cache === undefined ? {} : { cache: tool.cache }),
    ...(tool.resources === undefined ? {} : { resources: tool.resources }),
    ...(tool.worker === undefined ? {} : { worker: tool.worker }),
  } as ToolDefinition<StandardSchemaV1 | JsonSchema | undefined>;
  const { resources, ...rest } = options;
  return defineTool({
    ...definition,
    ...rest,
    // Arguments reach it validated by the tool's input, as an object.
    ...(resources === undefined
      ? {}
      : { resources: resources as (args: unknown) => readonly (ResourceClaim | string)[] }),
  });
}
