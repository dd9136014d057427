import type { AsyncLocalStorage } from "node:async_hooks";
import { vi } from "vitest";
import {
  createExecutor,
  defineTool,
  type Clock,
  type ExecutorOptions,
  type RunEvent,
  type Tool,
  type ToolContext,
  type ToolDefinition,
} from "../index.ts";
import { deferred, type Deferred } from "../testing/index.ts";

/** Lets every promise callback queued so far run, without touching timers. */
export async function microtasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** Fake timers and a clock that reads them, so that every duration is exact. */
export function useFakeTime(): Clock {
  vi.useFakeTimers({ now: 1_000_000 });
  return { now: () => Date.now() };
}

/** A tool whose every call waits until the test settles it, recording what it was given. */
export interface ControlledTool {
  tool: Tool;
  /** Calls started so far, in order, each with its deferred and context. */
  started: { args: Record<string, unknown>; context: ToolContext; store: unknown; done: Deferred<unknown> }[];
  /** Settles the running call with this id. */
  finish(callId: string, output?: unknown): void;
  fail(callId: string, error: unknown): void;
  running(): string[];
}

/** `storage`, when given, is read as each call starts, to see which async context it ran in. */
export function controlledTool(
  name: string,
  options: Partial<ToolDefinition> = {},
  storage?: AsyncLocalStorage<unknown>,
): ControlledTool {
  const started: ControlledTool["started"] = [];
  const find = (callId: string) => {
    const entry = started.findLast((item) => item.context.callId === callId);
    if (!entry) throw new Error(`${name}: call ${callId} has not started`);
    return entry;
  };
  const definition: ToolDefinition = {
    ...options,
    name,
    execute: (args, context) => {
      const done = deferred<unknown>();
      started.push({ args, context, store: storage?.getStore(), done });
      return done.promise;
    },
  };
  const tool = defineTool(definition);
  return {
    tool,
    started,
    finish: (callId, output = `${name}:${callId}`) => find(callId).done.resolve(output),
    fail: (callId, error) => find(callId).done.reject(error),
    running: () => started.filter((item) => !item.done.settled).map((item) => item.context.callId),
  };
}

/** An executor whose events are collected in order. */
export function recordingExecutor(options: ExecutorOptions): {
  executor: ReturnType<typeof createExecutor>;
  events: RunEvent[];
} {
  const events: RunEvent[] = [];
  const executor = createExecutor({ ...options, onEvent: (event) => events.push(event) });
  return { executor, events };
}

export function startOrder(events: readonly RunEvent[]): string[] {
  return events.filter((event) => event.type === "call-start").map((event) => (event as { callId: string }).callId);
}
