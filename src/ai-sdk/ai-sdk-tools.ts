import { jsonSchema, tool, type InferToolInput, type InferToolOutput, type Tool as AiSdkTool, type ToolSet } from "ai";
import { toolJsonSchema } from "../adapters/tool-json-schema.ts";
import { invalidOption } from "../errors/volley-error.ts";
import type { Executor, LiveRun } from "../executor/executor-types.ts";
import type { RunEvent, ToolCall } from "../run/types.ts";

export interface AiSdkToolsOptions {
  /** Only these of the executor's tools. @default all of them */
  only?: readonly string[];
}

/** A tool set with the names, inputs and outputs of `TOOLS`, whose calls Volley runs. */
export type ToolSetLike<TOOLS extends ToolSet> = {
  [NAME in keyof TOOLS]: TOOLS[NAME] extends AiSdkTool
    ? AiSdkTool<InferToolInput<TOOLS[NAME]>, InferToolOutput<TOOLS[NAME]>>
    : never;
};

interface StepRun {
  run: LiveRun;
  /** The ids of its calls: a second call with one of them belongs to another step. */
  ids: Set<string>;
  waiting: Map<string, { resolve: (output: unknown) => void; reject: (error: Error) => void }>;
}

/**
 * The calls of one model step reach `execute` together; gathering them into one Volley run
 * gives the step one set of figures (speedup, critical path) and one place to cancel. Calls of
 * other steps may arrive in the same turn of the event loop (two conversations at once): a step
 * is told apart by the abort signal its calls carry, and a call whose id its step already has
 * starts a run of its own, so that calls of different steps never collide.
 */
class StepBatcher {
  readonly #executor: Executor;
  /** The runs opened in this turn of the event loop, by the signal of their calls. */
  readonly #open = new Map<AbortSignal | undefined, StepRun[]>();

  constructor(executor: Executor) {
    this.#executor = executor;
  }

  call(call: ToolCall & { id: string }, signal: AbortSignal | undefined): Promise<unknown> {
    const step = this.#stepFor(call.id, signal);
    step.ids.add(call.id);
    const answered = new Promise<unknown>((resolve, reject) => step.waiting.set(call.id, { resolve, reject }));
    step.run.add(call);
    return answered;
  }

  #stepFor(id: string, signal: AbortSignal | undefined): StepRun {
    let steps = this.#open.get(signal);
    const open = steps?.find((step) => !step.ids.has(id));
    if (open !== undefined) return open;
    if (this.#open.size === 0) {
      // Calls of the same step arrive in the same turn of the event loop; the next turn closes them.
      setImmediate(() => {
        for (const stepsOfSignal of this.#open.values()) for (const step of stepsOfSignal) step.run.end();
        this.#open.clear();
      });
    }
    const step = this.#start(signal);
    if (steps === undefined) this.#open.set(signal, (steps = []));
    steps.push(step);
    return step;
  }

  #start(signal: AbortSignal | undefined): StepRun {
    const waiting: StepRun["waiting"] = new Map();
    const onEvent = (event: RunEvent): void => {
      if (event.type !== "call-end") return;
      const caller = waiting.get(event.callId);
      if (caller === undefined) return;
      waiting.delete(event.callId);
      // A failure is thrown, so the AI SDK hands the model a tool error with Volley's words.
      if (event.result.ok) caller.resolve(event.result.output);
      else caller.reject(new Error(event.result.error?.message ?? "The tool call failed."));
    };
    return { run: this.#executor.start({ onEvent, ...(signal ? { signal } : {}) }), ids: new Set(), waiting };
  }
}

/**
 * An AI SDK tool set whose executions go through a Volley executor, so that an existing
 * `generateText` / `streamText` loop gains Volley's limits, retries, caching, history and
 * tracing with no other change: `generateText({ model, tools: aiSdkTools(executor), ... })`.
 */
export function aiSdkTools<TOOLS extends ToolSet>(
  executor: Executor,
  options: AiSdkToolsOptions & {
    /**
     * The AI SDK tool set these tools came from (as `fromAiSdkTools` made them): the result has
     * its names and types, so that the AI SDK's typed tool calls and results still type-check.
     */
    like: TOOLS;
  },
): ToolSetLike<TOOLS>;
export function aiSdkTools(executor: Executor, options?: AiSdkToolsOptions): ToolSet;
export function aiSdkTools(executor: Executor, options: AiSdkToolsOptions & { like?: ToolSet } = {}): ToolSet {
  if (executor === null || typeof executor !== "object" || typeof executor.start !== "function")
    invalidOption("aiSdkTools", "executor", "an executor made by createExecutor()", executor);
  if (options === null || typeof options !== "object")
    invalidOption("aiSdkTools", "options", "{ only?, like? }", options);
  const { like } = options;
  if (like !== undefined && (like === null || typeof like !== "object"))
    invalidOption("aiSdkTools", "like", "the AI SDK tool set the executor's tools came from", like);
  const only = like === undefined ? options.only : Object.keys(like);
  if (
    only !== undefined &&
    (!Array.isArray(only) || !only.every((name) => executor.tools.some((candidate) => candidate.name === name)))
  ) {
    invalidOption(
      "aiSdkTools",
      like === undefined ? "only" : "like",
      `${like === undefined ? "names of" : "a tool set named after"} the executor's tools (${executor.tools.map((candidate) => candidate.name).join(", ")})`,
      like === undefined ? only : Object.keys(like),
    );
  }
  const batcher = new StepBatcher(executor);
  const chosen = executor.tools.filter((candidate) => only === undefined || only.includes(candidate.name));
  return Object.fromEntries(
    chosen.map((volleyTool) => [
      volleyTool.name,
      tool({
        ...(volleyTool.description ? { description: volleyTool.description } : {}),
        inputSchema: jsonSchema<Record<string, unknown>>(toolJsonSchema(volleyTool)),
        execute: (input: Record<string, unknown>, { toolCallId, abortSignal }) =>
          batcher.call({ id: toolCallId, name: volleyTool.name, args: input }, abortSignal),
      }),
    ]),
  );
}
