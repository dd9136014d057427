import { jsonSchema, tool, type ToolSet } from "ai";
import { toolJsonSchema } from "../adapters/tool-json-schema.ts";
import { invalidOption } from "../errors/volley-error.ts";
import type { Executor, LiveRun } from "../executor/create-executor.ts";
import type { RunEvent, ToolCall } from "../run/types.ts";

export interface AiSdkToolsOptions {
  /** Only these of the executor's tools. @default all of them */
  only?: readonly string[];
}

interface StepRun {
  run: LiveRun;
  waiting: Map<string, { resolve: (output: unknown) => void; reject: (error: Error) => void }>;
}

/**
 * The calls of one model step reach `execute` together; gathering them into one Volley run
 * gives the step one set of figures (speedup, critical path) and one place to cancel.
 */
class StepBatcher {
  readonly #executor: Executor;
  #current: StepRun | undefined;

  constructor(executor: Executor) {
    this.#executor = executor;
  }

  call(call: ToolCall & { id: string }, signal: AbortSignal | undefined): Promise<unknown> {
    const step = this.#current ?? this.#open();
    const answered = new Promise<unknown>((resolve, reject) => step.waiting.set(call.id, { resolve, reject }));
    step.run.add(call);
    if (signal !== undefined) {
      if (signal.aborted) step.run.cancel(signal.reason);
      else signal.addEventListener("abort", () => step.run.cancel(signal.reason), { once: true });
    }
    return answered;
  }

  #open(): StepRun {
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
    const step: StepRun = { run: this.#executor.start({ onEvent }), waiting };
    this.#current = step;
    // Calls of the same step arrive in the same turn of the event loop; the next turn closes it.
    setImmediate(() => {
      if (this.#current === step) this.#current = undefined;
      step.run.end();
    });
    return step;
  }
}

/**
 * An AI SDK tool set whose executions go through a Volley executor, so that an existing
 * `generateText` / `streamText` loop gains Volley's limits, retries, caching, history and
 * tracing with no other change: `generateText({ model, tools: aiSdkTools(executor), ... })`.
 */
export function aiSdkTools(executor: Executor, options: AiSdkToolsOptions = {}): ToolSet {
  if (executor === null || typeof executor !== "object" || typeof executor.start !== "function") invalidOption("aiSdkTools", "executor", "an executor made by createExecutor()", executor);
  if (options === null || typeof options !== "object") invalidOption("aiSdkTools", "options", "{ only? }", options);
  const { only } = options;
  if (only !== undefined && (!Array.isArray(only) || !only.every((name) => executor.tools.some((candidate) => candidate.name === name)))) {
    invalidOption("aiSdkTools", "only", `names of the executor's tools (${executor.tools.map((candidate) => candidate.name).join(", ")})`, only);
  }
  const batcher = new StepBatcher(executor);
  const chosen = executor.tools.filter((candidate) => only === undefined || only.includes(candidate.name));
  return Object.fromEntries(
    chosen.map((volleyTool) => [
      volleyTool.name,
      tool({
        ...(volleyTool.description ? { description: volleyTool.description } : {}),
        inputSchema: jsonSchema<Record<string, unknown>>(toolJsonSchema(volleyTool)),
        execute: (input: Record<string, unknown>, { toolCallId, abortSignal }) => batcher.call({ id: toolCallId, name: volleyTool.name, args: input }, abortSignal),
      }),
    ]),
  );
}
