import type { LiveRun } from "../executor/executor-types.ts";
import type { RunEvent } from "../run/types.ts";
import type { AgentEvent, AgentStep } from "./agent-types.ts";
import type { PlanContext } from "./plan-mode.ts";

/** What a call's arguments were, by call id, for its start event. */
export type ArgumentsOf = (callId: string) => unknown;

/** A call's arguments as the model wrote them: parsed when they are JSON, else the text itself. */
export function readArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A tool call's start, end and approval, from its Volley run, as agent events. */
export function emitToolEvent(
  emit: (event: AgentEvent) => void,
  step: number,
  event: RunEvent,
  runOf: () => LiveRun,
  argsOf: ArgumentsOf,
): void {
  if (event.type === "call-start")
    emit({
      type: "tool-call-start",
      step,
      callId: event.callId,
      name: event.name,
      args: argsOf(event.callId),
      attempt: event.attempt,
    });
  else if (event.type === "call-end") emit({ type: "tool-call-end", step, result: event.result });
  else if (event.type === "approval-start") {
    const { callId } = event;
    emit({
      type: "tool-approval-start",
      step,
      callId,
      name: event.name,
      args: event.args,
      approve: (reason) => runOf().approve(callId, reason),
      deny: (reason) => runOf().deny(callId, reason),
    });
  } else if (event.type === "approval-end") {
    emit({
      type: "tool-approval-end",
      step,
      callId: event.callId,
      name: event.name,
      approved: event.approved,
      ...(event.reason === undefined ? {} : { reason: event.reason }),
    });
  }
}

/** What plan mode reports, as agent events: its text, its tasks and bad lines, its calls, its steps (each handed to `stepEnded` first). */
export function planModeEvents(
  emit: (event: AgentEvent) => void,
  stepEnded: (step: AgentStep) => void,
): Pick<PlanContext, "onText" | "onPlanLine" | "onRunEvent" | "onStep"> {
  /** Each task's arguments, by its id in the step's run. */
  const taskArgs = new Map<string, unknown>();
  return {
    onText: (step, text) => emit({ type: "text-delta", step, text }),
    onPlanLine: (step, line) => {
      if (line.kind === "invalid") {
        emit({ type: "plan-problem", step, line: line.line, reason: line.reason });
        return;
      }
      const { id, name, args = {} } = line.call;
      const read = typeof args === "string" ? readArguments(args) : args;
      taskArgs.set(id, read);
      emit({ type: "plan-task", step, callId: id, name, args: read });
    },
    onRunEvent: (step, event, runOf) => emitToolEvent(emit, step, event, runOf, (callId) => taskArgs.get(callId)),
    onStep: (step) => {
      stepEnded(step);
      emit({ type: "step-end", step });
    },
  };
}
