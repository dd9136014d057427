import { resultText, toolJsonSchema } from "../adapters/tool-json-schema.ts";
import type { Executor, LiveRun, RunOptions } from "../executor/executor-types.ts";
import type { RunEvent, ToolResult } from "../run/types.ts";
import type { ChatMessage, ChatModel, ChatModelEvent, ChatModelRequest, TokenUsage } from "./chat-model.ts";
import type { AgentStep } from "./agent-types.ts";
import { LineSplitter, parsePlanLine, type PlanLine } from "./plan-parser.ts";
import { epochNow, stepFigures } from "./step-figures.ts";

/** What plan mode needs from the agent around it. */
export interface PlanContext {
  model: ChatModel;
  executor: Executor;
  system: string | undefined;
  /** The conversation before this input. */
  earlier: readonly ChatMessage[];
  input: string;
  maxReplans: number;
  signal: AbortSignal | undefined;
  /** The model's stream for a step (watched by the turn's instrumentation). */
  streamModel(request: ChatModelRequest, step: number): AsyncIterable<ChatModelEvent>;
  /** What a step's run is called, for people. */
  runName(step: number): string;
  /** The agent's limits for each step's run. */
  limits: Pick<RunOptions, "maxConcurrency" | "parallel">;
  onText(step: number, text: string): void;
  /** A task of the plan as its line ends, or a line that can't run. */
  onPlanLine(step: number, line: Extract<PlanLine, { kind: "task" | "invalid" }>): void;
  /** `runOf` gives the step's Volley run, for deciding approvals. */
  onRunEvent(step: number, event: RunEvent, runOf: () => LiveRun): void;
  onStep(step: AgentStep): void;
}

function plannerPrompt(executor: Executor, system: string | undefined): string {
  const tools = executor.tools
    .map(
      (tool) =>
        `- ${tool.name}: ${tool.description ?? ""} Arguments (JSON Schema): ${JSON.stringify(toolJsonSchema(tool))}`,
    )
    .join("\n");
  return [
    system,
    "Write a plan that answers the user with these tools. One task per line, numbered from 1:",
    '`n. tool_name({"argument": value})`. To pass task k\'s output as an argument, write the string "$k" as the whole value;',
    'for a field inside it, "$k.field" (and "$k.items[0].title" deeper in).',
    "Tasks run in parallel as soon as their inputs are ready. End the plan with a line `join()`.",
    `Tools:\n${tools}`,
  ]
    .filter((part) => part !== undefined)
    .join("\n");
}

const JOINER_PROMPT =
  "You get the user's question, the plan that was run, and each task's result. If the results answer the question, reply `FINAL: ` and the answer. If they don't, reply `REPLAN: ` and what is missing.";

function describeResults(results: readonly ToolResult[], problems: readonly string[]): string {
  const lines = results.map(
    (result) =>
      `${result.id} ${result.name}: ${result.ok ? resultText(result) : `failed (${result.error?.type}): ${resultText(result)}`}`,
  );
  return [...lines, ...problems.map((problem) => `plan problem: ${problem}`)].join("\n");
}

async function streamText(
  context: PlanContext,
  step: number,
  messages: readonly ChatMessage[],
  onLine?: (line: string) => void,
): Promise<{ text: string; usage: TokenUsage | undefined }> {
  let text = "";
  let usage: TokenUsage | undefined;
  const splitter = new LineSplitter();
  for await (const event of context.streamModel({ messages, tools: [], signal: context.signal }, step)) {
    if (event.type === "text-delta") {
      text += event.text;
      context.onText(step, event.text);
      if (onLine) for (const line of splitter.push(event.text)) onLine(line);
    } else if (event.type === "finish") {
      usage = event.usage;
    }
  }
  if (onLine) for (const line of splitter.flush()) onLine(line);
  return { text, usage };
}

/**
 * Plan and execute (after LLMCompiler): the model writes a whole plan, each task joins the run
 * the moment its line is complete and starts as soon as its inputs exist, then a joiner answers
 * or asks to replan. Malformed lines, unknown tools, references to missing tasks and cycles are
 * shown to the joiner; nothing waits forever.
 */
export async function runPlanMode(
  context: PlanContext,
): Promise<{ answer: string; finish: "answer" | "max-steps" | "timeout" }> {
  const base: ChatMessage[] = [
    { role: "system", content: plannerPrompt(context.executor, context.system) },
    ...context.earlier,
    { role: "user", content: context.input },
  ];
  let feedback: ChatMessage[] = [];
  let step = 0;
  for (let attempt = 0; attempt <= context.maxReplans; attempt++) {
    context.signal?.throwIfAborted();
    step++;
    const planStarted = performance.now();
    const planStartedAt = epochNow();
    const planStep = step;
    const run: LiveRun = context.executor.start({
      ...context.limits,
      name: context.runName(planStep),
      onEvent: (event) => context.onRunEvent(planStep, event, () => run),
      ...(context.signal ? { signal: context.signal } : {}),
    });
    const problems: string[] = [];
    let joined = false;
    let plan: { text: string; usage: TokenUsage | undefined };
    try {
      plan = await streamText(context, step, [...base, ...feedback], (line) => {
        if (joined) return;
        const parsed = parsePlanLine(line);
        if (parsed.kind === "join") joined = true;
        else if (parsed.kind === "invalid") {
          problems.push(`${parsed.line}: ${parsed.reason}`);
          context.onPlanLine(planStep, parsed);
        } else if (parsed.kind === "task") {
          context.onPlanLine(planStep, parsed);
          run.add(parsed.call); // starts now, while the plan is still being written
        }
      });
    } finally {
      run.end();
    }
    const planEndedAt = epochNow();
    const executed = await run.result;
    context.onStep({
      text: plan.text,
      run: executed,
      usage: plan.usage,
      durationMs: performance.now() - planStarted,
      figures: stepFigures(executed, planStartedAt, planEndedAt),
    });

    step++;
    const joinStarted = performance.now();
    const joinerMessages: ChatMessage[] = [
      { role: "system", content: JOINER_PROMPT },
      { role: "user", content: context.input },
      { role: "assistant", content: plan.text },
      {
        role: "user",
        content: `Results:\n${describeResults(executed.results, problems) || "(the plan had no tasks)"}`,
      },
    ];
    const joiner = await streamText(context, step, joinerMessages);
    context.onStep({
      text: joiner.text,
      run: undefined,
      usage: joiner.usage,
      durationMs: performance.now() - joinStarted,
      figures: undefined,
    });
    const verdict = joiner.text.trim();
    if (!/^REPLAN\b/i.test(verdict)) return { answer: verdict.replace(/^FINAL:\s*/i, ""), finish: "answer" };
    feedback = [
      { role: "assistant", content: plan.text },
      {
        role: "user",
        content: `That plan did not answer the question (${verdict.replace(/^REPLAN:\s*/i, "")}). Results so far:\n${describeResults(executed.results, problems)}\nWrite a new plan, numbering tasks from 1.`,
      },
    ];
  }
  return { answer: "", finish: "max-steps" };
}
