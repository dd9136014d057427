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

/**
 * Watches an agent's turns from the inside (`createAgent({ instrumentation })`): what tracing
 * plugs into, so that a turn, each model call in it and the runs of its steps form one trace.
 * Every method may not throw into the turn: a throw is reported once as a process warning.
 */
export interface AgentInstrumentation {
  /** A turn starts, in the async context of whoever asked. */
  turnStart(turn: {
    /** The conversation, when the turn is part of one. */
    conversationId: string | undefined;
    /** The model's name, as the model gives it. */
    model: string | undefined;
    mode: "tools" | "plan";
  }): TurnInstrumentation | undefined;
}

export interface TurnInstrumentation {
  /** Runs `work` with the turn's context active: the runs it starts, and their tools' spans, nest beneath the turn. */
  within<T>(work: () => T): T;
  /** A request to the model starts. */
  modelCall?(call: { model: string | undefined; step: number }): ModelCallInstrumentation | undefined;
  /** The turn ended: with its answer, or with the error it failed with. */
  turnEnd?(outcome: {
    finish: "answer" | "max-steps" | "timeout" | undefined;
    usage: { inputTokens: number; outputTokens: number };
    steps: number;
    error?: unknown;
  }): void;
}

export interface ModelCallInstrumentation {
  /** The model's stream ended, or failed with `error`. */
  end(outcome: {
    finishReason: string | undefined;
    usage: { inputTokens: number; outputTokens: number } | undefined;
    /** The model that answered, when the provider says. */
    responseModel: string | undefined;
    error?: unknown;
  }): void;
}
