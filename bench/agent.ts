import OpenAI from "openai";
import { createExecutor, defineTool, openaiChat, type ToolResult } from "volley";
import { createAgent, openaiModel, type AgentResult } from "volley/agent";
import { startMockOpenAI, type MockRequest, type MockTurn } from "volley/testing";
import { logNormal, seededRandom } from "./random.ts";

/** The issue's fixed pacing, so that figures compare across changes. */
const TTFT_MS = 400;
const TOKENS_PER_SECOND = 40;
const CALL_TOKENS = 30;
const THOUGHT_TOKENS = 20;
const ANSWER_TOKENS = 60;

const words = (count: number, word = "w"): string => Array.from({ length: count }, () => word).join(" ");
/** Time for the model to write `tokens` tokens, first token after TTFT. */
const writeMs = (tokens: number): number => TTFT_MS + ((tokens - 1) * 1000) / TOKENS_PER_SECOND;

interface Task {
  id: string;
  tool: "search" | "math";
  latencyMs: number;
  /** Tasks whose output this one needs. */
  needs: string[];
}

export interface AgentScenario {
  name: string;
  tasks: Task[];
}

export function agentScenarios(): AgentScenario[] {
  const random = seededRandom(7);
  const fanOut = (name: string, medianMs: number): AgentScenario => ({
    name,
    tasks: Array.from({ length: 8 }, (_, i) => ({ id: `s${i}`, tool: "search" as const, latencyMs: logNormal(random, medianMs, 0.5, 50, 20_000), needs: [] })),
  });
  const chain = (branches: number): AgentScenario => {
    const searches = Array.from({ length: branches }, (_, i) => ({ id: `s${i}`, tool: "search" as const, latencyMs: logNormal(random, 800, 0.5, 50, 20_000), needs: [] }));
    return { name: `${branches}-branch chain`, tasks: [...searches, { id: "m", tool: "math", latencyMs: logNormal(random, 200, 0.5, 20, 5_000), needs: searches.map((task) => task.id) }] };
  };
  return [fanOut("8-way fan-out", 600), fanOut("8-way fan-out, slow tools", 2000), chain(2), chain(3), chain(5)];
}

/** Waves of tasks a tool-calling model must ask for in separate steps: a task needs the step before. */
function waves(tasks: readonly Task[]): Task[][] {
  const independent = tasks.filter((task) => task.needs.length === 0);
  const dependent = tasks.filter((task) => task.needs.length > 0);
  return dependent.length > 0 ? [independent, dependent] : [independent];
}

function toolsFor(scenario: AgentScenario): ReturnType<typeof defineTool>[] {
  const latency = new Map(scenario.tasks.map((task) => [task.id, task.latencyMs]));
  const make = (name: string) =>
    defineTool({ name, execute: async (args: Record<string, unknown>) => {
      await new Promise((resolve) => setTimeout(resolve, latency.get(String(args.task)) ?? 100));
      return `${name} result for ${String(args.task)}`;
    } });
  return [make("search"), make("math")];
}

const callOf = (task: Task) => ({ name: task.tool, arguments: { task: task.id, note: words(20, "x") }, tokens: CALL_TOKENS });
const assistantSteps = (request: MockRequest): number => (request.messages ?? []).filter((message) => (message as { role: string }).role === "assistant").length;

export interface AgentLoopFigures {
  wallMs: number;
  idealMs: number;
}

export interface AgentScenarioFigures {
  scenario: string;
  sequential: AgentLoopFigures;
  waitForAll: AgentLoopFigures;
  eager: AgentLoopFigures;
  plan: AgentLoopFigures;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

const durationsOf = (results: readonly ToolResult[]): Map<string, number> => new Map(results.map((result) => [String((result.output as string).split(" for ")[1]), result.durationMs]));

export async function measureAgentScenario(scenario: AgentScenario): Promise<AgentScenarioFigures> {
  const tools = toolsFor(scenario);
  const stepsOf = waves(scenario.tasks);
  const answer: MockTurn = { content: words(ANSWER_TOKENS, "done") };
  const client = (baseURL: string) => new OpenAI({ baseURL, apiKey: "none", maxRetries: 0 });
  const pacing = { timeToFirstTokenMs: TTFT_MS, tokensPerSecond: TOKENS_PER_SECOND };

  // Sequential: one call per step, a thought before each.
  const sequentialOrder = stepsOf.flat();
  const sequentialMock = await startMockOpenAI({ ...pacing, script: (request) => {
    const step = assistantSteps(request);
    const task = sequentialOrder[step];
    return task ? { content: words(THOUGHT_TOKENS, "think"), toolCalls: [callOf(task)] } : answer;
  } });
  const sequential = await timed(() => createAgent({ model: openaiModel({ client: client(sequentialMock.baseURL), model: "mock" }), tools, maxSteps: 20 }).run("go"));
  await sequentialMock.close();
  const sequentialDurations = new Map(sequential.value.steps.flatMap((step) => [...durationsOf(step.run?.results ?? [])]));
  const sequentialIdeal = sequentialOrder.reduce((sum, task) => sum + writeMs(THOUGHT_TOKENS + CALL_TOKENS) + (sequentialDurations.get(task.id) ?? 0), 0) + writeMs(ANSWER_TOKENS);

  // One step per wave, all of its calls in one message.
  const waveScript = (request: MockRequest): MockTurn => {
    const wave = stepsOf[assistantSteps(request)];
    return wave ? { toolCalls: wave.map(callOf) } : answer;
  };

  // Wait-for-all: the whole message, then every call at once.
  const waitMock = await startMockOpenAI({ ...pacing, script: waveScript });
  const executor = createExecutor({ tools });
  const waitDurations = new Map<string, number>();
  const waitForAll = await timed(async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "go" }];
    for (;;) {
      const message = (await client(waitMock.baseURL).chat.completions.stream({ model: "mock", messages, tools: openaiChat.tools(tools) }).finalChatCompletion()).choices[0]?.message as OpenAI.ChatCompletionMessage;
      if (!message.tool_calls?.length) return message.content;
      const { results } = await executor.run(openaiChat.calls(message));
      for (const [task, ms] of durationsOf(results)) waitDurations.set(task, ms);
      messages.push(message, ...openaiChat.messages(results));
    }
  });
  await waitMock.close();
  const waitIdeal = stepsOf.reduce((sum, wave) => sum + writeMs(wave.length * CALL_TOKENS) + Math.max(...wave.map((task) => waitDurations.get(task.id) ?? 0)), 0) + writeMs(ANSWER_TOKENS);

  // Volley eager: the same model, calls started as they complete in the stream.
  const eagerMock = await startMockOpenAI({ ...pacing, script: waveScript });
  const eager = await timed(() => createAgent({ model: openaiModel({ client: client(eagerMock.baseURL), model: "mock" }), tools }).run("go"));
  await eagerMock.close();
  const eagerDurations = new Map(eager.value.steps.flatMap((step) => [...durationsOf(step.run?.results ?? [])]));
  const eagerIdeal =
    stepsOf.reduce((sum, wave) => {
      const written = wave.map((_, i) => writeMs((i + 1) * CALL_TOKENS));
      return sum + Math.max(written.at(-1) ?? 0, ...wave.map((task, i) => (written[i] ?? 0) + (eagerDurations.get(task.id) ?? 0)));
    }, 0) + writeMs(ANSWER_TOKENS);

  // Volley plan mode: every task in one plan, then a joiner.
  const planText = `${scenario.tasks.map((task, i) => `${i + 1}. ${task.tool}({"task": "${task.id}", ${task.needs.length > 0 ? `"inputs": [${task.needs.map((need) => `"$${scenario.tasks.findIndex((other) => other.id === need) + 1}"`).join(", ")}], ` : ""}"note": "${words(CALL_TOKENS - 6 - task.needs.length, "x")}"})`).join("\n")}\njoin()`;
  const planMock = await startMockOpenAI({ ...pacing, script: (request) => (((request.messages?.at(-1) as { content?: string }).content ?? "").startsWith("Results:") ? { content: `FINAL: ${words(ANSWER_TOKENS - 1, "done")}` } : { content: planText }) });
  const plan = await timed(() => createAgent({ model: openaiModel({ client: client(planMock.baseURL), model: "mock" }), tools, mode: "plan" }).run("go"));
  await planMock.close();
  const planDurations = durationsOf(plan.value.steps[0]?.run?.results ?? []);
  const lineEnds: number[] = [];
  let tokensSoFar = 0;
  for (const line of planText.split("\n")) {
    tokensSoFar += line.split(/\s+/).filter(Boolean).length;
    lineEnds.push(writeMs(tokensSoFar));
  }
  const finished = new Map<string, number>();
  scenario.tasks.forEach((task, i) => {
    const ready = Math.max(lineEnds[i] ?? 0, ...task.needs.map((need) => finished.get(need) ?? 0));
    finished.set(task.id, ready + (planDurations.get(task.id) ?? 0));
  });
  const planIdeal = Math.max(lineEnds.at(-1) ?? 0, ...finished.values()) + writeMs(ANSWER_TOKENS);

  const check = (result: AgentResult): void => {
    if (result.finish !== "answer") throw new Error(`${scenario.name}: the agent did not answer`);
  };
  check(sequential.value);
  check(eager.value);
  check(plan.value);
  return {
    scenario: scenario.name,
    sequential: { wallMs: sequential.ms, idealMs: sequentialIdeal },
    waitForAll: { wallMs: waitForAll.ms, idealMs: waitIdeal },
    eager: { wallMs: eager.ms, idealMs: eagerIdeal },
    plan: { wallMs: plan.ms, idealMs: planIdeal },
  };
}
