import type { AgentInstrumentation, ModelCallInstrumentation, TurnInstrumentation } from "../run/instrumentation.ts";
import type { WarnOnce } from "../shared/warn-once.ts";
import type { ChatModel, ChatModelEvent, ChatModelRequest } from "./chat-model.ts";

/**
 * A turn as its instrumentation sees it, with every hook guarded: an instrumentation that
 * throws is reported once as a process warning, and the turn goes on.
 */
export class TurnObserver {
  readonly #turn: TurnInstrumentation | undefined;
  readonly #warnings: WarnOnce;

  private constructor(turn: TurnInstrumentation | undefined, warnings: WarnOnce) {
    this.#turn = turn;
    this.#warnings = warnings;
  }

  static start(
    instrumentation: AgentInstrumentation | undefined,
    warnings: WarnOnce,
    turn: Parameters<AgentInstrumentation["turnStart"]>[0],
  ): TurnObserver {
    let started: TurnInstrumentation | undefined;
    try {
      started = instrumentation?.turnStart(turn);
    } catch (error) {
      warnings.report("turnStart", "Volley agent instrumentation threw in turnStart", error);
    }
    return new TurnObserver(started, warnings);
  }

  /** Runs `work` with the turn's context active (its step runs nest beneath it). */
  within<T>(work: () => T): T {
    if (this.#turn === undefined) return work();
    let outcome: { value: T } | { error: unknown } | undefined;
    try {
      this.#turn.within(() => {
        try {
          outcome = { value: work() };
        } catch (error) {
          outcome = { error };
        }
      });
    } catch (error) {
      this.#warnings.report("within", "Volley agent instrumentation threw in within", error);
    }
    // An instrumentation that never ran the work must not cost the turn.
    if (outcome === undefined) return work();
    if ("error" in outcome) throw outcome.error;
    return outcome.value;
  }

  /** The model's stream for one step, watched from its request to its end. */
  stream(model: ChatModel, request: ChatModelRequest, step: number): AsyncGenerator<ChatModelEvent> {
    let call: ModelCallInstrumentation | undefined;
    try {
      call = this.#turn?.modelCall?.({ model: model.model, step });
    } catch (error) {
      this.#warnings.report("modelCall", "Volley agent instrumentation threw in modelCall", error);
    }
    return call === undefined ? toGenerator(model.stream(request)) : this.#watched(model, request, call);
  }

  async *#watched(
    model: ChatModel,
    request: ChatModelRequest,
    call: ModelCallInstrumentation,
  ): AsyncGenerator<ChatModelEvent> {
    let finish: Extract<ChatModelEvent, { type: "finish" }> | undefined;
    let failure: { error: unknown } | undefined;
    try {
      for await (const event of model.stream(request)) {
        if (event.type === "finish") finish = event;
        yield event;
      }
    } catch (error) {
      failure = { error };
      throw error;
    } finally {
      try {
        call.end({
          finishReason: finish?.reason,
          usage: finish?.usage,
          responseModel: finish?.model,
          ...(failure ?? {}),
        });
      } catch (error) {
        this.#warnings.report("modelCall.end", "Volley agent instrumentation threw in a model call's end", error);
      }
    }
  }

  end(outcome: Parameters<NonNullable<TurnInstrumentation["turnEnd"]>>[0]): void {
    try {
      this.#turn?.turnEnd?.(outcome);
    } catch (error) {
      this.#warnings.report("turnEnd", "Volley agent instrumentation threw in turnEnd", error);
    }
  }
}

async function* toGenerator<T>(items: AsyncIterable<T>): AsyncGenerator<T> {
  yield* items;
}
