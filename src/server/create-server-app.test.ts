import { describe, expect, it } from "vitest";
import { microtasks } from "../executor/executor.fixture.ts";
import { createExecutor, defineTool, ToolError } from "../index.ts";
import { MemoryRunStore } from "../store/index.ts";
import { createServerApp } from "./create-server-app.ts";
import { collect, guarded, setUp } from "./server.fixture.ts";

describe("the runs API", () => {
  it("runs calls in any format and answers one result per call, in order", async () => {
    const { post } = setUp();
    const volley = await post("/api/runs?wait", {
      calls: [
        { id: "a", name: "echo", args: { text: "hi" } },
        { id: "b", name: "echo", args: { text: { $ref: "a" } } },
      ],
    });
    expect(volley.status).toBe(200);
    const result = (await volley.json()) as { status: string; results: { id: string; ok: boolean; output: unknown }[] };
    expect(result.status).toBe("completed");
    expect(result.results.map(({ id, ok, output }) => ({ id, ok, output }))).toEqual([
      { id: "a", ok: true, output: "hi" },
      { id: "b", ok: true, output: "hi" },
    ]);

    const openai = await post("/api/runs?wait", {
      calls: {
        role: "assistant",
        tool_calls: [{ id: "call_1", type: "function", function: { name: "echo", arguments: '{"text":"x"}' } }],
      },
    });
    expect(((await openai.json()) as { results: { id: string; output: unknown }[] }).results).toMatchObject([
      { id: "call_1", output: "x" },
    ]);
  });

  it("never runs a tool the server does not have: the call is answered unknown_tool", async () => {
    const { post } = setUp();
    const response = await post("/api/runs?wait", { calls: [{ name: "rm_rf", args: {} }] });
    const { results } = (await response.json()) as { results: { ok: boolean; error: { type: string } }[] };
    expect(results[0]).toMatchObject({ ok: false, error: { type: "unknown_tool" } });
  });

  it("answers bad requests with a status and a sentence", async () => {
    const { post, request } = setUp({ maxBodyBytes: 200 });
    const expectError = async (response: Response | Promise<Response>, status: number, message: RegExp) => {
      const answer = await response;
      expect(answer.status).toBe(status);
      expect(((await answer.json()) as { error: { message: string } }).error.message).toMatch(message);
    };
    await expectError(
      request("/api/runs", { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" }),
      400,
      /not valid JSON/,
    );
    await expectError(
      request("/api/runs", { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" }),
      415,
      /Content-Type: application\/json/,
    );
    await expectError(post("/api/runs", { calls: [{ name: "echo" }], tools: [] }), 400, /Unknown field tools/);
    await expectError(post("/api/runs", { calls: "echo" }), 400, /Expected tool calls/);
    await expectError(
      post("/api/runs", { calls: [{ name: "echo" }], maxConcurrency: 0 }),
      400,
      /maxConcurrency.*from 1 and up/,
    );
    await expectError(
      post("/api/runs", { calls: [{ name: "echo", args: { text: "x".repeat(300) } }] }),
      413,
      /over this server's limit of 200 bytes/,
    );
    await expectError(request("/api/runs?limit=0"), 400, /"limit" must be an integer from 1/);
    await expectError(request("/api/runs/nope"), 404, /No run "nope"/);
    await expectError(request("/api/runs/nope/events"), 404, /not live in this server/);
    await expectError(request("/api/nothing"), 404, /No route for GET \/api\/nothing/);
  });

  it("streams a run's events live; a client that connects late gets the events so far, then the rest", async () => {
    const { post, request, slow } = setUp();
    const started = await post("/api/runs", {
      calls: [
        { id: "one", name: "slow", args: { n: 1 } },
        { id: "two", name: "slow", args: { n: 2 } },
        { id: "after", name: "echo", args: { text: { $ref: "one" } } },
      ],
    });
    expect(started.status).toBe(202);
    const { runId, events: eventsPath } = (await started.json()) as { runId: string; events: string };
    await microtasks();
    slow.finish("one", "first");
    await microtasks();

    const late = collect(await request(eventsPath));
    await microtasks();
    slow.finish("two", "second");
    const events = await late;

    expect(
      events.map((event) => `${event.event} ${typeof event.data.callId === "string" ? event.data.callId : ""}`.trim()),
    ).toEqual([
      "run-start",
      "call-add one",
      "call-start one",
      "call-add two",
      "call-start two",
      "call-add after",
      "call-end one",
      "call-start after",
      "call-end after",
      "call-end two",
      "run-end",
    ]);
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => String(index)));
    expect(events.every((event) => event.data.runId === runId)).toBe(true);
    // The arguments as submitted travel with call-add, so a client can show them before the call ends.
    expect(events[5]?.data.args).toEqual({ text: { $ref: "one" } });
    expect(events.at(-1)?.data).toMatchObject({ result: { status: "completed", stats: { calls: 3, succeeded: 3 } } });

    // A reconnecting reader says where it stopped and gets only the rest.
    const resumed = await collect(await request(eventsPath, { headers: { "last-event-id": "8" } }));
    expect(resumed.map((event) => event.event)).toEqual(["call-end", "run-end"]);
  });

  it("lists runs live and from the history, and reads one run back with its arguments", async () => {
    const { post, request, slow, executor, runs } = setUp();
    await post("/api/runs?wait", { calls: [{ id: "a", name: "echo", args: { text: "<b>bold</b>" } }] });
    const live = (await (await post("/api/runs", { calls: [{ id: "s", name: "slow" }] })).json()) as { runId: string };
    await microtasks();

    const listed = (await (await request("/api/runs")).json()) as {
      runs: { runId: string; status: string; calls: number }[];
    };
    expect(listed.runs[0]).toMatchObject({ runId: live.runId, status: "running", calls: 1 });
    expect(listed.runs[1]).toMatchObject({ status: "completed", calls: 1 });
    const running = (await (await request(`/api/runs/${live.runId}`)).json()) as { live: boolean; calls: unknown[] };
    expect(running).toMatchObject({ live: true, calls: [{ callId: "s", name: "slow", args: {} }] });

    slow.finish("s", { when: new Date(0) });
    await runs.get(live.runId)?.run.result;
    await executor.flush();
    await microtasks();
    const ended = (await (await request(`/api/runs/${live.runId}`)).json()) as {
      run: { status: string };
      calls: { output: unknown }[];
    };
    expect(ended.run.status).toBe("completed");
    expect(ended.calls[0]?.output).toEqual({ when: "1970-01-01T00:00:00.000Z" });
    const first = (await (await request(`/api/runs/${listed.runs[1]?.runId ?? ""}`)).json()) as {
      calls: { args: unknown; output: unknown }[];
    };
    expect(first.calls[0]).toMatchObject({ args: { text: "<b>bold</b>" }, output: "<b>bold</b>" });

    expect(((await (await request("/api/runs?status=running")).json()) as { runs: unknown[] }).runs).toEqual([]);
  });

  it("gives per-tool figures and the speedup history", async () => {
    const { post, request, executor } = setUp();
    await post("/api/runs?wait", {
      calls: [
        { name: "echo", args: { text: "a" } },
        { name: "echo", args: { text: "b" } },
        { name: "echo", args: { text: 1 } },
      ],
    });
    // A run in which one call ran has no speedup: it is not in the history of speedups.
    const single = (await (
      await post("/api/runs?wait", { calls: [{ name: "echo", args: { text: "c" } }] })
    ).json()) as { stats: { speedup: number | null } };
    expect(single.stats.speedup).toBeNull();
    await executor.flush();
    const { tools } = (await (await request("/api/tools")).json()) as {
      tools: { name: string; concurrency: number | null; stats: { calls: number; failures: number } | null }[];
    };
    expect(tools.find((tool) => tool.name === "echo")).toMatchObject({
      concurrency: null,
      stats: { calls: 4, failures: 1 },
    });
    expect(tools.find((tool) => tool.name === "slow")?.stats).toBeNull();
    const { runs } = (await (await request("/api/speedup")).json()) as { runs: { speedup: number }[] };
    expect(runs).toHaveLength(1);
  });

  it("gives each tool's whole configuration, and a stored run's calls with their retries and its name", async () => {
    const store = new MemoryRunStore();
    let tries = 0;
    const shaky = defineTool({
      name: "shaky",
      retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
      cache: { ttlMs: 60_000 },
      resources: () => ["db"],
      needsApproval: () => false,
      execute: () => {
        if (++tries === 1) throw new ToolError("busy", { retryable: true });
        return "ok";
      },
    });
    const executor = createExecutor({ tools: [shaky, guarded], history: store });
    const { app } = createServerApp({ executor, store });
    const request = (path: string) => app.request(`http://127.0.0.1${path}`);
    await executor.run([{ id: "s", name: "shaky" }], { runId: "r", name: "nightly · step 1" });
    await executor.flush();
    const { tools } = (await (await request("/api/tools")).json()) as { tools: Record<string, unknown>[] };
    expect(tools[0]).toMatchObject({
      name: "shaky",
      retry: { attempts: 2 },
      cache: { ttlMs: 60_000 },
      resources: true,
      approval: "by rule",
      runsIn: "process",
    });
    expect(tools[1]).toMatchObject({ name: "guarded", retry: null, cache: null, resources: false, approval: "always" });
    const record = (await (await request("/api/runs/r")).json()) as {
      run: { options: { name?: string } };
      calls: { callId: string; retries: { delayMs: number; error: { type: string; message: string } }[] }[];
    };
    expect(record.run.options.name).toBe("nightly · step 1");
    expect(record.calls[0]?.retries).toMatchObject([{ error: { type: "tool_error", message: "busy" } }]);
  });

  it("cancels a live run: running calls are aborted, queued ones answered cancelled", async () => {
    const { post, request, slow } = setUp();
    const { runId } = (await (
      await post("/api/runs", {
        calls: [
          { id: "s", name: "slow" },
          { id: "after", name: "echo", dependsOn: ["s"] },
        ],
      })
    ).json()) as { runId: string };
    await microtasks();
    expect((await request(`/api/runs/${runId}/cancel`, { method: "POST" })).status).toBe(202);
    expect(slow.started[0]?.context.signal.aborted).toBe(true);
    const events = await collect(await request(`/api/runs/${runId}/events`));
    expect(events.at(-1)?.data).toMatchObject({
      result: { status: "cancelled", results: [{ error: { type: "cancelled" } }, { error: { type: "cancelled" } }] },
    });
    expect((await request(`/api/runs/${runId}/cancel`, { method: "POST" })).status).toBe(409);
  });
});

describe("approvals through the API", () => {
  it("lists calls waiting for approval and decides them; a decision reaches the run", async () => {
    const { post, request, executor, runs } = setUp();
    const { runId } = (await (
      await post("/api/runs", {
        calls: [
          { id: "g1", name: "guarded" },
          { id: "g2", name: "guarded" },
          { id: "e", name: "echo", args: { text: "x" } },
        ],
      })
    ).json()) as { runId: string };
    await microtasks();
    await executor.flush();
    const { approvals } = (await (await request("/api/approvals?pending=true")).json()) as {
      approvals: { runId: string; callId: string; live: boolean }[];
    };
    expect(approvals.map(({ runId: run, callId, live }) => ({ run, callId, live }))).toEqual([
      { run: runId, callId: "g1", live: true },
      { run: runId, callId: "g2", live: true },
    ]);

    const decide = (callId: string, body: unknown) => post(`/api/runs/${runId}/calls/${callId}/approval`, body);
    expect((await decide("g1", { approved: "yes" })).status).toBe(400);
    expect((await decide("e", { approved: true })).status).toBe(409);
    expect((await post(`/api/runs/nope/calls/g1/approval`, { approved: true })).status).toBe(404);
    expect((await decide("g1", { approved: true })).status).toBe(200);
    expect((await decide("g2", { approved: false, reason: "not today" })).status).toBe(200);

    const result = await runs.get(runId)?.run.result;
    expect(result?.results.map((item) => item.ok)).toEqual([true, false, true]);
    expect(result?.results[1]?.error?.message).toMatch(/not today/);
    await executor.flush();
    const decided = (await (await request("/api/approvals?pending=false")).json()) as {
      approvals: { callId: string; decision: { approved: boolean } }[];
    };
    expect(decided.approvals.map((approval) => [approval.callId, approval.decision.approved])).toEqual([
      ["g1", true],
      ["g2", false],
    ]);
    const events = await collect(await request(`/api/runs/${runId}/events`));
    expect(
      events
        .filter((event) => event.event.startsWith("approval"))
        .map((event) => `${event.event} ${String(event.data.callId)}`),
    ).toEqual(["approval-start g1", "approval-start g2", "approval-end g1", "approval-end g2"]);
  });
});

describe("approvals of runs whose process stopped", () => {
  it("records a decision in the history, for the agent that resumes the conversation", async () => {
    const { post, request, store } = setUp();
    // A run of another process, which died while a call waited.
    await store.write([
      { kind: "run-start", runId: "gone", startedAt: 100, options: {} },
      {
        kind: "event",
        runId: "gone",
        seq: 0,
        event: {
          type: "approval-start",
          runId: "gone",
          at: 110,
          callId: "mail",
          name: "send_email",
          args: { to: "ada@example.com" },
        },
      },
    ]);
    const { approvals } = (await (await request("/api/approvals?pending=true")).json()) as {
      approvals: { runId: string; callId: string; live: boolean }[];
    };
    expect(approvals).toMatchObject([{ runId: "gone", callId: "mail", live: false }]);
    const response = await post("/api/runs/gone/calls/mail/approval", { approved: false, reason: "wrong person" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ runId: "gone", callId: "mail", approved: false, recorded: true });
    expect(await store.approvals({ runId: "gone" })).toMatchObject([
      { callId: "mail", decision: { approved: false, reason: "wrong person" } },
    ]);
    // Decided once: a second decision has nothing to decide.
    expect((await post("/api/runs/gone/calls/mail/approval", { approved: true })).status).toBe(404);
  });
});

describe("hostile calls through the API", () => {
  it("answers arguments nested thousands of levels deep invalid_arguments, and the run ends", async () => {
    const { post } = setUp();
    const deep = `${'{"a":'.repeat(5000)}1${"}".repeat(5000)}`;
    const response = await post("/api/runs?wait", {
      calls: [
        { id: "ok", name: "echo", args: { text: "hi" } },
        { id: "deep", name: "echo", args: deep },
      ],
    });
    expect(response.status).toBe(200);
    const result = (await response.json()) as { status: string; results: { ok: boolean; error?: { type: string } }[] };
    expect(result.status).toBe("completed");
    expect(result.results.map((call) => call.error?.type)).toEqual([undefined, "invalid_arguments"]);
  });
});
