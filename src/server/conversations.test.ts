// A served agent as its clients meet it: real HTTP to startServer, the mock OpenAI-compatible
// model, server-sent events read with fetch, and a real WebSocket client (ws).
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createAgent, openaiModel } from "../agent/index.ts";
import { createExecutor, defineTool } from "../index.ts";
import { MemoryRunStore } from "../store/index.ts";
import { deferred, startMockOpenAI, type MockOpenAIServer, type MockTurn } from "../testing/index.ts";
import { readEventStream } from "./dashboard/event-stream.js";
import { startServer, type RunningServer } from "./start-server.ts";

const TOKEN = "conversation-token-0123456789";
let mock: MockOpenAIServer | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  await mock?.close();
  server = undefined;
  mock = undefined;
});

const weather = defineTool({
  name: "weather",
  input: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  execute: (args) => ({ city: args.city, temperature: args.city === "Oslo" ? 2 : 24 }),
});

type Event = { id: string; type: string } & Record<string, unknown>;

/** A served agent on the mock model, with `tools` beside weather. */
async function serve(
  script: MockTurn[] | ((request: unknown, index: number) => MockTurn),
  options: { tools?: Parameters<typeof createExecutor>[0]["tools"]; token?: string } = {},
) {
  mock = await startMockOpenAI({ script, tokensPerSecond: 5000 });
  const store = new MemoryRunStore();
  const executor = createExecutor({ tools: [weather, ...(options.tools ?? [])], history: store });
  const model = openaiModel({
    client: new OpenAI({ baseURL: mock.baseURL, apiKey: "none", maxRetries: 0 }),
    model: "mock",
  });
  const agent = createAgent({ model, executor, store });
  server = await startServer({ executor, store, agent, port: 0, ...(options.token ? { token: options.token } : {}) });
  const base = server.url.replace(/\/$/, "");
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const get = (path: string, extra: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers: { ...headers, ...extra } });
  return {
    base,
    store,
    post,
    get,
    socketUrl: (id: string) => `${base.replace("http", "ws")}/api/conversations/${id}/socket`,
  };
}

async function* eventsOf(response: Response): AsyncGenerator<Event> {
  for await (const event of readEventStream(response)) {
    const data = JSON.parse(event.data) as Event;
    expect(data.id).toBe(event.id);
    expect(data.type).toBe(event.event);
    yield data;
  }
}

async function allEvents(response: Response): Promise<Event[]> {
  const events: Event[] = [];
  for await (const event of eventsOf(response)) events.push(event);
  return events;
}

/** A WebSocket client's messages, as they come. */
function openSocket(url: string, headers: Record<string, string> = {}) {
  const socket = new WebSocket(url, { headers });
  const received: Event[] = [];
  let wake: (() => void) | undefined;
  socket.on("message", (data: Buffer) => {
    received.push(JSON.parse(data.toString()) as Event);
    wake?.();
  });
  const opened = new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
    socket.once("unexpected-response", (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
  });
  /** Waits until a message of `type` has come, and gives it. */
  const until = async (type: string): Promise<Event> => {
    for (;;) {
      const found = received.find((event) => event.type === type);
      if (found) return found;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  return { socket, received, opened, until, send: (message: unknown) => socket.send(JSON.stringify(message)) };
}

describe("served conversations over HTTP", () => {
  it("streams a turn as server-sent events, then lists the conversation and reads it back with its step's run", async () => {
    const { post, get } = await serve([
      {
        content: "Checking.",
        toolCalls: [
          { id: "c1", name: "weather", arguments: { city: "Oslo" } },
          { id: "c2", name: "weather", arguments: { city: "Rome" } },
        ],
      },
      { content: "Oslo is 2°, Rome 24°." },
    ]);
    const response = await post("/api/conversations/trip-1/messages", { content: "Weather in <b>Oslo</b> and Rome?" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await allEvents(response);
    const types = events.map((event) => event.type);
    expect(types[0]).toBe("turn-start");
    expect(types.at(-1)).toBe("answer");
    expect(
      events.filter((event) => event.type === "tool-call-start").map((event) => [event.callId, event.args]),
    ).toEqual([
      ["c1", { city: "Oslo" }],
      ["c2", { city: "Rome" }],
    ]);
    expect(
      events
        .filter((event) => event.type === "tool-call-end")
        .map((event) => (event.result as { output: unknown }).output),
    ).toEqual([
      { city: "Oslo", temperature: 2 },
      { city: "Rome", temperature: 24 },
    ]);
    const firstStep = events.find((event) => event.type === "step-end");
    expect(firstStep).toMatchObject({
      step: 1,
      calls: 2,
      runId: expect.any(String) as unknown,
      figures: { toolsSumMs: expect.any(Number) as unknown, overlapMs: expect.any(Number) as unknown },
    });
    expect(events.at(-1)).toMatchObject({ answer: "Oslo is 2°, Rome 24°.", finish: "answer" });
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);

    const listed = (await (await get("/api/conversations")).json()) as { conversations: Record<string, unknown>[] };
    expect(listed.conversations).toEqual([
      expect.objectContaining({ conversationId: "trip-1", title: "Weather in <b>Oslo</b> and Rome?", busy: false }),
    ]);
    const read = (await (await get("/api/conversations/trip-1")).json()) as {
      messages: { message: { role: string } }[];
      runs: { runId: string; stats: { calls: number } }[];
      turn: { running: boolean };
    };
    expect(read.messages.map((item) => item.message.role)).toEqual(["user", "assistant", "tool", "tool", "assistant"]);
    expect(read.runs.map((run) => [run.runId, run.stats.calls])).toEqual([[firstStep?.runId, 2]]);
    expect(read.turn.running).toBe(false);
  });

  it("refuses a second message while a turn runs, and resumes a dropped stream after its Last-Event-ID", async () => {
    const release = deferred<void>();
    const held = defineTool({ name: "held", execute: () => release.promise.then(() => "held") });
    const { post, get } = await serve(
      [{ toolCalls: [{ id: "h", name: "held", arguments: {} }] }, { content: "Done." }],
      { tools: [held] },
    );
    const first = await post("/api/conversations/c/messages", { content: "go" });
    const reader = eventsOf(first);
    const seen: Event[] = [];
    for await (const event of reader) {
      seen.push(event);
      if (event.type === "tool-call-start") break; // the client's connection drops here
    }
    const busy = await post("/api/conversations/c/messages", { content: "again" });
    expect(busy.status).toBe(409);
    expect(await busy.json()).toMatchObject({ error: { code: "conversation_busy" } });
    release.resolve();
    const rest = await allEvents(await get("/api/conversations/c/events", { "last-event-id": seen.at(-1)?.id ?? "" }));
    expect(rest[0]?.type).toBe("tool-call-end");
    expect(rest.at(-1)).toMatchObject({ type: "answer", answer: "Done." });
    const ids = [...seen, ...rest].map((event) => Number(event.id.split(":")[1]));
    expect(ids).toEqual(ids.map((_, position) => position));
  });

  it("holds a call for approval until a client decides it over HTTP", async () => {
    const guarded = defineTool({ name: "guarded", needsApproval: true, execute: () => "sent" });
    const { post } = await serve(
      [{ toolCalls: [{ id: "g", name: "guarded", arguments: { to: "ada" } }] }, { content: "Sent." }],
      { tools: [guarded] },
    );
    const response = await post("/api/conversations/mail/messages", { content: "send it" });
    const events: Event[] = [];
    for await (const event of eventsOf(response)) {
      events.push(event);
      if (event.type === "tool-approval-start") {
        expect(event).toMatchObject({ callId: "g", name: "guarded", args: { to: "ada" } });
        const decided = await post("/api/conversations/mail/calls/g/approval", { approved: true });
        expect(decided.status).toBe(200);
        const again = await post("/api/conversations/mail/calls/g/approval", { approved: false });
        expect(again.status).toBe(409);
      }
    }
    expect(events.find((event) => event.type === "tool-approval-end")).toMatchObject({ approved: true });
    expect(events.at(-1)).toMatchObject({ type: "answer", answer: "Sent." });
  });

  it("answers bad input with a clear error", async () => {
    const { post, get } = await serve([{ content: "hi" }]);
    expect(await (await post("/api/conversations/c/messages", { text: "hi" })).json()).toMatchObject({
      error: { code: "invalid_body", message: expect.stringContaining("content") as unknown },
    });
    expect((await post("/api/conversations/bad%20id/messages", { content: "hi" })).status).toBe(400);
    expect((await get("/api/conversations/nobody")).status).toBe(404);
    expect((await get("/api/conversations/nobody/events")).status).toBe(404);
    expect((await post("/api/conversations/nobody/cancel", {})).status).toBe(409);
  });
});

describe("served conversations over a WebSocket", () => {
  it("takes messages, approvals and a cancel, and sends the same events as the stream", async () => {
    const gate = deferred<void>();
    const guarded = defineTool({ name: "guarded", needsApproval: true, execute: () => "sent" });
    const slow = defineTool({
      name: "slow",
      execute: (_args, { signal }) =>
        new Promise((resolve) => {
          gate.resolve();
          signal.addEventListener("abort", () => resolve("stopped"));
        }),
    });
    const { socketUrl } = await serve(
      (request, index) => {
        const last = (request as { messages: { role: string; content: string }[] }).messages.at(-1);
        if (last?.role === "user" && last.content === "mail")
          return { toolCalls: [{ id: `g${index}`, name: "guarded", arguments: {} }] };
        if (last?.role === "user" && last.content === "wait")
          return { toolCalls: [{ id: "s", name: "slow", arguments: {} }] };
        return { content: "Done." };
      },
      { tools: [guarded, slow], token: TOKEN },
    );
    const client = openSocket(socketUrl("ws-1"), { authorization: `Bearer ${TOKEN}` });
    await client.opened;
    client.send({ type: "message", content: "mail" });
    const asked = await client.until("tool-approval-start");
    client.send({ type: "approval", callId: asked.callId, approved: false, reason: "not today" });
    expect(await client.until("answer")).toMatchObject({ answer: "Done." });
    expect(client.received.find((event) => event.type === "tool-approval-end")).toMatchObject({
      approved: false,
      reason: "not today",
    });
    expect(client.received.map((event) => event.type)).toContain("turn-start");

    client.received.length = 0;
    client.send({ type: "message", content: "wait" });
    await gate.promise;
    client.send({ type: "cancel" });
    expect(await client.until("error")).toMatchObject({ code: "cancelled" });

    client.received.length = 0;
    client.send({ type: "shout" });
    client.send("{");
    expect(await client.until("error")).toMatchObject({ code: "invalid_message" });
    client.socket.close();
  });

  it("refuses a socket without the token, and one opened from another site", async () => {
    const { socketUrl } = await serve([{ content: "hi" }], { token: TOKEN });
    await expect(openSocket(socketUrl("c")).opened).rejects.toThrow("HTTP 401");
    await expect(
      openSocket(socketUrl("c"), { authorization: `Bearer ${TOKEN}`, origin: "https://evil.example" }).opened,
    ).rejects.toThrow("HTTP 403");
  });
});
