import type { StandardSchemaV1 } from "@standard-schema/spec";
import { invalidOption } from "../errors/volley-error.ts";
import { ToolError } from "../errors/tool-error.ts";
import {
  defineTool,
  type Tool,
  type ToolArguments,
  type ToolContext,
  type ToolDefinition,
} from "../tool/define-tool.ts";
import type { JsonSchema } from "../tool/input-validator.ts";

/** A fake tool's options: a tool definition without `execute`, and what to fake instead. Its callbacks get arguments typed from `input`, as `execute` does. */
export interface FakeToolOptions<Input extends StandardSchemaV1 | JsonSchema | undefined = undefined> extends Omit<
  ToolDefinition<Input>,
  "execute"
> {
  /** How long each attempt takes, fixed or per call. Runs on `setTimeout`, so fake timers drive it. @default 0 */
  latencyMs?: number | ((args: ToolArguments<Input>, context: ToolContext) => number);
  /** What a successful attempt returns. @default `{ tool: name, args }` */
  output?: (args: ToolArguments<Input>, context: ToolContext) => unknown;
  /** Makes an attempt fail: return an error (or a message) to throw, or undefined to succeed. */
  fail?: (args: ToolArguments<Input>, context: ToolContext) => Error | string | undefined;
  /** Keep running after the call is aborted, as a careless tool does. @default false */
  ignoreAbort?: boolean;
}

/**
 * A tool with set latency and failures, for testing agents without real services. Failures
 * given as a string become retryable `ToolError`s.
 */
export function fakeTool<Input extends StandardSchemaV1 | JsonSchema | undefined = undefined>(
  options: FakeToolOptions<Input>,
): Tool {
  if (options === null || typeof options !== "object")
    invalidOption("fakeTool", "options", "an options object", options);
  const { latencyMs = 0, output, fail, ignoreAbort = false, ...definition } = options;
  if (typeof latencyMs !== "function" && !(typeof latencyMs === "number" && latencyMs >= 0))
    invalidOption("fakeTool", "latencyMs", "a number from 0 and up, or a function", latencyMs);
  return defineTool({
    ...definition,
    execute: async (args: ToolArguments<Input>, context: ToolContext) => {
      const ms = typeof latencyMs === "function" ? latencyMs(args, context) : latencyMs;
      await wait(ms, ignoreAbort ? undefined : context.signal);
      const failure = fail?.(args, context);
      if (failure !== undefined)
        throw typeof failure === "string" ? new ToolError(failure, { retryable: true }) : failure;
      return output ? output(args, context) : { tool: definition.name, args };
    },
  });
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
