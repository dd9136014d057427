// A conversation outlives its process: the agent is killed while a call waits for a person; the
// decision is recorded in the history; the next process resumes the conversation from there.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createAgent, openaiModel, type AgentEvent } from "../src/agent/index.ts";
import { defineTool } from "../src/index.ts";
import { MemoryRunStore, SqliteRunStore } from "../src/store/index.ts";
import { startMockOpenAI, type MockOpenAIServer } from "../src/testing/index.ts";
import { lookup, runs, sendEmail } from "./fixtures/mail-tools.ts";
import { runVolley } from "./volley-cli.ts";

const folder = mkdtempSync(join(tmpdir(), "volley-resume-"));
let mock: MockOpenAIServer | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
  runs.lookup = runs.sendEmail = 0;
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const modelOn = (server: MockOpenAIServer) =>
  openaiModel({ client: new OpenAI({ baseURL: server.baseURL, apiKey: "none", maxRetries: 0 }), model: "mock" });
const firstTurn = {
  toolCalls: [
    { id: "find", name: "lookup", arguments: { name: "Ada" } },
    { id: "mail", name: "send_email", arguments: { to: "ada@example.com" } },
  ],
};

/**
 * Runs the agent in a child process until the email waits for approval and the lookup has ended,
 * then kills it. With `resume`, the child resumes the conversation, and is killed once `until` is seen.
 */
async function killedWhileWaiting(
  path: string,
  server: MockOpenAIServer,
  { resume = false, until = ["ended find", "waiting mail"] } = {},
): Promise<void> {
  const args = [
    fileURLToPath(new URL("./fixtures/agent-approval-child.ts", import.meta.url)),
    path,
    server.baseURL,
    ...(resume ? ["resume"] : []),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const lines = new Set<string>();
  await new Promise<void>((resolve) => {
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) lines.add(line);
      if (until.every((line) => lines.has(line))) resolve();
    });
  });
  // Well past the 50 ms within which the history writes what happened.
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill("SIGKILL");
  await exited;
}

describe("an agent whose process dies while a call waits for approval", () => {
  it("keeps the pending approval; a decision recorded later is applied when the conversation resumes", async () => {
    mock = await startMockOpenAI({ script: [firstTurn, { content: "Sent to Ada." }] });
    const path = join(folder, "approved.db");
    await killedWhileWaiting(path, mock);

    const store = new SqliteRunStore({ path });
    const [pending] = await store.approvals({ pending: true });
    expect(pending).toMatchObject({
      callId: "mail",
      name: "send_email",
      args: { to: "ada@example.com" },
      runStatus: "interrupted",
    });
    expect(await store.decideApproval(pending!.runId, "mail", { approved: true })).toBe(true);

    const events: AgentEvent[] = [];
    const agent = createAgent({ model: modelOn(mock), tools: [lookup, sendEmail], store });
    for await (const event of agent.streamResume("chat-1")) events.push(event);
    const answer = events.at(-1);
    expect(answer).toMatchObject({ type: "answer", result: { answer: "Sent to Ada.", finish: "answer" } });
    // The lookup ended before the kill: its result came from the history. The email ran once, here, without asking again.
    expect(runs).toEqual({ lookup: 0, sendEmail: 1 });
    expect(events.some((event) => event.type === "tool-approval-start")).toBe(false);
    // The model saw a valid transcript: the step's calls, then their results in call order, with nothing of Volley's own.
    expect(mock.requests[1]?.messages).toEqual([
      { role: "user", content: "Email Ada that the report is ready" },
      {
        role: "assistant",
        content: null,
        tool_calls: firstTurn.toolCalls.map((call) => ({
          id: call.id,
          type: "function",
          function: { name: call.name, arguments: JSON.stringify(call.arguments) },
        })),
      },
      { role: "tool", tool_call_id: "find", content: JSON.stringify({ email: "ada@example.com" }) },
      { role: "tool", tool_call_id: "mail", content: "sent to ada@example.com" },
    ]);
    expect((await store.messages("chat-1")).map((item) => (item.message as { role: string }).role)).toEqual([
      "user",
      "assistant",
      "tool",
      "tool",
      "assistant",
    ]);
    await store.close();
  }, 30_000);

  it("asks again, through the stream, when nobody decided while the process was gone", async () => {
    mock = await startMockOpenAI({ script: [firstTurn, { content: "I did not send it." }] });
    const path = join(folder, "undecided.db");
    await killedWhileWaiting(path, mock);

    const store = new SqliteRunStore({ path });
    const agent = createAgent({ model: modelOn(mock), tools: [lookup, sendEmail], store });
    let asked = false;
    for await (const event of agent.streamResume("chat-1")) {
      if (event.type === "tool-approval-start") {
        asked = true;
        void event.deny("not today");
      }
    }
    expect(asked).toBe(true);
    expect(runs).toEqual({ lookup: 0, sendEmail: 0 });
    const mailResult = mock.requests[1]?.messages?.find(
      (message) => (message as { tool_call_id?: string }).tool_call_id === "mail",
    ) as { content: string };
    expect(mailResult.content).toMatch(/^Error \(denied\): .*not today/);
    // The dead run's approval was asked again in the run that finished the step: it waits no more.
    expect(await store.approvals({ pending: true })).toEqual([]);
    const [closed] = await store.approvals();
    expect(closed).toMatchObject({
      callId: "mail",
      runStatus: "interrupted",
      decision: {
        approved: false,
        reason: expect.stringMatching(/^decided in run .*, which finished the step: not today$/) as string,
      },
    });
    await store.close();
  }, 30_000);

  it("resumes from the command line: `volley agent --conversation <id>` alone finishes the open step", async () => {
    mock = await startMockOpenAI({ script: [firstTurn, { content: "Sent to Ada." }] });
    const path = join(folder, "cli.db");
    await killedWhileWaiting(path, mock);
    const store = new SqliteRunStore({ path });
    const [pending] = await store.approvals({ pending: true });
    expect(await store.decideApproval(pending!.runId, "mail", { approved: true, reason: "checked" })).toBe(true);
    await store.close();

    const config = join(folder, "volley.config.json");
    writeFileSync(
      config,
      JSON.stringify({ tools: [fileURLToPath(new URL("./fixtures/mail-tools.ts", import.meta.url))], history: path }),
    );
    const { code, stdout, stderr } = await runVolley(
      ["agent", "--conversation", "chat-1", "--base-url", mock.baseURL, "--model", "mock"],
      { cwd: folder, env: { OPENAI_API_KEY: "" } },
    );
    expect(stderr).toMatch(/✓ send_email mail/);
    expect(stdout.trim()).toBe("Sent to Ada.");
    expect(code).toBe(0);
    // The email ran in the CLI's process, with the decision recorded while no process was there.
    const mailResult = mock.requests[1]?.messages?.find(
      (message) => (message as { tool_call_id?: string }).tool_call_id === "mail",
    );
    expect(mailResult).toEqual({ role: "tool", tool_call_id: "mail", content: "sent to ada@example.com" });
  }, 30_000);

  it("links the runs, and does not run again what a resuming process that also died had run", async () => {
    const twoEmails = {
      toolCalls: [...firstTurn.toolCalls, { id: "mail_bob", name: "send_email", arguments: { to: "bob@example.com" } }],
    };
    mock = await startMockOpenAI({ script: [twoEmails, { content: "Sent both." }] });
    const path = join(folder, "twice.db");
    await killedWhileWaiting(path, mock, { until: ["ended find", "waiting mail", "waiting mail_bob"] });
    const deciding = new SqliteRunStore({ path });
    const [first] = await deciding.listRuns();
    expect(await deciding.decideApproval(first!.runId, "mail", { approved: true })).toBe(true);
    await deciding.close();
    // The second process sends Ada's email, asks again about Bob's, and dies too.
    await killedWhileWaiting(path, mock, { resume: true, until: ["ended mail", "waiting mail_bob"] });

    const store = new SqliteRunStore({ path });
    const agent = createAgent({ model: modelOn(mock), tools: [lookup, sendEmail], store });
    for await (const event of agent.streamResume("chat-1"))
      if (event.type === "tool-approval-start") void event.approve();
    // Only Bob's email ran here: Ada's was sent by the process that died second, and is not sent twice.
    expect(runs).toEqual({ lookup: 0, sendEmail: 1 });
    const toolMessages = mock.requests[1]?.messages?.filter((message) => (message as { role: string }).role === "tool");
    expect(toolMessages?.map((message) => (message as { content: string }).content)).toEqual([
      JSON.stringify({ email: "ada@example.com" }),
      "sent to ada@example.com",
      "sent to bob@example.com",
    ]);
    // The history links the first run to both runs that took over its step, oldest first.
    const { run } = (await store.getRun(first!.runId))!;
    expect(run.resumedBy).toHaveLength(2);
    const [second, third] = await Promise.all(run.resumedBy.map((id) => store.getRun(id)));
    expect([second?.run.status, third?.run.status]).toEqual(["interrupted", "completed"]);
    expect([second?.run.resumes, third?.run.resumes]).toEqual([first!.runId, first!.runId]);
    expect(await store.approvals({ pending: true })).toEqual([]);
    await store.close();
  }, 30_000);

  it("continues with a new message after finishing the open step, and refuses to resume without a store", async () => {
    const store = new MemoryRunStore();
    mock = await startMockOpenAI({ script: [firstTurn, { content: "Sent." }, { content: "You are welcome." }] });
    const first = createAgent({ model: modelOn(mock), tools: [lookup, sendEmail], store });
    // Leave the stream at the approval: in this process the run ends, so the approval is answered, not left open.
    for await (const event of first.stream("Email Ada", { conversationId: "c" }))
      if (event.type === "tool-approval-start") void event.approve();
    expect(runs).toEqual({ lookup: 1, sendEmail: 1 });
    const next = await first.run("Thanks", { conversationId: "c" });
    expect(next.answer).toBe("You are welcome.");
    expect(mock.requests[2]?.messages?.map((message) => (message as { role: string }).role)).toEqual([
      "user",
      "assistant",
      "tool",
      "tool",
      "assistant",
      "user",
    ]);
    await expect(createAgent({ model: modelOn(mock), tools: [lookup] }).resume("c")).rejects.toThrow(
      /conversationId.*store/,
    );
  });
});

describe("an agent whose process dies while a tool runs", () => {
  it("kept the question and the step: a resume answers the call cut off as interrupted, keeps the one that ended, and goes on", async () => {
    mock = await startMockOpenAI({
      script: [
        {
          toolCalls: [
            { id: "find", name: "lookup", arguments: { name: "Ada" } },
            { id: "report", name: "write_report", arguments: {} },
          ],
        },
        { content: "Ada found; the report was cut off." },
      ],
    });
    const path = join(folder, "tools.db");
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL("./fixtures/agent-tools-child.ts", import.meta.url)), path, mock.baseURL],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise((resolve) => child.on("exit", resolve));
    const lines = new Set<string>();
    await new Promise<void>((resolve) => {
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        for (const line of chunk.split("\n")) lines.add(line);
        if (lines.has("ended find") && lines.has("started write_report")) resolve();
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill("SIGKILL");
    await exited;

    const store = new SqliteRunStore({ path });
    // The question and the step were stored while the tools ran.
    expect((await store.messages("chat-2")).map(({ message }) => (message as { role: string }).role)).toEqual([
      "user",
      "assistant",
    ]);
    const report = defineTool({ name: "write_report", execute: () => "never again" });
    const result = await createAgent({ model: modelOn(mock), tools: [lookup, report], store }).resume("chat-2");
    expect(result.answer).toBe("Ada found; the report was cut off.");
    // Nothing needed running again: the lookup's result comes from the history, the report is answered as cut off.
    expect(result.steps[0]?.run).toBeUndefined();
    const second = (mock.requests[1]?.messages ?? []) as { role: string; tool_call_id?: string; content?: string }[];
    expect(second.map((message) => message.role)).toEqual(["user", "assistant", "tool", "tool"]);
    expect(second.find((message) => message.tool_call_id === "find")?.content).toContain("ada@example.com");
    expect(second.find((message) => message.tool_call_id === "report")?.content).toMatch(
      /was running when the process running it stopped/,
    );
    expect(runs.lookup).toBe(0);
    await store.close();
  });

  it("refuses to resume a conversation the store does not have, and answers a finished one without asking the model", async () => {
    mock = await startMockOpenAI({ script: [{ content: "Hello." }] });
    const store = new MemoryRunStore();
    const agent = createAgent({ model: modelOn(mock), tools: [lookup], store });
    await expect(agent.resume("nobody")).rejects.toThrow(
      'agent.resume: the store has no conversation "nobody": nothing to resume',
    );
    await agent.run("Hi", { conversationId: "done" });
    expect((await agent.resume("done")).answer).toBe("Hello.");
    expect(mock.requests).toHaveLength(1);
  });
});
