import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { createExecutor, defineTool } from "../index.ts";
import { MemoryRunStore } from "../store/index.ts";
import { deferred, startMockOpenAI, type MockOpenAIServer } from "../testing/index.ts";
import { createAgent, openaiModel, type AgentEvent, type ChatModel, type ChatModelEvent } from "./index.ts";

let mock: MockOpenAIServer | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

const weather = defineTool({
  name: "weather",
  input: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  execute: (args) => ({ city: args.city, temperature: args.city === "Oslo" ? 2 : 24 }),
});

const modelOn = (server: MockOpenAIServer): ChatModel =>
  openaiModel({ client: new OpenAI({ baseURL: server.baseURL, apiKey: "none", maxRetries: 0 }), model: "mock" });

describe("createAgent", () => {
  it("loops model → tools → model against an OpenAI-compatible server, keeping the transcript valid", async () => {
    mock = await startMockOpenAI({
      tokensPerSecond: 2000,
      script: [
        {
          content: "Checking both.",
          toolCalls: [
            { id: "c1", name: "weather", arguments: { city: "Oslo" } },
            { id: "c2", name: "weather", arguments: { city: "Rome" } },
            { id: "c3", name: "wether", arguments: {} },
          ],
        },
        { content: "Oslo is 2°, Rome 24°." },
      ],
    });
    const agent = createAgent({ model: modelOn(mock), tools: [weather], system: "Be brief." });
    const result = await agent.run("Weather in Oslo and Rome?");
    expect(result).toMatchObject({ answer: "Oslo is 2°, Rome 24°.", finish: "answer" });
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]?.run?.results.map((item) => [item.id, item.ok])).toEqual([
      ["c1", true],
      ["c2", true],
      ["c3", false],
    ]);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    const second = mock.requests[1]?.messages ?? [];
    expect(second[0]).toEqual({ role: "system", content: "Be brief." });
    expect(
      second
        .slice(2)
        .map(
          (message) =>
            (message as { role: string; tool_call_id?: string }).tool_call_id ?? (message as { role: string }).role,
        ),
    ).toEqual(["assistant", "c1", "c2", "c3"]);
    expect((second[5] as { content: string }).content).toMatch(/^Error \(unknown_tool\): Unknown tool "wether"/);
  });

  it("answers a call whose arguments a model nested thousands of levels deep, and the turn goes on", async () => {
    const deep = `${'{"city":'.repeat(4000)}"Oslo"${"}".repeat(4000)}`;
    mock = await startMockOpenAI({
      tokensPerSecond: 100_000,
      script: [
        {
          toolCalls: [
            { id: "ok", name: "weather", arguments: { city: "Oslo" } },
            { id: "deep", name: "weather", arguments: deep, tokens: 4 },
          ],
        },
        { content: "Oslo is 2°." },
      ],
    });
    const result = await createAgent({ model: modelOn(mock), tools: [weather] }).run("Weather?");
    expect(result.answer).toBe("Oslo is 2°.");
    expect(result.steps[0]?.run?.results.map((item) => [item.id, item.ok, item.error?.type])).toEqual([
      ["ok", true, undefined],
      ["deep", false, "invalid_arguments"],
    ]);
  });

  it("starts each tool call while the model is still writing the next one", async () => {
    const releaseSecond = deferred<void>();
    const started: string[] = [];
    const model: ChatModel = {
      async *stream({ messages }): AsyncGenerator<ChatModelEvent> {
        if (messages.at(-1)?.role === "tool") {
          yield { type: "text-delta", text: "done" };
          yield { type: "finish", reason: "stop", usage: undefined };
          return;
        }
        yield { type: "tool-call", id: "first", name: "probe", arguments: "{}" };
        await releaseSecond.promise;
        yield { type: "tool-call", id: "second", name: "probe", arguments: "{}" };
        yield { type: "finish", reason: "tool_calls", usage: undefined };
      },
    };
    const probe = defineTool({
      name: "probe",
      execute: (_args, context) => {
        started.push(context.callId);
        if (context.callId === "first") releaseSecond.resolve();
        return "ok";
      },
    });
    const result = await createAgent({ model, tools: [probe] }).run("go");
    // "second" could only be written after "first" had started: the model waited for it.
    expect(started).toEqual(["first", "second"]);
    expect(result.answer).toBe("done");
  });

  it("streams text, tool calls and steps as they happen, the answer last", async () => {
    mock = await startMockOpenAI({
      script: [{ toolCalls: [{ id: "c1", name: "weather", arguments: { city: "Oslo" } }] }, { content: "Cold." }],
    });
    const events: AgentEvent["type"][] = [];
    for await (const event of createAgent({ model: modelOn(mock), tools: [weather] }).stream("Oslo?"))
      events.push(event.type);
    expect(events).toEqual(["tool-call-start", "tool-call-end", "step-end", "text-delta", "step-end", "answer"]);
  });

  it("gives each call's arguments with its start, as the model wrote them", async () => {
    mock = await startMockOpenAI({
      script: [
        {
          toolCalls: [
            { id: "c1", name: "weather", arguments: { city: "Oslo" } },
            { id: "c2", name: "weather", arguments: '{"city": ', tokens: 2 },
          ],
        },
        { content: "Cold." },
      ],
    });
    const starts: unknown[] = [];
    for await (const event of createAgent({ model: modelOn(mock), tools: [weather] }).stream("Oslo?"))
      if (event.type === "tool-call-start") starts.push([event.callId, event.args]);
    // A call whose arguments are not JSON never starts; it is answered invalid_arguments.
    expect(starts).toEqual([["c1", { city: "Oslo" }]]);
  });

  it("runs one turn at a time on a conversation: a second turn meanwhile is refused, and runs once the first ends", async () => {
    const release = deferred<void>();
    const held = defineTool({ name: "held", execute: () => release.promise.then(() => "held") });
    const model: ChatModel = {
      async *stream({ messages }) {
        if (messages.at(-1)?.role === "user")
          yield { type: "tool-call", id: `h${messages.length}`, name: "held", arguments: "{}" };
        else yield { type: "text-delta", text: "done" };
        yield { type: "finish", reason: "stop", usage: undefined };
      },
    };
    const store = new MemoryRunStore();
    const agent = createAgent({ model, tools: [held], store });
    const first = agent.run("one", { conversationId: "busy" });
    await expect.poll(async () => (await store.conversations())[0]?.busy).toBe(true);
    await expect(agent.run("two", { conversationId: "busy" })).rejects.toMatchObject({
      code: "conversation_busy",
      message: expect.stringContaining('Conversation "busy" has a turn running') as unknown,
    });
    release.resolve();
    expect((await first).answer).toBe("done");
    expect((await agent.run("three", { conversationId: "busy" })).answer).toBe("done");
    expect(
      (await store.messages("busy")).filter((item) => (item.message as { role: string }).role === "user"),
    ).toHaveLength(2);
  });

  it("reports a step's figures apart from the model's writing: tools that ran one by one as it wrote bought no speedup, but overlapped it", async () => {
    const ended = new Map<string, ReturnType<typeof deferred<void>>>();
    const doneOf = (id: string) => {
      if (!ended.has(id)) ended.set(id, deferred<void>());
      return ended.get(id) as ReturnType<typeof deferred<void>>;
    };
    const step = defineTool({
      name: "step",
      execute: async (_args, { callId }) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        doneOf(callId).resolve();
        return callId;
      },
    });
    // Each call's arguments end only once the call before has finished: the tools never overlap each other.
    const model: ChatModel = {
      async *stream({ messages }) {
        if (messages.at(-1)?.role === "user") {
          for (const id of ["a", "b", "c"]) {
            yield { type: "tool-call", id, name: "step", arguments: "{}" };
            await doneOf(id).promise;
          }
        } else yield { type: "text-delta", text: "done" };
        yield { type: "finish", reason: "stop", usage: undefined };
      },
    };
    const result = await createAgent({ model, tools: [step] }).run("go");
    const [first] = result.steps;
    const figures = first?.figures;
    const durations = first?.run?.results.map((item) => item.endedAt - item.startedAt) ?? [];
    expect(figures?.toolsSpeedup).toBeCloseTo(1, 9);
    expect(figures?.toolsBusyMs).toBeCloseTo(
      durations.reduce((sum, ms) => sum + ms, 0),
      6,
    );
    // Every call ended before the model finished writing: all their time overlapped its writing.
    expect(figures?.overlapMs).toBeCloseTo(figures?.toolsBusyMs ?? Number.NaN, 6);
    expect(figures?.modelMs).toBeGreaterThanOrEqual(figures?.toolsBusyMs ?? Number.NaN);
    expect(result.steps[1]?.figures).toBeUndefined();
  });

  it("answers the turn even when its instrumentation throws at every hook", async () => {
    mock = await startMockOpenAI({
      script: [{ toolCalls: [{ id: "c1", name: "weather", arguments: { city: "Oslo" } }] }, { content: "Cold." }],
    });
    const broken = {
      turnStart: () => ({
        within: () => {
          throw new Error("within bug");
        },
        modelCall: () => {
          throw new Error("modelCall bug");
        },
        turnEnd: () => {
          throw new Error("turnEnd bug");
        },
      }),
    };
    const result = await createAgent({ model: modelOn(mock), tools: [weather], instrumentation: broken }).run("Oslo?");
    expect(result.answer).toBe("Cold.");
    expect(() =>
      createAgent({ model: modelOn(mock as MockOpenAIServer), tools: [weather], instrumentation: {} as never }),
    ).toThrow("createAgent: expected `instrumentation` to be an AgentInstrumentation");
  });

  it("with positionalReferences, tells the model, and runs a call that takes an earlier one's output in the same step", async () => {
    mock = await startMockOpenAI({
      script: [
        {
          toolCalls: [
            { id: "w1", name: "weather", arguments: { city: "Oslo" } },
            { id: "w2", name: "weather", arguments: { city: { $ref: 1, path: "/city" } } },
          ],
        },
        { content: "Both Oslo." },
      ],
    });
    const result = await createAgent({
      model: modelOn(mock),
      tools: [weather],
      system: "Be brief.",
      positionalReferences: true,
    }).run("Oslo twice?");
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]?.run?.results.map((item) => item.output)).toEqual([
      { city: "Oslo", temperature: 2 },
      { city: "Oslo", temperature: 2 },
    ]);
    const system = (mock.requests[0]?.messages?.[0] as { content: string }).content;
    expect(system).toMatch(/^Be brief\.\n\nWhen a tool call needs the output of another tool call/);
    // The transcript keeps what the model wrote.
    const sent = mock.requests[1]?.messages?.[2] as { tool_calls: { function: { arguments: string } }[] };
    expect(JSON.parse(sent.tool_calls[1]?.function.arguments ?? "{}")).toEqual({ city: { $ref: 1, path: "/city" } });
  });

  it("stops the model and the tools when the reader leaves the stream early", async () => {
    let toolSignal: AbortSignal | undefined;
    const slow = defineTool({
      name: "slow",
      execute: (_args, context) => {
        toolSignal = context.signal;
        return new Promise((resolve) => setTimeout(resolve, 60_000));
      },
    });
    const model: ChatModel = {
      async *stream() {
        yield { type: "tool-call", id: "s1", name: "slow", arguments: "{}" };
        yield { type: "finish", reason: "tool_calls", usage: undefined };
      },
    };
    for await (const event of createAgent({ model, tools: [slow] }).stream("go")) {
      if (event.type === "tool-call-start") break;
    }
    expect(toolSignal?.aborted).toBe(true);
  });

  it("names each step's run by its conversation and question, in the history, where a step that calls no tool leaves none", async () => {
    mock = await startMockOpenAI({
      script: [
        { toolCalls: [{ id: "w", name: "weather", arguments: { city: "Oslo" } }] },
        { toolCalls: [{ id: "w2", name: "weather", arguments: { city: "Rome" } }] },
        { content: "Cold, then warm." },
      ],
    });
    const store = new MemoryRunStore();
    const agent = createAgent({ model: modelOn(mock), tools: [weather], store });
    await agent.run("Oslo, then Rome?", { conversationId: "trip-7" });
    const runs = await store.listRuns();
    expect(runs.map((run) => run.options.name).sort()).toEqual([
      "trip-7 · step 1: Oslo, then Rome?",
      "trip-7 · step 2: Oslo, then Rome?",
    ]);
  });

  it("continues a conversation from the store", async () => {
    mock = await startMockOpenAI({ script: [{ content: "Hello Ada." }, { content: "You are Ada." }] });
    const store = new MemoryRunStore();
    const agent = createAgent({ model: modelOn(mock), tools: [weather], store });
    await agent.run("I am Ada.", { conversationId: "c" });
    expect((await agent.run("Who am I?", { conversationId: "c" })).answer).toBe("You are Ada.");
    expect(mock.requests[1]?.messages).toEqual([
      { role: "user", content: "I am Ada." },
      { role: "assistant", content: "Hello Ada." },
      { role: "user", content: "Who am I?" },
    ]);
    expect((await store.messages("c")).length).toBe(4);
  });

  it("sends the model only as many earlier tokens as its budget holds, counted as it is told", async () => {
    mock = await startMockOpenAI({ script: [{ content: "One." }, { content: "Two." }, { content: "Three." }] });
    const store = new MemoryRunStore();
    const counted: string[] = [];
    const agent = createAgent({
      model: modelOn(mock),
      tools: [weather],
      store,
      maxHistoryTokens: 2,
      countTokens: (message) => {
        counted.push(message.role);
        return 1;
      },
    });
    await agent.run("First?", { conversationId: "budget" });
    await agent.run("Second?", { conversationId: "budget" });
    await agent.run("Third?", { conversationId: "budget" });
    // Two tokens hold the last earlier turn (a question and its answer), never half of one.
    expect(mock.requests[2]?.messages).toEqual([
      { role: "user", content: "Second?" },
      { role: "assistant", content: "Two." },
      { role: "user", content: "Third?" },
    ]);
    expect(counted.length).toBeGreaterThan(0);
  });

  it("sends the model only the newest messages of a long conversation, from a user's message on", async () => {
    mock = await startMockOpenAI({
      script: [
        { content: "One." },
        { toolCalls: [{ id: "w", name: "weather", arguments: { city: "Oslo" } }] },
        { content: "Two." },
        { content: "Three." },
      ],
    });
    const store = new MemoryRunStore();
    const agent = createAgent({ model: modelOn(mock), tools: [weather], store, maxHistoryMessages: 5 });
    await agent.run("First?", { conversationId: "long" });
    await agent.run("Second?", { conversationId: "long" });
    await agent.run("Third?", { conversationId: "long" });
    // Earlier turns: user, assistant; user, assistant (tool call), tool, assistant. The newest five
    // would start at the first turn's answer: the window starts at the next user's message instead.
    const sent = (mock.requests[3]?.messages ?? []) as { role: string; content?: string }[];
    expect(sent.map((message) => message.role)).toEqual(["user", "assistant", "tool", "assistant", "user"]);
    expect(sent[0]?.content).toBe("Second?");
    expect((await store.messages("long")).length).toBe(8);
    expect(() =>
      createAgent({ model: modelOn(mock as MockOpenAIServer), tools: [weather], maxHistoryMessages: 0 }),
    ).toThrow(/maxHistoryMessages.*an integer from 1 and up/);
  });

  it("stops at maxSteps, and when its signal aborts", async () => {
    mock = await startMockOpenAI({ script: () => ({ toolCalls: [{ name: "weather", arguments: { city: "Oslo" } }] }) });
    const bounded = await createAgent({ model: modelOn(mock), tools: [weather], maxSteps: 2 }).run("loop forever");
    expect(bounded).toMatchObject({ finish: "max-steps", answer: "" });
    expect(bounded.steps).toHaveLength(2);
    await expect(
      createAgent({ model: modelOn(mock), tools: [weather] }).run("stop", {
        signal: AbortSignal.abort(new Error("user left")),
      }),
    ).rejects.toThrow("user left");
  });

  it("answers with what was done when its time limit runs out, keeping the calls that ended", async () => {
    const hang = defineTool({
      name: "hang",
      execute: (_args, { signal }) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error))),
    });
    // Step 1 asks for a quick call and one that never ends; the limit cuts the second.
    const stepModel: ChatModel = {
      async *stream(): AsyncGenerator<ChatModelEvent> {
        yield { type: "text-delta", text: "Checking." };
        yield { type: "tool-call", id: "quick", name: "weather", arguments: '{"city":"Oslo"}' };
        yield { type: "tool-call", id: "slow", name: "hang", arguments: "{}" };
        yield { type: "finish", reason: "tool_calls", usage: undefined };
      },
    };
    const store = new MemoryRunStore();
    const result = await createAgent({ model: stepModel, tools: [weather, hang], timeoutMs: 150, store }).run(
      "Weather?",
      { conversationId: "c" },
    );
    expect(result).toMatchObject({ finish: "timeout", answer: "Checking." });
    expect(result.steps[0]?.run?.results.map((item) => [item.id, item.ok, item.error?.type])).toEqual([
      ["quick", true, undefined],
      ["slow", false, "timeout"],
    ]);
    // The conversation stays valid: each call of the step has its result.
    expect((await store.messages("c")).map(({ message }) => (message as { role: string }).role)).toEqual([
      "user",
      "assistant",
      "tool",
      "tool",
    ]);

    // Cut off while the model is still writing: the call it had finished ran, and its text is kept.
    const stalling: ChatModel = {
      async *stream({ signal }): AsyncGenerator<ChatModelEvent> {
        yield { type: "text-delta", text: "Let me think" };
        yield { type: "tool-call", id: "first", name: "weather", arguments: '{"city":"Rome"}' };
        await new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason as Error)));
      },
    };
    const cut = await createAgent({ model: stalling, tools: [weather], timeoutMs: 150 }).run("?");
    expect(cut).toMatchObject({ finish: "timeout", answer: "Let me think" });
    expect(cut.steps[0]?.run?.results).toMatchObject([{ id: "first", ok: true }]);
  });

  it("checks its options", () => {
    const model: ChatModel = { stream: async function* () {} };
    expect(() => createAgent({ model, tools: [weather], maxSteps: 0 })).toThrow(
      "createAgent: expected `maxSteps` to be an integer from 1 and up, got 0 (number)",
    );
    expect(() => createAgent({ model })).toThrow("expected `tools` to be given, or `executor` given instead");
    expect(() => createAgent({ model, tools: [weather], maxStep: 3 } as never)).toThrow(
      "createAgent: unknown option `maxStep`; did you mean `maxSteps`?",
    );
    expect(() => createAgent({ model, tools: [weather], parallel: "no" } as never)).toThrow(
      "createAgent: expected `parallel` to be a boolean",
    );
    const runs = new MemoryRunStore();
    expect(() =>
      createAgent({
        model,
        executor: createExecutor({ tools: [weather], history: runs }),
        store: new MemoryRunStore(),
      }),
    ).toThrow("createAgent: expected `store` to be the store the executor records its runs in");
    expect(
      createAgent({ model, executor: createExecutor({ tools: [weather], history: runs }), store: runs }),
    ).toBeDefined();
  });

  it("runs a step's calls one at a time with parallel: false, and within maxConcurrency otherwise", async () => {
    let running = 0;
    let mostAtOnce = 0;
    const slow = defineTool({
      name: "slow",
      execute: async () => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return "done";
      },
    });
    const fourCalls: ChatModel = {
      async *stream({ messages }): AsyncGenerator<ChatModelEvent> {
        if (messages.at(-1)?.role !== "tool")
          for (let index = 0; index < 4; index++)
            yield { type: "tool-call", id: `s${index}`, name: "slow", arguments: "{}" };
        else yield { type: "text-delta", text: "ok" };
        yield { type: "finish", reason: "stop", usage: undefined };
      },
    };
    await createAgent({ model: fourCalls, tools: [slow], parallel: false }).run("go");
    expect(mostAtOnce).toBe(1);
    mostAtOnce = 0;
    await createAgent({ model: fourCalls, tools: [slow], maxConcurrency: 2 }).run("go");
    expect(mostAtOnce).toBe(2);
    // With an executor of its own, the limits hold for each step's run, within the executor's.
    const executor = createExecutor({ tools: [slow] });
    mostAtOnce = 0;
    await createAgent({ model: fourCalls, executor, parallel: false }).run("go");
    expect(mostAtOnce).toBe(1);
    mostAtOnce = 0;
    await createAgent({ model: fourCalls, executor, maxConcurrency: 3 }).run("go");
    expect(mostAtOnce).toBe(3);
  });
});

describe("openaiModel", () => {
  it("hands on a tool call as soon as the next one starts, and the last at the end", async () => {
    const gate = deferred<void>();
    const seen: string[] = [];
    const chunks = async function* () {
      yield {
        choices: [{ delta: { tool_calls: [{ index: 0, id: "a", function: { name: "t", arguments: '{"x":' } }] } }],
      };
      yield { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: "1}" } }] } }] };
      yield { choices: [{ delta: { tool_calls: [{ index: 1, id: "b", function: { name: "t", arguments: "{}" } }] } }] };
      await gate.promise;
      yield {
        choices: [{ delta: {}, finish_reason: "tool_calls" }],
        usage: { prompt_tokens: 3, completion_tokens: 4 },
      };
    };
    const model = openaiModel({
      client: { chat: { completions: { create: () => Promise.resolve(chunks()) } } },
      model: "m",
    });
    const events: ChatModelEvent[] = [];
    for await (const event of model.stream({ messages: [], tools: [] })) {
      events.push(event);
      if (event.type === "tool-call") seen.push(event.id);
      if (event.type === "tool-call" && event.id === "a") gate.resolve();
    }
    expect(seen).toEqual(["a", "b"]);
    expect(events[0]).toEqual({ type: "tool-call", id: "a", name: "t", arguments: '{"x":1}' });
    expect(events.at(-1)).toEqual({ type: "finish", reason: "tool_calls", usage: { inputTokens: 3, outputTokens: 4 } });
  });
});

describe("approval in the agent", () => {
  const sendEmail = defineTool({
    name: "send_email",
    input: { type: "object", properties: { to: { type: "string" } }, required: ["to"] },
    needsApproval: (args) => !String(args.to).endsWith("@example.org"),
    execute: (args) => `sent to ${String(args.to)}`,
  });

  it("asks through the stream; a denial is what the model reads, while other calls ran", async () => {
    mock = await startMockOpenAI({
      tokensPerSecond: 2000,
      script: [
        {
          toolCalls: [
            { id: "inside", name: "send_email", arguments: { to: "ana@example.org" } },
            { id: "outside", name: "send_email", arguments: { to: "x@elsewhere.com" } },
            { id: "w", name: "weather", arguments: { city: "Oslo" } },
          ],
        },
        { content: "I sent one email; the other was not approved." },
      ],
    });
    const agent = createAgent({ model: modelOn(mock), tools: [sendEmail, weather] });
    const seen: string[] = [];
    for await (const event of agent.stream("Email both")) {
      if (event.type === "tool-approval-start") {
        seen.push(`ask ${event.callId} ${JSON.stringify(event.args)}`);
        expect(await event.deny("external address")).toBe(true);
      } else if (event.type === "tool-approval-end") {
        seen.push(`decided ${event.callId} ${event.approved} ${event.reason ?? ""}`);
      } else if (event.type === "tool-call-end") {
        seen.push(`end ${event.result.id} ${event.result.ok}`);
      }
    }
    expect(seen).toContain('ask outside {"to":"x@elsewhere.com"}');
    expect(seen).toContain("decided outside false external address");
    expect(seen.filter((line) => line.startsWith("end"))).toEqual(
      expect.arrayContaining(["end inside true", "end w true", "end outside false"]),
    );
    expect(seen.some((line) => line.startsWith("ask inside"))).toBe(false);
    const toolMessage = mock.requests[1]?.messages?.find(
      (message) => (message as { tool_call_id?: string }).tool_call_id === "outside",
    ) as { content: string } | undefined;
    expect(toolMessage?.content).toMatch(
      /^Error \(denied\): Not run: the user did not approve this call to "send_email" \(external address\)/,
    );
  });

  it("takes a policy, as the executor does", async () => {
    mock = await startMockOpenAI({
      script: [
        { toolCalls: [{ id: "out", name: "send_email", arguments: { to: "x@elsewhere.com" } }] },
        { content: "Sent." },
      ],
    });
    const agent = createAgent({
      model: modelOn(mock),
      tools: [sendEmail],
      approve: (request) => request.name === "send_email",
    });
    const result = await agent.run("Email x");
    expect(result.steps[0]?.run?.results[0]).toMatchObject({ ok: true, output: "sent to x@elsewhere.com" });
    expect(() =>
      createAgent({ model: modelOn(mock as MockOpenAIServer), tools: [sendEmail], approve: "yes" as never }),
    ).toThrow(/approve/);
  });
});
