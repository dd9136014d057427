import { EventQueue } from "../shared/event-queue.ts";
import type { AgentEvent, AgentResult } from "./agent-types.ts";

/**
 * A turn as a stream of its events, ending with its answer. `turn` runs with a signal that also
 * fires when the reader leaves the stream early (a `break`): that stops the model and the tools
 * instead of leaving them running unread. A turn that fails throws from the stream.
 */
export async function* streamTurn(
  turn: (signal: AbortSignal, emit: (event: AgentEvent) => void) => Promise<AgentResult>,
  callerSignal: AbortSignal | undefined,
): AsyncGenerator<AgentEvent> {
  const queue = new EventQueue<AgentEvent>();
  const abandoned = new AbortController();
  const signal = callerSignal ? AbortSignal.any([callerSignal, abandoned.signal]) : abandoned.signal;
  let failure: unknown;
  let failed = false;
  let settled = false;
  const done = turn(signal, (event) => queue.push(event))
    .then(
      (result) => queue.push({ type: "answer", result }),
      (error: unknown) => {
        failed = true;
        failure = error;
      },
    )
    .finally(() => {
      settled = true;
      queue.close();
    });
  try {
    yield* queue.drain();
    await done;
    if (failed) throw failure;
  } finally {
    if (!settled) {
      abandoned.abort(new Error("The agent's stream was closed before the run ended"));
      await done;
    }
  }
}

/** The answer a turn's stream ends with, once the whole stream is read. */
export async function toAnswer(events: AsyncGenerator<AgentEvent>): Promise<AgentResult> {
  let result: AgentResult | undefined;
  for await (const event of events) if (event.type === "answer") result = event.result;
  return result as AgentResult;
}
