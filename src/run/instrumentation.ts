import type { RunResult, ToolResult } from "./types.ts";

/** What an instrumentation learns about a call. */
export interface CallInfo {
  runId: string;
  callId: string;
  /** The tool's name. */
  name: string;
  /** The tool's description. */
  description: string | undefined;
  /** The validated arguments, with `$ref`s resolved (empty for a call that never got that far). */
  args: Readonly<Record<string, unknown>>;
  /** The calls this one depended on. */
  dependsOn: readonly string[];
  /** The attempt about to run (in `attempt`), or the attempts made (in `callEnd`). */
  attempt: number;
}

/**
 * Watches runs from the inside: what tracing (`volley/otel`) plugs into. Every method is
 * optional and may not throw into the run: a throw is reported once as a process warning.
 */
export interface Instrumentation {
  /** A run starts. Called synchronously in the async context of whoever started it. */
  runStart(run: { runId: string }): RunInstrumentation | undefined;
}

export interface RunInstrumentation {
  /**
   * An attempt is about to run. Call `launch` exactly once, synchronously: `execute` runs
   * inside it, so the async context active there (a tracing span, say) is the one the tool sees.
   */
  attempt?(call: CallInfo, launch: () => void): void;
  /** A call got its result; also called for calls that never ran. */
  callEnd?(call: CallInfo, result: ToolResult): void;
  /** Every call is answered. */
  runEnd?(result: RunResult): void;
}
