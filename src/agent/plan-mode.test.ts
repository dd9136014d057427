import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { defineTool } from "../index.ts";
import { deferred, startMockOpenAI, type MockOpenAIServer } from "../testing/index.ts";
import { createAgent, openaiModel, type AgentResult, type ChatModel, type ChatModelEvent } from "./index.ts";

let mock: MockOpenAIServer | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

const weather = defineTool({
  name: "weather",
  description: "Temperature of a city",
  input: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  execute: (args) => ({ city: args.city, temperature: args.city === "Oslo" ? 2 : 24 }),
});
const compare = defineTool({
  name: "compare",
  execute: (args) =>
    (args.a as { temperature: number }).temperature > (args.b as { temperature: number }).temperature
      ? "a is warmer"
      : "b is warmer",
});
const modelOn = (server: MockOpenAIServer): ChatModel =>
  openaiModel({ client: new OpenAI({ baseURL: server.baseURL, apiKey: "none", maxRetries: 0 }), model: "mock" });

/** A model that streams the given lines, waiting before each for what the test says. */
function scriptedPlanner(lines: { text: string; before?: Promise<unknown> }[], joiner: string): ChatModel {
  return {
    async *stream({ messages }): AsyncGenerator<ChatModelEvent> {
      const isJoiner = messages[0]?.role === "system" && messages[0].content.startsWith("You get the user's question");
      if (isJoiner) {
        yield { type: "text-delta", text: joiner };
      } else {
        for (const line of lines) {
          await line.before;
          yield { type: "text-delta", text: `${line.text}\n` };
        }
      }
      yield { type: "finish", reason: "stop", usage: undefined };
    },
  };
}

describe("plan mode", () => {
  it("runs a streamed plan with $n references, then lets the joiner answer", async () => {
    mock = await startMockOpenAI({
      tokensPerSecond: 5000,
      script: [
        {
          content:
            'Plan:\n1. weather({"city": "Oslo"})\n2. weather({"city": "Rome"})\n3. compare({"a": "$1", "b": "$2"})\njoin()\n',
        },
        { content: "FINAL: Rome is warmer." },
      ],
    });
    const result = await createAgent({ model: modelOn(mock), tools: [weather, compare], mode: "plan" }).run(
      "Which is warmer, Oslo or Rome?",
    );
    expect(result).toMatchObject({ answer: "Rome is warmer.", finish: "answer" });
    expect(result.steps.map((step) => step.run?.results.map((item) => [item.id, item.output]))).toEqual([
      [
        ["task1", { city: "Oslo", temperature: 2 }],
        ["task2", { city: "Rome", temperature: 24 }],
        ["task3", "b is warmer"],
      ],
      undefined,
    ]);
    const planPrompt = (mock.requests[0]?.messages?.[0] as { content: string }).content;
    expect(planPrompt).toContain("- weather: Temperature of a city");
    const joinerInput = (mock.requests[1]?.messages?.at(-1) as { content: string }).content;
    expect(joinerInput).toContain("task3 compare: b is warmer");
  });

  it("passes a field of a task's output when the plan names one", async () => {
    const double = defineTool({
      name: "double",
      input: { type: "object", properties: { n: { type: "number" } }, required: ["n"] },
      execute: (args) => Number(args.n) * 2,
    });
    const model = scriptedPlanner(
      [{ text: '1. weather({"city": "Rome"})' }, { text: '2. double({"n": "$1.temperature"})' }, { text: "join()" }],
      "FINAL: 48",
    );
    const result = await createAgent({ model, tools: [weather, double], mode: "plan" }).run(
      "Twice Rome's temperature?",
    );
    expect(result.steps[0]?.run?.results.map((item) => [item.id, item.ok, item.output])).toEqual([
      ["task1", true, { city: "Rome", temperature: 24 }],
      ["task2", true, 48],
    ]);
  });

  it("starts each task as its line completes, and dependents while the plan is still streaming", async () => {
    const firstStarted = deferred<void>();
    const secondStarted = deferred<void>();
    const probe = defineTool({
      name: "probe",
      execute: (args) => {
        if (args.n === 1) firstStarted.resolve();
        if (args.n === 2) secondStarted.resolve();
        return args.n;
      },
    });
    const model = scriptedPlanner(
      [
        { text: '1. probe({"n": 1})' },
        // Line 2 is written only after task 1 has started; it depends on task 1's output.
        { text: '2. probe({"n": 2, "after": "$1"})', before: firstStarted.promise },
        // Line 3 only after task 2 started, which needed task 1 finished: all while streaming.
        { text: '3. probe({"n": 3})', before: secondStarted.promise },
        { text: "join()" },
      ],
      "FINAL: done",
    );
    const result = await createAgent({ model, tools: [probe], mode: "plan" }).run("go");
    expect(result.answer).toBe("done");
    expect(result.steps[0]?.run?.results.map((item) => item.output)).toEqual([1, 2, 3]);
  });

  it("shows malformed lines, unknown tools, missing tasks and cycles to the joiner, and never hangs", async () => {
    let joinerSaw = "";
    const model = scriptedPlanner(
      [
        { text: '1. weather({"city": })' },
        { text: '2. forecast({"city": "Oslo"})' },
        { text: '3. compare({"a": "$9", "b": "$9"})' },
        { text: '4. compare({"a": "$5", "b": "$5"})' },
        { text: '5. compare({"a": "$4", "b": "$4"})' },
        { text: "join()" },
        { text: '6. weather({"city": "ignored after join"})' },
      ],
      "FINAL: could not tell",
    );
    const watching: ChatModel = {
      async *stream(request) {
        if (request.messages.at(-1)?.content?.startsWith("Results:"))
          joinerSaw = request.messages.at(-1)?.content ?? "";
        yield* model.stream(request);
      },
    };
    const planEvents: unknown[] = [];
    let result: AgentResult | undefined;
    for await (const event of createAgent({ model: watching, tools: [weather, compare], mode: "plan" }).stream("?")) {
      if (event.type === "plan-task") planEvents.push([event.callId, event.name, event.args]);
      else if (event.type === "plan-problem") planEvents.push([event.line, event.reason]);
      else if (event.type === "answer") result = event.result;
    }
    expect(planEvents).toEqual([
      ['1. weather({"city": })', expect.stringContaining("JSON") as unknown],
      ["task2", "forecast", { city: "Oslo" }],
      ["task3", "compare", { a: { $ref: "task9" }, b: { $ref: "task9" } }],
      ["task4", "compare", { a: { $ref: "task5" }, b: { $ref: "task5" } }],
      ["task5", "compare", { a: { $ref: "task4" }, b: { $ref: "task4" } }],
    ]);
    if (result === undefined) throw new Error("no answer");
    expect(result.answer).toBe("could not tell");
    expect(result.steps[0]?.run?.results.map((item) => [item.id, item.error?.type])).toEqual([
      ["task2", "unknown_tool"],
      ["task3", "invalid_reference"],
      ["task4", "cycle"],
      ["task5", "cycle"],
    ]);
    expect(joinerSaw).toContain("plan problem: 1. weather");
    expect(joinerSaw).toContain("task2 forecast: failed (unknown_tool)");
  });

  it("replans when the joiner asks, within maxReplans", async () => {
    mock = await startMockOpenAI({
      script: (request) => {
        const last = (request.messages?.at(-1) as { content: string }).content;
        if (last.startsWith("Results:"))
          return { content: last.includes("Rome") ? "FINAL: both known" : "REPLAN: Rome is missing" };
        return {
          content: last.startsWith("That plan")
            ? '1. weather({"city": "Rome"})\njoin()'
            : '1. weather({"city": "Oslo"})\njoin()',
        };
      },
    });
    const result = await createAgent({ model: modelOn(mock), tools: [weather], mode: "plan" }).run("Oslo and Rome?");
    expect(result).toMatchObject({ answer: "both known", finish: "answer" });
    expect(result.steps).toHaveLength(4);

    await mock.close();
    mock = await startMockOpenAI({
      script: (request) => ({
        content: (request.messages?.at(-1) as { content: string }).content.startsWith("Results:")
          ? "REPLAN: never enough"
          : '1. weather({"city": "Oslo"})\njoin()',
      }),
    });
    const endless = await createAgent({ model: modelOn(mock), tools: [weather], mode: "plan", maxReplans: 2 }).run("?");
    expect(endless).toMatchObject({ finish: "max-steps", answer: "" });
    expect(endless.steps).toHaveLength(6);
  });
});
