import { randomUUID } from "node:crypto";
import type { Agent, AgentEvent } from "../agent/agent-types.ts";
import { VolleyError } from "../errors/volley-error.ts";
import { EventLog } from "../shared/event-log.ts";
import { ApiError } from "./api-requests.ts";
import { wireResult } from "./wire-format.ts";

/**
 * An agent event as clients of a served conversation receive it: JSON with a `type`, the
 * agent's own events without their functions, between a `turn-start` and either the `answer`
 * or an `error`. `id` is `<turn>:<position>`, what `Last-Event-ID` names to resume after it;
 * `at` is when the server saw it (epoch ms).
 */
export type ConversationEvent = { id: string; type: string } & Record<string, unknown>;

/** A turn of a conversation this server runs or ran: its events, for every reader, from the start. */
export class ConversationTurn {
  readonly turnId = randomUUID();
  readonly conversationId: string;
  readonly startedAt = Date.now();
  readonly log = new EventLog<ConversationEvent>();
  readonly #controller = new AbortController();
  /** Decisions for the calls that wait for a person now, by call id. */
  readonly #waiting = new Map<string, Extract<AgentEvent, { type: "tool-approval-start" }>>();
  #steps = 0;

  constructor(conversationId: string) {
    this.conversationId = conversationId;
  }

  get running(): boolean {
    return !this.log.closed;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Stops the model and the tools; the turn ends with what was done. */
  cancel(reason: string): boolean {
    if (!this.running) return false;
    this.#controller.abort(new Error(reason));
    return true;
  }

  /** Decides a call of this turn that waits for a person; false when none of that id waits. */
  async decide(callId: string, approved: boolean, reason: string | undefined): Promise<boolean> {
    const waiting = this.#waiting.get(callId);
    if (waiting === undefined) return false;
    return approved ? waiting.approve(reason) : waiting.deny(reason);
  }

  /** The events after `lastEventId` (one of this turn's ids), or all of them. */
  events(lastEventId?: string): AsyncGenerator<ConversationEvent> {
    const [turnId, position] = (lastEventId ?? "").split(":");
    const after = turnId === this.turnId ? Number.parseInt(position ?? "", 10) : Number.NaN;
    return this.log.read(Number.isInteger(after) ? after + 1 : 0);
  }

  push(event: Record<string, unknown> & { type: string }): void {
    this.log.push({ ...event, id: `${this.turnId}:${this.log.length}`, at: Date.now() });
  }

  /** Runs the agent's stream to its end, as events; never throws. */
  async follow(events: AsyncGenerator<AgentEvent>): Promise<void> {
    try {
      for await (const event of events) this.push(this.#wire(event));
    } catch (error) {
      this.push(errorEvent(error, this.signal.aborted));
    } finally {
      this.#waiting.clear();
      this.log.close();
    }
  }

  #wire(event: AgentEvent): Record<string, unknown> & { type: string } {
    switch (event.type) {
      case "tool-approval-start": {
        this.#waiting.set(event.callId, event);
        const { type, step, callId, name, args } = event;
        return { type, step, callId, name, args };
      }
      case "tool-approval-end":
        this.#waiting.delete(event.callId);
        return event;
      case "tool-call-end":
        return { type: event.type, step: event.step, result: wireResult(event.result) };
      case "step-end": {
        const { text, run, usage, durationMs, figures } = event.step;
        return {
          type: event.type,
          step: ++this.#steps,
          text,
          usage: usage ?? null,
          durationMs,
          runId: run?.runId ?? null,
          calls: run?.stats.calls ?? 0,
          stats: run?.stats ?? null,
          figures: figures ?? null,
        };
      }
      case "answer": {
        const { answer, usage, durationMs, finish, steps } = event.result;
        return { type: event.type, answer, usage, durationMs, finish, steps: steps.length };
      }
      default:
        return event;
    }
  }
}

function errorEvent(error: unknown, cancelled: boolean): { type: "error"; code: string; message: string } {
  if (cancelled) return { type: "error", code: "cancelled", message: "The turn was cancelled" };
  if (error instanceof VolleyError) return { type: "error", code: error.code, message: error.message };
  // A model's failure is worth saying in a line; its stack stays in the server.
  const message = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
  return { type: "error", code: "agent_failed", message: `The agent failed: ${message}` };
}

/**
 * The conversations this server's agent holds turns of: the running turn of each, and the last
 * few ended ones, so that a client whose stream dropped picks up where it left off.
 */
export class LiveConversations {
  readonly #agent: Agent;
  readonly #keepEnded: number;
  /** The latest turn of each conversation this server ran, oldest first. */
  readonly #turns = new Map<string, ConversationTurn>();

  constructor(agent: Agent, keepEnded = 100) {
    this.#agent = agent;
    this.#keepEnded = keepEnded;
  }

  /** Starts a turn with the user's message. A conversation with a turn running here is refused (409). */
  send(conversationId: string, content: string): ConversationTurn {
    const current = this.#turns.get(conversationId);
    if (current?.running)
      throw new ApiError(
        409,
        "conversation_busy",
        `Conversation "${conversationId}" has a turn running; send the message once it has answered`,
      );
    const turn = new ConversationTurn(conversationId);
    this.#turns.delete(conversationId);
    this.#turns.set(conversationId, turn);
    turn.push({ type: "turn-start", conversationId, turnId: turn.turnId, content, at: turn.startedAt });
    void turn
      .follow(this.#agent.stream(content, { conversationId, signal: turn.signal }))
      .then(() => this.#forgetOldEnded());
    return turn;
  }

  /** The latest turn of the conversation in this server, running or ended. */
  turnOf(conversationId: string): ConversationTurn | undefined {
    return this.#turns.get(conversationId);
  }

  /** Conversations with a turn running here. */
  get running(): number {
    let count = 0;
    for (const turn of this.#turns.values()) if (turn.running) count++;
    return count;
  }

  cancelAll(reason: string): void {
    for (const turn of this.#turns.values()) turn.cancel(reason);
  }

  #forgetOldEnded(): void {
    let ended = [...this.#turns.values()].filter((turn) => !turn.running).length;
    for (const [id, turn] of this.#turns) {
      if (ended <= this.#keepEnded) break;
      if (!turn.running) {
        this.#turns.delete(id);
        ended--;
      }
    }
  }
}
