import OpenAI from "openai";
import { createExecutor, defineTool, openaiChat, type ToolResult } from "volley";
import { createAgent, openaiModel, type AgentResult } from "volley/agent";
import { startMockOpenAI, type MockRequest, type MockTurn } from "volley/testing";
import { readEventStream } from "../src/server/dashboard/event-stream.js";
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

/** The issue's scenarios, drawn from `random` (seed 7 gives the ones measured). */
export function agentScenarios(random: () => number = seededRandom(7)): AgentScenario[] {
  const fanOut = (name: string, medianMs: number): AgentScenario => ({
    name,
    tasks: Array.from({ length: 8 }, (_, i) => ({
      id: `s${i}`,
      tool: "search" as const,
      latencyMs: logNormal(random, medianMs, 0.5, 50, 20_000),
      needs: [],
    })),
  });
  const chain = (branches: number): AgentScenario => {
    const searches = Array.from({ length: branches }, (_, i) => ({
      id: `s${i}`,
      tool: "search" as const,
      latencyMs: logNormal(random, 800, 0.5, 50, 20_000),
      needs: [],
    }));
    return {
      name: `${branches}-branch chain`,
      tasks: [
        ...searches,
        {
          id: "m",
          tool: "math",
          latencyMs: logNormal(random, 200, 0.5, 20, 5_000),
          needs: searches.map((task) => task.id),
        },
      ],
    };
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
    defineTool({
      name,
      execute: async (args: Record<string, unknown>) => {
        await new Promise((resolve) => setTimeout(resolve, latency.get(String(args.task)) ?? 100));
        return `${name} result for ${String(args.task)}`;
      },
    });
  return [make("search"), make("math")];
}

const callOf = (task: Task) => ({
  name: task.tool,
  arguments: { task: task.id, note: words(20, "x") },
  tokens: CALL_TOKENS,
});
const assistantSteps = (request: MockRequest): number =>
  (request.messages ?? []).filter((message) => (message as { role: string }).role === "assistant").length;

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

const durationsOf = (results: readonly ToolResult[]): Map<string, number> =>
  new Map(results.map((result) => [String((result.output as string).split(" for ")[1]), result.durationMs]));

type Durations = ReadonlyMap<string, number>;
const durationOf = (durations: Durations, task: Task): number => durations.get(task.id) ?? 0;

/** One call per step, a thought before each, then the answer. */
function sequentialIdealMs(scenario: AgentScenario, durations: Durations): number {
  return (
    waves(scenario.tasks)
      .flat()
      .reduce((sum, task) => sum + writeMs(THOUGHT_TOKENS + CALL_TOKENS) + durationOf(durations, task), 0) +
    writeMs(ANSWER_TOKENS)
  );
}

/** Each wave's whole message, then its slowest call. */
function waitForAllIdealMs(scenario: AgentScenario, durations: Durations): number {
  return (
    waves(scenario.tasks).reduce(
      (sum, wave) =>
        sum + writeMs(wave.length * CALL_TOKENS) + Math.max(...wave.map((task) => durationOf(durations, task))),
      0,
    ) + writeMs(ANSWER_TOKENS)
  );
}

/** Each call starting the moment the stream has written it. */
function eagerIdealMs(scenario: AgentScenario, durations: Durations): number {
  return (
    waves(scenario.tasks).reduce((sum, wave) => {
      const written = wave.map((_, i) => writeMs((i + 1) * CALL_TOKENS));
      return (
        sum + Math.max(written.at(-1) ?? 0, ...wave.map((task, i) => (written[i] ?? 0) + durationOf(durations, task)))
      );
    }, 0) + writeMs(ANSWER_TOKENS)
  );
}

/** The plan the scripted model writes: a line per task, `$n` for the outputs it needs, then join(). */
function planTextOf(scenario: AgentScenario): string {
  const line = (task: Task, i: number): string => {
    const inputs =
      task.needs.length > 0
        ? `"inputs": [${task.needs.map((need) => `"$${scenario.tasks.findIndex((other) => other.id === need) + 1}"`).join(", ")}], `
        : "";
    return `${i + 1}. ${task.tool}({"task": "${task.id}", ${inputs}"note": "${words(CALL_TOKENS - 6 - task.needs.length, "x")}"})`;
  };
  return `${scenario.tasks.map(line).join("\n")}\njoin()`;
}

/** Each task starting when its line is written and its inputs exist; the joiner after the last. */
function planIdealMs(scenario: AgentScenario, durations: Durations): number {
  const lineEnds: number[] = [];
  let tokensSoFar = 0;
  for (const line of planTextOf(scenario).split("\n")) {
    tokensSoFar += line.split(/\s+/).filter(Boolean).length;
    lineEnds.push(writeMs(tokensSoFar));
  }
  const finished = new Map<string, number>();
  scenario.tasks.forEach((task, i) => {
    const ready = Math.max(lineEnds[i] ?? 0, ...task.needs.map((need) => finished.get(need) ?? 0));
    finished.set(task.id, ready + durationOf(durations, task));
  });
  return Math.max(lineEnds.at(-1) ?? 0, ...finished.values()) + writeMs(ANSWER_TOKENS);
}

export interface AgentCeiling {
  scenario: string;
  draws: number;
  /** Mean over the draws of the sequential loop's ideal ÷ plan mode's ideal. */
  planOverSequential: number;
  /** Mean over the draws of wait-for-all's ideal ÷ eager's ideal. */
  eagerOverWaitForAll: number;
}

/**
 * What a perfect scheduler would reach, averaged over many draws of the scenarios' tool
 * latencies, with the same pacing and the same ideals as the measured runs. A speed-up target
 * above these ceilings is out of any scheduler's reach: the model's own writing sets it.
 */
export function agentCeilings(draws: number): AgentCeiling[] {
  const random = seededRandom(11);
  const sums = new Map<string, { plan: number; eager: number }>();
  for (let draw = 0; draw < draws; draw++) {
    for (const scenario of agentScenarios(random)) {
      const durations = new Map(scenario.tasks.map((task) => [task.id, task.latencyMs]));
      const sum = sums.get(scenario.name) ?? { plan: 0, eager: 0 };
      sum.plan += sequentialIdealMs(scenario, durations) / planIdealMs(scenario, durations);
      sum.eager += waitForAllIdealMs(scenario, durations) / eagerIdealMs(scenario, durations);
      sums.set(scenario.name, sum);
    }
  }
  return [...sums].map(([scenario, sum]) => ({
    scenario,
    draws,
    planOverSequential: sum.plan / draws,
    eagerOverWaitForAll: sum.eager / draws,
  }));
}

export async function measureAgentScenario(scenario: AgentScenario): Promise<AgentScenarioFigures> {
  const tools = toolsFor(scenario);
  const stepsOf = waves(scenario.tasks);
  const answer: MockTurn = { content: words(ANSWER_TOKENS, "done") };
  const client = (baseURL: string) => new OpenAI({ baseURL, apiKey: "none", maxRetries: 0 });
  const pacing = { timeToFirstTokenMs: TTFT_MS, tokensPerSecond: TOKENS_PER_SECOND };

  // Sequential: one call per step, a thought before each.
  const sequentialOrder = stepsOf.flat();
  const sequentialMock = await startMockOpenAI({
    ...pacing,
    script: (request) => {
      const step = assistantSteps(request);
      const task = sequentialOrder[step];
      return task ? { content: words(THOUGHT_TOKENS, "think"), toolCalls: [callOf(task)] } : answer;
    },
  });
  const sequential = await timed(() =>
    createAgent({
      model: openaiModel({ client: client(sequentialMock.baseURL), model: "mock" }),
      tools,
      maxSteps: 20,
    }).run("go"),
  );
  await sequentialMock.close();
  const sequentialIdeal = sequentialIdealMs(
    scenario,
    new Map(sequential.value.steps.flatMap((step) => [...durationsOf(step.run?.results ?? [])])),
  );

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
      const message = (
        await client(waitMock.baseURL)
          .chat.completions.stream({ model: "mock", messages, tools: openaiChat.tools(tools) })
          .finalChatCompletion()
      ).choices[0]?.message as OpenAI.ChatCompletionMessage;
      if (!message.tool_calls?.length) return message.content;
      const { results } = await executor.run(openaiChat.calls(message));
      for (const [task, ms] of durationsOf(results)) waitDurations.set(task, ms);
      messages.push(message, ...openaiChat.messages(results));
    }
  });
  await waitMock.close();
  const waitIdeal = waitForAllIdealMs(scenario, waitDurations);

  // Volley eager: the same model, calls started as they complete in the stream.
  const eagerMock = await startMockOpenAI({ ...pacing, script: waveScript });
  const eager = await timed(() =>
    createAgent({ model: openaiModel({ client: client(eagerMock.baseURL), model: "mock" }), tools }).run("go"),
  );
  await eagerMock.close();
  const eagerIdeal = eagerIdealMs(
    scenario,
    new Map(eager.value.steps.flatMap((step) => [...durationsOf(step.run?.results ?? [])])),
  );

  // Volley plan mode: every task in one plan, then a joiner.
  const planText = planTextOf(scenario);
  const planMock = await startMockOpenAI({
    ...pacing,
    script: (request) =>
      ((request.messages?.at(-1) as { content?: string }).content ?? "").startsWith("Results:")
        ? { content: `FINAL: ${words(ANSWER_TOKENS - 1, "done")}` }
        : { content: planText },
  });
  const plan = await timed(() =>
    createAgent({ model: openaiModel({ client: client(planMock.baseURL), model: "mock" }), tools, mode: "plan" }).run(
      "go",
    ),
  );
  await planMock.close();
  const planIdeal = planIdealMs(scenario, durationsOf(plan.value.steps[0]?.run?.results ?? []));

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

export interface ServedTurnFigures {
  scenario: string;
  inProcess: { firstToolStartMs: number; answerMs: number };
  served: { firstToolStartMs: number; answerMs: number };
}

/** The JSON of each server-sent event's data, as it arrives. */
async function* sseData(response: Response): AsyncGenerator<{ type: string }> {
  for await (const event of readEventStream(response)) yield JSON.parse(event.data) as { type: string };
}

/**
 * One eager turn twice: read in process from `agent.stream`, and served by `startServer` to a
 * client over HTTP (server-sent events). Times are from the request to the first
 * `tool-call-start` and to the `answer`.
 */
export async function measureServedTurn(scenario: AgentScenario): Promise<ServedTurnFigures> {
  const { startServer } = await import("volley/server");
  const { MemoryRunStore } = await import("volley/store");
  const tools = toolsFor(scenario);
  const stepsOf = waves(scenario.tasks);
  const answer: MockTurn = { content: words(ANSWER_TOKENS, "done") };
  const script = (request: MockRequest): MockTurn => {
    const wave = stepsOf[assistantSteps(request)];
    return wave ? { toolCalls: wave.map(callOf) } : answer;
  };
  const pacing = { timeToFirstTokenMs: TTFT_MS, tokensPerSecond: TOKENS_PER_SECOND };
  const agentOn = (baseURL: string, executor = createExecutor({ tools }), store = new MemoryRunStore()) =>
    createAgent({
      model: openaiModel({ client: new OpenAI({ baseURL, apiKey: "none", maxRetries: 0 }), model: "mock" }),
      executor,
      store,
    });

  const local = await startMockOpenAI({ ...pacing, script });
  const inProcess = { firstToolStartMs: Number.NaN, answerMs: Number.NaN };
  let started = performance.now();
  for await (const event of agentOn(local.baseURL).stream("go", { conversationId: "bench" })) {
    if (event.type === "tool-call-start" && Number.isNaN(inProcess.firstToolStartMs))
      inProcess.firstToolStartMs = performance.now() - started;
    if (event.type === "answer") inProcess.answerMs = performance.now() - started;
  }
  await local.close();

  const remote = await startMockOpenAI({ ...pacing, script });
  const store = new MemoryRunStore();
  const executor = createExecutor({ tools, history: store });
  const server = await startServer({ executor, store, agent: agentOn(remote.baseURL, executor, store), port: 0 });
  const served = { firstToolStartMs: Number.NaN, answerMs: Number.NaN };
  started = performance.now();
  const response = await fetch(new URL("/api/conversations/bench/messages", server.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ content: "go" }),
  });
  for await (const event of sseData(response)) {
    if (event.type === "tool-call-start" && Number.isNaN(served.firstToolStartMs))
      served.firstToolStartMs = performance.now() - started;
    if (event.type === "answer") served.answerMs = performance.now() - started;
  }
  await server.close();
  await remote.close();
  if (Number.isNaN(inProcess.answerMs) || Number.isNaN(served.answerMs))
    throw new Error(`${scenario.name}: a turn did not answer`);
  return { scenario: scenario.name, inProcess, served };
}

export interface PositionalChainFigures {
  scenario: string;
  /** Model requests the turn took: the tool steps and the answer. */
  modelTurns: number;
  wallMs: number;
}

/**
 * A chain scenario in tools mode with references by position: the model asks for every task in
 * one message, the dependent one taking the others' outputs as `{ "$ref": n }`, so the turn
 * needs one tool step where the eager loop needs two.
 */
export async function measurePositionalChain(scenario: AgentScenario): Promise<PositionalChainFigures> {
  const tools = toolsFor(scenario);
  const position = (id: string): number => scenario.tasks.findIndex((task) => task.id === id) + 1;
  const oneMessage: MockTurn = {
    toolCalls: scenario.tasks.map((task) => ({
      ...callOf(task),
      arguments: {
        task: task.id,
        ...(task.needs.length > 0 ? { inputs: task.needs.map((need) => ({ $ref: position(need) })) } : {}),
        note: words(20, "x"),
      },
    })),
  };
  const answer: MockTurn = { content: words(ANSWER_TOKENS, "done") };
  const mock = await startMockOpenAI({
    timeToFirstTokenMs: TTFT_MS,
    tokensPerSecond: TOKENS_PER_SECOND,
    script: (request) => (assistantSteps(request) === 0 ? oneMessage : answer),
  });
  const agent = createAgent({
    model: openaiModel({ client: new OpenAI({ baseURL: mock.baseURL, apiKey: "none", maxRetries: 0 }), model: "mock" }),
    tools,
    positionalReferences: true,
  });
  const run = await timed(() => agent.run("go"));
  await mock.close();
  const failed = run.value.steps.flatMap((step) => step.run?.results ?? []).filter((result) => !result.ok);
  if (run.value.finish !== "answer" || failed.length > 0)
    throw new Error(`${scenario.name}: the positional turn did not answer cleanly`);
  return { scenario: scenario.name, modelTurns: mock.requests.length, wallMs: run.ms };
}

/** Model requests the eager loop makes for a scenario: one per wave of tasks, then the answer. */
export const eagerModelRequests = (scenario: AgentScenario): number => waves(scenario.tasks).length + 1;
