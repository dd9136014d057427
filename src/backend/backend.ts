import type { Tool, ToolContext } from "../tool/define-tool.ts";

/**
 * Where a ready call's attempt actually executes. The scheduler stays with the caller and
 * decides when; a backend decides where: in this thread, in a worker thread, on another machine.
 * Every backend passes the same contract suite (`backend.contract.ts`).
 */
export interface Backend {
  /**
   * Runs one attempt of `tool` with `args`: returns its output (or a promise of it), throws or
   * rejects with its failure. It must stop the attempt when `context.signal` aborts, and report
   * progress through `context.progress`.
   */
  execute(tool: Tool, args: Readonly<Record<string, unknown>>, context: ToolContext): unknown;
  /** Stops what the backend started (threads, connections). Calls still running are failed. */
  close(): Promise<void>;
}

type Execute = (args: unknown, context: ToolContext) => unknown;

/** Runs each tool's `execute` in this thread, as it is: the default, with nothing in between. */
export const inProcessBackend: Backend = {
  execute: (tool, args, context) => (tool.execute as unknown as Execute)(args, context),
  close: () => Promise.resolve(),
};
