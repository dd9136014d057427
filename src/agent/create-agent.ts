import { randomUUID } from "node:crypto";
import { openaiChat } from "../adapters/openai-chat.ts";
import { POSITIONAL_REFERENCES_PROMPT, resolvePositionsOf } from "../adapters/positional-references.ts";
import { invalidOption, VolleyError } from "../errors/volley-error.ts";
import { createExecutor } from "../executor/create-executor.ts";
import type { LiveRun, RunOptions } from "../executor/executor-types.ts";
import type { RunEvent } from "../run/types.ts";
import type { Tool } from "../tool/define-tool.ts";
import type { ChatMessage, TokenUsage } from "./chat-model.ts";
import {
  assistantMessageOf,
  finishOpenStep,
  forModel,
  openStepMessage,
  openStepOf,
  type OpenStepMessage,
} from "./open-step.ts";
import { runPlanMode } from "./plan-mode.ts";
import { epochNow, stepFigures } from "./step-figures.ts";
import { WarnOnce } from "../shared/warn-once.ts";
import { TurnObserver } from "./turn-observer.ts";
import { historyWindow } from "./history-window.ts";
import { emitToolEvent, planModeEvents, readArguments } from "./agent-events.ts";
import { checkAgentOptions } from "./agent-options.ts";
import { streamTurn, toAnswer } from "./turn-stream.ts";
import {
  type Agent,
  type AgentEvent,
  type AgentOptions,
  type AgentResult,
  type AgentRunOptions,
  type AgentStep,
} from "./agent-types.ts";

/**
 * The loop around a chat model: model, tool calls, Volley run, model, until it answers. Each
 * tool call starts the moment its arguments are complete in the model's stream, into one open
 * Volley run per step, so tools run while the model is still writing.
 */
export function createAgent(options: AgentOptions): Agent {
  const {
    model,
    tools,
    system,
    maxSteps,
    store,
    maxHistoryMessages,
    maxHistoryTokens,
    countTokens,
    timeoutMs,
    mode,
    maxReplans,
    positionalReferences,
    approve,
    maxConcurrency,
    parallel,
    instrumentation,
  } = checkAgentOptions(options);
  const warnings = new WarnOnce();
  /** The system prompt of a tools-mode step: the caller's, and what references by position are. */
  const toolsPrompt = positionalReferences
    ? [system, POSITIONAL_REFERENCES_PROMPT].filter((part) => part !== undefined).join("\n\n")
    : system;
  // With a store, the agent's runs go into its history too: that is where pending approvals outlive the process.
  const executor =
    options.executor ??
    createExecutor({
      tools: tools as readonly Tool[],
      ...(approve ? { approve } : {}),
      ...(store ? { history: store } : {}),
      ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
      ...(parallel === undefined ? {} : { parallel }),
    });
  // The tools the model is offered follow the executor's (`setTools`), made again only when they change.
  let offered: { tools: readonly Tool[]; definitions: ReturnType<typeof openaiChat.tools> } | undefined;
  const toolDefinitions = (): ReturnType<typeof openaiChat.tools> => {
    if (offered?.tools !== executor.tools)
      offered = { tools: executor.tools, definitions: openaiChat.tools(executor.tools) };
    return offered.definitions;
  };

  /**
   * One turn. `input` undefined: resume the conversation, finishing its open step, without a new
   * message. A conversation has one turn at a time, in this process or any other sharing the store.
   */
  async function loop(
    input: string | undefined,
    runOptions: AgentRunOptions,
    emit: (event: AgentEvent) => void,
  ): Promise<AgentResult> {
    const { conversationId } = runOptions;
    if (input === undefined ? conversationId === undefined : typeof input !== "string")
      invalidOption("agent.run", "input", "the user's message as a string", input);
    if (
      conversationId !== undefined &&
      (typeof conversationId !== "string" || conversationId === "" || store === undefined)
    )
      invalidOption("agent.run", "conversationId", "a string, with a store given to createAgent", conversationId);
    const observer = TurnObserver.start(instrumentation, warnings, { conversationId, model: model.model, mode });
    try {
      const result = await observer.within(() => claimed(input, runOptions, emit, observer));
      observer.end({ finish: result.finish, usage: result.usage, steps: result.steps.length });
      return result;
    } catch (error) {
      observer.end({ finish: undefined, usage: { inputTokens: 0, outputTokens: 0 }, steps: 0, error });
      throw error;
    }
  }

  /** The turn, with its conversation claimed for it while it runs. */
  async function claimed(
    input: string | undefined,
    runOptions: AgentRunOptions,
    emit: (event: AgentEvent) => void,
    observer: TurnObserver,
  ): Promise<AgentResult> {
    const { conversationId } = runOptions;
    if (conversationId === undefined || store === undefined) return turn(input, runOptions, emit, observer);
    const holder = randomUUID();
    if (!(await store.claimConversation(conversationId, holder)))
      throw new VolleyError(
        "conversation_busy",
        `Conversation "${conversationId}" has a turn running, in this process or another; send the message once it has answered`,
      );
    try {
      return await turn(input, runOptions, emit, observer);
    } finally {
      await store.releaseConversation(conversationId, holder);
    }
  }

  async function turn(
    input: string | undefined,
    runOptions: AgentRunOptions,
    emit: (event: AgentEvent) => void,
    observer: TurnObserver,
  ): Promise<AgentResult> {
    const { conversationId, signal: callerSignal } = runOptions;
    // The time limit ends the turn with what was done; the caller's signal cancels it.
    const deadline = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const signals = [callerSignal, deadline].filter((item): item is AbortSignal => item !== undefined);
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    const started = performance.now();
    /** Run options for a step's tools: the caller's signal, and the time left as the run's own limit. */
    const runLimits = (): RunOptions => ({
      ...(callerSignal ? { signal: callerSignal } : {}),
      ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
      ...(parallel === undefined ? {} : { parallel }),
      ...(timeoutMs === undefined ? {} : { timeoutMs: Math.max(1, timeoutMs - (performance.now() - started)) }),
    });
    const outOfTime = (): boolean => deadline?.aborted === true && callerSignal?.aborted !== true;
    const earlier =
      conversationId === undefined
        ? []
        : ((await store?.messages(conversationId)) ?? []).map((item) => item.message as ChatMessage);
    /** The question this turn answers: the new message, or on a resume the last one asked. */
    const question = input ?? earlier.findLast((message) => message.role === "user")?.content ?? "(no question)";
    /** What each step's run is called in the history and on the dashboard. */
    const stepRunName = (step: number): string =>
      `${conversationId === undefined ? "" : `${conversationId} · `}step ${step}: ${question}`;
    if (input === undefined) {
      // A resume: there must be something to resume, and a turn that ended has nothing left to do.
      if (earlier.length === 0)
        throw new VolleyError(
          "invalid_option",
          `agent.resume: the store has no conversation "${conversationId ?? ""}": nothing to resume`,
        );
      const last = earlier.at(-1) as ChatMessage;
      if (last.role === "assistant" && last.tool_calls === undefined)
        return {
          answer: last.content ?? "",
          steps: [],
          usage: { inputTokens: 0, outputTokens: 0 },
          durationMs: performance.now() - started,
          finish: "answer",
        };
    }
    const added: ChatMessage[] = [];
    const sentEarlier = historyWindow(earlier, {
      messages: maxHistoryMessages,
      tokens: maxHistoryTokens,
      countTokens,
    });
    const transcript = (): ChatMessage[] => [
      ...(toolsPrompt === undefined ? [] : [{ role: "system" as const, content: toolsPrompt }]),
      ...[...sentEarlier, ...added].map(forModel),
    ];
    // How much of `added` the conversation already holds: a step kept open while a person decides is saved early.
    let saved = 0;
    // Saving also waits for the runs' history: once a run of the agent resolves, the store holds it.
    const save = async (): Promise<void> => {
      await executor.flush();
      if (conversationId === undefined || saved === added.length) return;
      const unsaved = added.slice(saved);
      saved = added.length;
      await store?.appendMessages(conversationId, unsaved);
    };
    const steps: AgentStep[] = [];
    const usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
    let answer = "";
    let finish: AgentResult["finish"] = "max-steps";

    // A step this conversation left open (its process stopped while a person decided, or while
    // its tools ran) is finished first. So is a step whose process stopped while the model still
    // wrote it: kept apart as it grew, it joins the conversation now.
    const cutOff =
      conversationId === undefined || store === undefined
        ? undefined
        : openStepOf([(await store.stepInProgress(conversationId)) as ChatMessage].filter(Boolean));
    const writtenAlready =
      cutOff !== undefined &&
      earlier.some((message) => (message as Partial<OpenStepMessage>).volley_run_id === cutOff.volley_run_id);
    const open = store === undefined ? undefined : (openStepOf(earlier) ?? (writtenAlready ? undefined : cutOff));
    if (cutOff !== undefined && open === cutOff) added.push(cutOff);
    if (open !== undefined && store !== undefined) {
      const stepStarted = performance.now();
      const openArgs = new Map(open.tool_calls.map((call) => [call.id, call.function.arguments]));
      const resumed = await finishOpenStep(
        open,
        store,
        executor,
        (event, runOf) => emitToolEvent(emit, 1, event, runOf, (callId) => readArguments(openArgs.get(callId) ?? "{}")),
        signal,
      );
      added.push(...resumed.messages);
      await save();
      const step: AgentStep = {
        text: "",
        run: resumed.run,
        usage: undefined,
        durationMs: performance.now() - stepStarted,
        // Its calls were written in an earlier process: there is no stream to measure against.
        figures: undefined,
      };
      steps.push(step);
      emit({ type: "step-end", step });
    }
    if (cutOff !== undefined && conversationId !== undefined) await store?.setStepInProgress(conversationId, undefined);
    if (input !== undefined) {
      added.push({ role: "user", content: input });
      // Stored before the model is called: a process that dies now still has the question, and a resume answers it.
      await save();
    }

    if (mode === "plan") {
      if (input === undefined)
        invalidOption(
          "agent.resume",
          "mode",
          'an agent in "tools" mode (plan mode keeps no open steps to resume)',
          mode,
        );
      try {
        ({ answer, finish } = await runPlanMode({
          model,
          executor,
          system,
          earlier: sentEarlier,
          input,
          maxReplans,
          signal,
          runName: stepRunName,
          streamModel: (request, step) => observer.stream(model, request, step),
          limits: {
            ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
            ...(parallel === undefined ? {} : { parallel }),
          },
          ...planModeEvents(emit, (step) => {
            steps.push(step);
            usage.inputTokens += step.usage?.inputTokens ?? 0;
            usage.outputTokens += step.usage?.outputTokens ?? 0;
          }),
        }));
      } catch (error) {
        if (!outOfTime()) throw error;
        // Out of time: the steps that ended are reported; the plan's answer was never written.
        finish = "timeout";
      }
      // The conversation keeps the question and the answer, not the plan's workings.
      added.push({ role: "assistant", content: answer });
      await save();
      return { answer, steps, usage, durationMs: performance.now() - started, finish };
    }

    for (let stepNumber = steps.length + 1; stepNumber <= maxSteps; stepNumber++) {
      if (outOfTime()) {
        finish = "timeout";
        break;
      }
      signal?.throwIfAborted();
      const stepStarted = performance.now();
      const stepStartedAt = epochNow();
      let streamEnded = false;
      let keptOpen: Promise<void> | undefined;
      // Once the model has written the step, a call waiting for a person keeps the step so far in the
      // conversation: the wait may outlast this process, and the next run of the conversation resumes it.
      const keepOpen = (): void => {
        if (conversationId === undefined || keptOpen !== undefined) return;
        const marked = openStepMessage(assistantMessage(), runOfStep().id);
        if (marked === undefined) return;
        keptOpen = (async () => {
          added.push(marked);
          await save();
          // The conversation holds the step now: what was kept of it while it was written can go.
          await store?.setStepInProgress(conversationId, undefined);
        })();
      };
      const onEvent = (event: RunEvent): void => {
        emitToolEvent(emit, stepNumber, event, runOfStep, (callId) => readArguments(argumentsById.get(callId) ?? "{}"));
        if (event.type === "approval-start" && streamEnded) keepOpen();
      };
      // The step's run starts with its first tool call: a step that calls no tool leaves no empty
      // run in the history or the traces. Its time limit is what is left of the agent's then.
      let run: LiveRun | undefined;
      const runOfStep = (): LiveRun =>
        (run ??= executor.start({ onEvent, ...runLimits(), name: stepRunName(stepNumber) }));
      let text = "";
      let stepUsage: TokenUsage | undefined;
      const calls: { id: string; name: string; arguments: string }[] = [];
      const argumentsById = new Map<string, string>();
      const assistantMessage = (): ChatMessage => assistantMessageOf(text, calls);
      let cutShort = false;
      try {
        for await (const event of observer.stream(
          model,
          { messages: transcript(), tools: toolDefinitions(), signal },
          stepNumber,
        )) {
          if (event.type === "text-delta") {
            text += event.text;
            emit({ type: "text-delta", step: stepNumber, text: event.text });
          } else if (event.type === "tool-call") {
            // Eager dispatch: the call starts now, while the model may still be writing the next.
            const call = {
              id: event.id || `step${stepNumber}_call${calls.length}`,
              name: event.name,
              arguments: event.arguments,
            };
            calls.push(call);
            argumentsById.set(call.id, call.arguments);
            // Recorded before it starts: a process that dies from here on leaves the call in the
            // conversation, and a resume answers it from the history instead of running it again.
            if (conversationId !== undefined)
              await store?.setStepInProgress(conversationId, openStepMessage(assistantMessage(), runOfStep().id));
            const toolCall = { id: call.id, name: call.name, args: call.arguments };
            // The model's message keeps what it wrote; the executor gets references by id.
            runOfStep().add(
              positionalReferences
                ? resolvePositionsOf(toolCall, calls.length, (position) => calls[position - 1]?.id)
                : toolCall,
            );
          } else {
            stepUsage = event.usage;
          }
        }
      } catch (error) {
        // Out of time while the model wrote: the step keeps what it had, and its calls are answered as the run's limit answers them.
        if (!outOfTime()) throw error;
        cutShort = true;
      } finally {
        run?.end();
      }
      streamEnded = true;
      const streamEndedAt = epochNow();
      // Its calls may outlast this process (running tools, a person deciding): the step is kept
      // open in the conversation until their results are in, and a resume finishes it.
      if (calls.length > 0) keepOpen();
      const result = run === undefined ? undefined : await run.result;
      if (stepUsage) {
        usage.inputTokens += stepUsage.inputTokens;
        usage.outputTokens += stepUsage.outputTokens;
      }
      if (keptOpen === undefined) added.push(assistantMessage());
      else await keptOpen;
      // Results go in call order, so the transcript stays valid whatever order they finished in.
      if (result !== undefined) added.push(...openaiChat.messages(result.results));
      await save();
      const step: AgentStep = {
        text,
        run: result,
        usage: stepUsage,
        durationMs: performance.now() - stepStarted,
        figures: result === undefined ? undefined : stepFigures(result, stepStartedAt, streamEndedAt),
      };
      steps.push(step);
      emit({ type: "step-end", step });
      if (cutShort || result?.status === "timed_out") {
        answer = text;
        finish = "timeout";
        break;
      }
      if (calls.length === 0) {
        answer = text;
        finish = "answer";
        break;
      }
    }
    await save();
    return { answer, steps, usage, durationMs: performance.now() - started, finish };
  }

  const stream = (input: string | undefined, runOptions: AgentRunOptions = {}): AsyncGenerator<AgentEvent> =>
    streamTurn((signal, emit) => loop(input, { ...runOptions, signal }, emit), runOptions.signal);

  const resumeOptions = (
    conversationId: string,
    runOptions: Omit<AgentRunOptions, "conversationId">,
  ): AgentRunOptions => {
    if (typeof conversationId !== "string")
      invalidOption("agent.resume", "conversationId", "the id of a conversation kept in the store", conversationId);
    return { ...runOptions, conversationId };
  };

  return {
    stream: (input, runOptions) => stream(input, runOptions),
    run: (input, runOptions = {}) => toAnswer(stream(input, runOptions)),
    streamResume: (conversationId, runOptions = {}) => stream(undefined, resumeOptions(conversationId, runOptions)),
    resume: (conversationId, runOptions = {}) => toAnswer(stream(undefined, resumeOptions(conversationId, runOptions))),
  };
}
