import { keysOf } from "../errors/volley-error.ts";
import type { Executor, ExecutorOptions } from "../executor/executor-types.ts";
import type { AgentInstrumentation } from "../run/instrumentation.ts";
import type { RunResult, ToolResult } from "../run/types.ts";
import type { RunStore } from "../store/run-store.ts";
import type { Tool } from "../tool/define-tool.ts";
import type { ChatMessage, ChatModel, TokenUsage } from "./chat-model.ts";
import type { StepFigures } from "./step-figures.ts";

export interface AgentOptions {
  model: ChatModel;
  /** The tools, run by an executor made for the agent; or give `executor` instead. */
  tools?: readonly Tool[];
  /** An executor of your own, with its limits, history and tracing. */
  executor?: Executor;
  /** Most tool calls of a step running at once (with `executor`, within its own limit). Minimum: 1. @default 16 */
  maxConcurrency?: number;
  /** `false` runs a step's calls one at a time, in the order the model wrote them. @default true */
  parallel?: boolean;
  /** The system prompt. @default none */
  system?: string;
  /** Most model steps in one `run`. @default 10 */
  maxSteps?: number;
  /** Keeps conversations (by `conversationId`) across runs and processes. @default none */
  store?: RunStore;
  /**
   * Most messages of a conversation's earlier turns sent to the model, the newest: long
   * conversations stay within its context. The window starts at a user's message, never between
   * a tool call and its result. The current turn is always sent whole. Minimum: 1. @default all
   */
  maxHistoryMessages?: number;
  /**
   * Most tokens of a conversation's earlier turns sent to the model, the newest, as `countTokens`
   * counts them; with `maxHistoryMessages`, the tighter of the two holds. Minimum: 1. @default all
   */
  maxHistoryTokens?: number;
  /** Counts a message's tokens for `maxHistoryTokens`. @default its JSON's length over four, a rough estimate */
  countTokens?: (message: ChatMessage) => number;
  /**
   * Time limit of one `run`, model and tools together. When it runs out, the run answers with
   * what was done (`finish: "timeout"`): the steps so far, the text the model had written, and
   * the calls still running answered `timeout`, as a run's own time limit answers them.
   * @default none
   */
  timeoutMs?: number;
  /** `"tools"`: the model calls tools turn by turn. `"plan"`: it writes a whole plan of tasks up front, which run as soon as their inputs exist, and a joiner answers. @default "tools" */
  mode?: "tools" | "plan";
  /**
   * In tools mode: tell the model (after the system prompt) that a call may take an earlier call
   * of the same message's output, `{ "$ref": n }` by its position, and run such calls as soon as
   * that output exists: a chain the model would ask for over two steps takes one. @default false
   */
  positionalReferences?: boolean;
  /** In plan mode, how many times the joiner may ask for a new plan. @default 1 */
  maxReplans?: number;
  /** Decides tool calls that need approval, as `createExecutor({ approve })` does; otherwise they wait for `approve()` / `deny()` from the stream's `tool-approval-start`. @default none */
  approve?: ExecutorOptions["approve"];
  /**
   * Watches each turn: `createTracing()` from `volley/otel` makes an `invoke_agent` span per
   * turn and a `chat {model}` span per model call, with the step runs' spans beneath (give the
   * executor the same tracing). @default none
   */
  instrumentation?: AgentInstrumentation;
}

export interface AgentRunOptions {
  /** Continues this conversation from the store (and adds to it). */
  conversationId?: string;
  /** Aborting it stops the model and the tools. */
  signal?: AbortSignal;
}

export interface AgentStep {
  /** What the model wrote in this step. */
  text: string;
  /** The tool run of this step, when the model asked for tools. */
  run: RunResult | undefined;
  usage: TokenUsage | undefined;
  durationMs: number;
  /** What running the step's tools in parallel, and starting them as the model wrote, bought; undefined without tool calls. */
  figures: StepFigures | undefined;
}

export interface AgentResult {
  /** The model's final text. */
  answer: string;
  steps: AgentStep[];
  usage: TokenUsage;
  durationMs: number;
  /**
   * `answer`: the model answered. `max-steps`: the step limit ended the run before it did.
   * `timeout`: the agent's `timeoutMs` ran out; `answer` is what the model had written by then.
   */
  finish: "answer" | "max-steps" | "timeout";
}

export type AgentEvent =
  | { type: "text-delta"; step: number; text: string }
  /** `args`: as the model wrote them (parsed JSON, or the text when it is not JSON). */
  | { type: "tool-call-start"; step: number; callId: string; name: string; args: unknown; attempt: number }
  /** Plan mode: a task of the plan, as its line ends (it joins the step's run at once), or a line that can't run. */
  | {
      type: "plan-task";
      step: number;
      callId: string;
      name: string;
      args: unknown;
    }
  | { type: "plan-problem"; step: number; line: string; reason: string }
  | { type: "tool-call-end"; step: number; result: ToolResult }
  /** A tool call waits for a person: call `approve()` or `deny(reason)` (the model reads the reason). */
  | {
      type: "tool-approval-start";
      step: number;
      callId: string;
      name: string;
      args: Readonly<Record<string, unknown>>;
      approve: (reason?: string) => Promise<boolean>;
      deny: (reason?: string) => Promise<boolean>;
    }
  | { type: "tool-approval-end"; step: number; callId: string; name: string; approved: boolean; reason?: string }
  | { type: "step-end"; step: AgentStep }
  | { type: "answer"; result: AgentResult };

export interface Agent {
  /** Runs the loop to the model's answer. */
  run(input: string, options?: AgentRunOptions): Promise<AgentResult>;
  /** The same loop, yielding text, tool calls and steps as they happen; the last event is the answer. */
  stream(input: string, options?: AgentRunOptions): AsyncGenerator<AgentEvent>;
  /**
   * Continues a conversation without a new message: a step left open when its process stopped
   * (calls waiting for a person) is finished first, then the model goes on to its answer. `run`
   * with a `conversationId` finishes such a step too, before the new message.
   */
  resume(conversationId: string, options?: Omit<AgentRunOptions, "conversationId">): Promise<AgentResult>;
  /** `resume`, as a stream of events. */
  streamResume(conversationId: string, options?: Omit<AgentRunOptions, "conversationId">): AsyncGenerator<AgentEvent>;
}

/** Every option `createAgent` takes: any other key is refused with a did-you-mean. */
export const AGENT_OPTION_KEYS = keysOf<AgentOptions>({
  model: true,
  tools: true,
  executor: true,
  maxConcurrency: true,
  parallel: true,
  system: true,
  maxSteps: true,
  store: true,
  maxHistoryMessages: true,
  maxHistoryTokens: true,
  countTokens: true,
  timeoutMs: true,
  mode: true,
  maxReplans: true,
  positionalReferences: true,
  approve: true,
  instrumentation: true,
});
