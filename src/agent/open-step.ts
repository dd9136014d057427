// A step whose tool calls wait for a person is kept in the conversation before it ends, so that a
// conversation outlives the process: the next run of it finishes the step from the history.
import { openaiChat } from "../adapters/openai-chat.ts";
import type { Executor, LiveRun } from "../executor/executor-types.ts";
import type { RunEvent, RunResult, ToolResult } from "../run/types.ts";
import type { RunStore, StoredApproval, StoredCall } from "../store/run-store.ts";
import type { ChatMessage } from "./chat-model.ts";

type ToolCallMessage = Extract<ChatMessage, { role: "assistant" }> & {
  tool_calls: NonNullable<Extract<ChatMessage, { role: "assistant" }>["tool_calls"]>;
};

/** An assistant message as the conversation keeps it while its calls wait: with the Volley run that holds them. */
export type OpenStepMessage = ToolCallMessage & { volley_run_id: string };

/** The assistant message of a step, marked with its run, to keep while a person decides. */
export function openStepMessage(message: ChatMessage, runId: string): OpenStepMessage | undefined {
  if (message.role !== "assistant" || message.tool_calls === undefined) return undefined;
  return { ...message, tool_calls: message.tool_calls, volley_run_id: runId };
}

/** A message as the model sees it: Volley's own mark removed. */
export function forModel(message: ChatMessage): ChatMessage {
  if (!("volley_run_id" in message)) return message;
  const rest: Partial<OpenStepMessage> = { ...(message as OpenStepMessage) };
  delete rest.volley_run_id;
  return rest as ChatMessage;
}

/** The assistant message of a step as the model wrote it: its text, and its tool calls if it made any. */
export function assistantMessageOf(
  text: string,
  calls: readonly { id: string; name: string; arguments: string }[],
): ChatMessage {
  return {
    role: "assistant",
    content: text === "" ? null : text,
    ...(calls.length > 0
      ? {
          tool_calls: calls.map((call) => ({
            id: call.id,
            type: "function" as const,
            function: { name: call.name, arguments: call.arguments },
          })),
        }
      : {}),
  };
}

/** The conversation's last step, when it was kept open and never finished. */
export function openStepOf(messages: readonly ChatMessage[]): OpenStepMessage | undefined {
  const last = messages.at(-1) as Partial<OpenStepMessage> | undefined;
  return last?.role === "assistant" && typeof last.volley_run_id === "string" && Array.isArray(last.tool_calls)
    ? (last as OpenStepMessage)
    : undefined;
}

function fromStored(call: StoredCall): ToolResult {
  const timing = {
    id: call.callId,
    name: call.name,
    attempts: call.attempts,
    startedAt: call.startedAt,
    endedAt: call.endedAt,
    durationMs: call.durationMs,
    queuedMs: Math.max(0, call.startedAt - call.queuedAt),
    cached: call.cached,
  };
  return call.ok
    ? { ...timing, ok: true, output: call.output }
    : { ...timing, ok: false, error: call.error ?? { type: "tool_error", message: "failed", retryable: false } };
}

function interrupted(id: string, name: string, at: number): ToolResult {
  const message =
    "This call was running when the process running it stopped: it may have run in part or in whole, and its result is lost";
  return {
    id,
    name,
    ok: false,
    error: { type: "cancelled", message, retryable: false },
    attempts: 1,
    startedAt: at,
    endedAt: at,
    durationMs: 0,
    queuedMs: 0,
    cached: false,
  };
}

/** What a person decided about one call. */
type Decision = { approved: boolean; reason: string | undefined };

export interface ResumedStep {
  /** The step's tool results, in call order, for the transcript. */
  messages: ChatMessage[];
  /** The run of the calls that had not started, or undefined when none was needed. */
  run: RunResult | undefined;
}

/**
 * Finishes a step kept open: calls that ended keep their results from the history; calls that
 * had started and never ended are answered as interrupted (their side effects may have landed);
 * the rest run now, with decisions recorded meanwhile (`store.decideApproval`) applied, and
 * those still undecided asked again.
 */
export async function finishOpenStep(
  open: OpenStepMessage,
  store: RunStore,
  executor: Executor,
  onEvent: (event: RunEvent, runOf: () => LiveRun) => void,
  signal: AbortSignal | undefined,
): Promise<ResumedStep> {
  const runId = open.volley_run_id;
  const { ended, started, approvals } = await whatTheHistoryHolds(store, runId);
  const decisions = new Map(
    approvals.flatMap((approval) =>
      approval.decision === undefined ? [] : [[approval.callId, approval.decision] as const],
    ),
  );
  const now = Date.now();
  const results = new Map<string, ToolResult>();
  const rerun = [];
  for (const call of open.tool_calls) {
    const result =
      ended.get(call.id) ?? (started.has(call.id) ? interrupted(call.id, call.function.name, now) : undefined);
    if (result !== undefined) results.set(call.id, result);
    else rerun.push({ id: call.id, name: call.function.name, args: call.function.arguments });
  }
  let run: RunResult | undefined;
  if (rerun.length > 0) {
    const decidedHere = new Map<string, Decision>();
    const live: LiveRun = executor.start({
      resumes: runId,
      onEvent: (event) => {
        if (event.type === "approval-end")
          decidedHere.set(event.callId, { approved: event.approved, reason: event.reason });
        const decision = event.type === "approval-start" ? decisions.get(event.callId) : undefined;
        if (event.type !== "approval-start" || decision === undefined) {
          onEvent(event, () => live);
          return;
        }
        // Decided while no process was there to hear it: applied now, before the executor's own approval policy is asked.
        void (decision.approved
          ? live.approve(event.callId, decision.reason)
          : live.deny(event.callId, decision.reason));
      },
      ...(signal ? { signal } : {}),
    });
    for (const call of rerun) live.add(call);
    live.end();
    run = await live.result;
    for (const result of run.results) results.set(result.id, result);
    await closeStaleApprovals(store, approvals, decidedHere, run.runId);
  }
  return { messages: openaiChat.messages(open.tool_calls.map((call) => results.get(call.id) as ToolResult)), run };
}

/**
 * What the step's run left in the history, with what every earlier attempt to finish the step
 * left (runs that resumed it and were themselves interrupted): their calls ran under the same ids.
 */
async function whatTheHistoryHolds(
  store: RunStore,
  runId: string,
): Promise<{ ended: Map<string, ToolResult>; started: Set<string>; approvals: StoredApproval[] }> {
  const first = await store.getRun(runId);
  const runIds = [runId, ...(first?.run.resumedBy ?? [])];
  const ended = new Map<string, ToolResult>();
  const started = new Set<string>();
  const approvals: StoredApproval[] = [];
  for (const id of runIds) {
    const [stored, runApprovals, events] = await Promise.all([
      id === runId ? first : store.getRun(id),
      store.approvals({ runId: id }),
      store.events(id),
    ]);
    for (const call of stored?.calls ?? []) if (!ended.has(call.callId)) ended.set(call.callId, fromStored(call));
    for (const { event } of events) if (event.type === "call-start") started.add(event.callId);
    approvals.push(...runApprovals);
  }
  return { ended, started, approvals };
}

/**
 * Approvals still pending in the step's run (or in an earlier attempt to finish it) were asked
 * again in the run that finished the step: they get that run's answers, so that no one decides
 * them in vain.
 */
async function closeStaleApprovals(
  store: RunStore,
  approvals: readonly StoredApproval[],
  decidedHere: ReadonlyMap<string, Decision>,
  finishedIn: string,
): Promise<void> {
  for (const approval of approvals) {
    if (approval.decision !== undefined) continue;
    const outcome = decidedHere.get(approval.callId);
    const reason =
      outcome === undefined
        ? `not decided: the step was finished in run ${finishedIn}`
        : `decided in run ${finishedIn}, which finished the step${outcome.reason ? `: ${outcome.reason}` : ""}`;
    await store.decideApproval(approval.runId, approval.callId, { approved: outcome?.approved ?? false, reason });
  }
}
