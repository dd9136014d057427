import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { controlledTool, microtasks, recordingExecutor, startOrder } from "./executor.fixture.ts";
import { createExecutor, defineTool, type ApprovalRequest, type JsonSchema, type RunEvent } from "../index.ts";
import { MemoryRunStore, SqliteRunStore } from "../store/index.ts";

const sendEmail = (input?: JsonSchema) =>
  defineTool({
    name: "send_email",
    needsApproval: true,
    ...(input ? { input } : {}),
    execute: (args: unknown) => `sent to ${String((args as { to?: unknown }).to)}`,
  });

const approvalEvents = (events: readonly RunEvent[]) =>
  events
    .filter((event) => event.type === "approval-start" || event.type === "approval-end")
    .map((event) =>
      event.type === "approval-end"
        ? `${event.type} ${event.callId} ${event.approved}`
        : `${event.type} ${event.callId}`,
    );

describe("calls that need approval", () => {
  it("wait holding no slot while the other calls run, then run once approved", async () => {
    const search = controlledTool("search");
    const { executor, events } = recordingExecutor({ tools: [sendEmail(), search.tool], maxConcurrency: 1 });
    const run = executor.start();
    run.add({ id: "mail", name: "send_email", args: { to: "ana@example.org" } });
    run.add({ id: "s1", name: "search" });
    run.add({ id: "s2", name: "search" });
    run.end();
    await microtasks();

    // The only slot went to a search: the email waits without holding it.
    expect(search.running()).toEqual(["s1"]);
    expect(run.pendingApprovals()).toEqual([
      {
        runId: run.id,
        callId: "mail",
        name: "send_email",
        args: { to: "ana@example.org" },
        requestedAt: expect.any(Number) as number,
      },
    ]);
    search.finish("s1");
    await microtasks();
    expect(search.running()).toEqual(["s2"]);
    search.finish("s2");
    await microtasks();

    expect(await run.approve("mail")).toBe(true);
    const { results } = await run.result;
    expect(results[0]).toMatchObject({ id: "mail", ok: true, output: "sent to ana@example.org" });
    expect(run.pendingApprovals()).toEqual([]);
    expect(approvalEvents(events)).toEqual(["approval-start mail", "approval-end mail true"]);
    expect(startOrder(events)).toEqual(["s1", "s2", "mail"]);
  });

  it("answer a denial as a result the model reads, and its dependents are not run", async () => {
    const { executor, events } = recordingExecutor({
      tools: [sendEmail(), defineTool({ name: "log", execute: () => "logged" })],
    });
    const run = executor.start();
    run.add({ id: "mail", name: "send_email", args: { to: "all@example.org" } });
    run.add({ id: "after", name: "log", dependsOn: ["mail"] });
    run.end();
    await microtasks();
    expect(await run.deny("mail", "not to everyone")).toBe(true);
    expect(await run.deny("mail")).toBe(false); // decided already
    const { results, stats } = await run.result;
    expect(results[0]).toMatchObject({
      ok: false,
      attempts: 0,
      error: {
        type: "denied",
        retryable: false,
        message:
          'Not run: the user did not approve this call to "send_email" (not to everyone). Do not try it again unless the user asks.',
      },
    });
    expect(results[1]?.error?.type).toBe("dependency_failed");
    expect(stats.errors).toEqual({ denied: 1, dependency_failed: 1 });
    expect(events.find((event) => event.type === "approval-end")).toMatchObject({
      approved: false,
      reason: "not to everyone",
    });
  });

  it("are asked about with their final arguments: references resolved and validated", async () => {
    const requests: ApprovalRequest[] = [];
    const executor = createExecutor({
      tools: [
        sendEmail({ type: "object", properties: { to: { type: "string" } }, required: ["to"] }),
        defineTool({ name: "lookup", execute: () => ({ email: "bo@example.org" }) }),
      ],
      approve: (request) => {
        requests.push(request);
        return true;
      },
    });
    const { results } = await executor.run([
      { id: "who", name: "lookup" },
      { id: "mail", name: "send_email", args: { to: { $ref: "who", path: "/email" } } },
      { id: "bad", name: "send_email", args: { to: 7 } },
    ]);
    expect(requests.map((request) => [request.callId, request.args])).toEqual([["mail", { to: "bo@example.org" }]]);
    expect(results[1]).toMatchObject({ ok: true, output: "sent to bo@example.org" });
    // Invalid arguments are answered before anyone is asked.
    expect(results[2]?.error?.type).toBe("invalid_arguments");
  });

  it("can depend on the arguments, through a rule that may be async", async () => {
    const transfer = defineTool({
      name: "transfer",
      needsApproval: async (args: Record<string, unknown>) => Number(args.amount) > 100,
      execute: (args: Record<string, unknown>) => `moved ${String(args.amount)}`,
    });
    const asked: string[] = [];
    const executor = createExecutor({
      tools: [transfer],
      approve: (request) => {
        asked.push(request.callId);
        return { approved: false, reason: "over the limit" };
      },
    });
    const { results } = await executor.run([
      { id: "small", name: "transfer", args: { amount: 20 } },
      { id: "large", name: "transfer", args: { amount: 5000 } },
    ]);
    expect(asked).toEqual(["large"]);
    expect(results.map((result) => result.ok)).toEqual([true, false]);
    expect(results[1]?.error?.message).toMatch(/over the limit/);
  });

  it("are decided by a listener of approval-start first, if it decides at once: the policy is then not asked", async () => {
    const asked: string[] = [];
    const executor = createExecutor({
      tools: [sendEmail()],
      approve: (request) => {
        asked.push(request.callId);
        return { approved: false, reason: "the policy says no" };
      },
    });
    const run = executor.start({
      onEvent: (event) => {
        if (event.type === "approval-start" && event.callId === "known") void run.approve("known", "decided earlier");
      },
    });
    run.add({ id: "known", name: "send_email", args: { to: "ana@example.org" } });
    run.add({ id: "new", name: "send_email", args: { to: "bo@example.org" } });
    run.end();
    const { results } = await run.result;
    expect(asked).toEqual(["new"]);
    expect(results.map((result) => result.ok)).toEqual([true, false]);
    expect(results[1]?.error?.message).toMatch(/the policy says no/);
  });

  it("fail safe: a rule that throws asks; a policy that throws denies; a policy with no answer leaves the call to a person", async () => {
    const risky = defineTool({
      name: "risky",
      needsApproval: () => {
        throw new Error("rule bug");
      },
      execute: () => "done",
    });
    const throwing = createExecutor({
      tools: [risky],
      approve: () => {
        throw new Error("policy bug");
      },
    });
    const denied = await throwing.run([{ name: "risky" }]);
    expect(denied.results[0]?.error).toMatchObject({
      type: "denied",
      message: expect.stringMatching(/the approval policy failed: policy bug/) as string,
    });

    const undecided = createExecutor({ tools: [risky], approve: () => undefined });
    const run = undecided.start();
    run.add({ id: "r", name: "risky" });
    run.end();
    await microtasks();
    expect(run.pendingApprovals().map((request) => request.callId)).toEqual(["r"]);
    await run.approve("r", "looked fine");
    expect((await run.result).results[0]?.ok).toBe(true);
  });

  it("are answered when the run is cancelled or times out first, and the approval is closed", async () => {
    const { executor, events } = recordingExecutor({ tools: [sendEmail()] });
    const run = executor.start({ timeoutMs: 1_000_000 });
    run.add({ id: "mail", name: "send_email", args: {} });
    run.end();
    await microtasks();
    run.cancel("the user left");
    const { results, status } = await run.result;
    expect(status).toBe("cancelled");
    expect(results[0]?.error).toMatchObject({ type: "cancelled", message: "Not started: the user left." });
    expect(events.find((event) => event.type === "approval-end")).toMatchObject({
      approved: false,
      reason: "no decision: Not started: the user left.",
    });
    expect(await run.approve("mail")).toBe(false);
  });

  it("are kept in the history: pending ones, and each decision", async () => {
    const store = new MemoryRunStore();
    const executor = createExecutor({ tools: [sendEmail()], history: store });
    const run = executor.start();
    run.add({ id: "one", name: "send_email", args: { to: "a" } });
    run.add({ id: "two", name: "send_email", args: { to: "b" } });
    run.end();
    await microtasks();
    await executor.flush();
    expect((await store.approvals({ pending: true })).map((approval) => approval.callId)).toEqual(["one", "two"]);

    await run.approve("one");
    await run.deny("two", "no");
    await run.result;
    await executor.flush();
    expect(await store.approvals({ pending: true })).toEqual([]);
    expect(await store.approvals({ runId: run.id })).toMatchObject([
      { callId: "one", name: "send_email", args: { to: "a" }, decision: { approved: true } },
      { callId: "two", decision: { approved: false, reason: "no" } },
    ]);
  });

  it("take a decision recorded in the history by another process while they wait", async () => {
    const folder = mkdtempSync(join(tmpdir(), "volley-decisions-"));
    const path = join(folder, "history.db");
    // Two connections to one file, as this process and a `volley serve` beside it have.
    const here = new SqliteRunStore({ path });
    const elsewhere = new SqliteRunStore({ path });
    try {
      const executor = createExecutor({ tools: [sendEmail()], history: here, decisionPollMs: 10 });
      const run = executor.start();
      for (const to of ["a", "b", "c"]) run.add({ id: to, name: "send_email", args: { to } });
      run.end();
      await microtasks();
      await executor.flush();
      expect((await elsewhere.approvals({ pending: true })).map((approval) => approval.callId)).toEqual([
        "a",
        "b",
        "c",
      ]);

      expect(await elsewhere.decideApproval(run.id, "a", { approved: true })).toBe(true);
      expect(await elsewhere.decideApproval(run.id, "b", { approved: false, reason: "not to b" })).toBe(true);
      expect(await run.approve("c")).toBe(true);
      const { results } = await run.result;
      expect(results).toMatchObject([
        { id: "a", ok: true, output: "sent to a" },
        { id: "b", ok: false, error: { type: "denied", message: expect.stringContaining("(not to b)") as string } },
        { id: "c", ok: true, output: "sent to c" },
      ]);
      await executor.flush();
      // The run recorded what it did; a late decision for a call it already decided changes nothing.
      expect(await elsewhere.decideApproval(run.id, "c", { approved: false })).toBe(false);
      const ended = (await elsewhere.events(run.id)).flatMap(({ event }) =>
        event.type === "approval-end" ? [`${event.callId} ${event.approved}`] : [],
      );
      expect(ended.sort()).toEqual(["a true", "b false", "c true"]);
    } finally {
      await here.close();
      await elsewhere.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("keep the first decision recorded: a later local decision loses to one another process recorded", async () => {
    const folder = mkdtempSync(join(tmpdir(), "volley-decisions-"));
    const path = join(folder, "history.db");
    const here = new SqliteRunStore({ path });
    const elsewhere = new SqliteRunStore({ path });
    try {
      let sent = 0;
      const mail = defineTool({ name: "send_email", needsApproval: true, execute: () => ++sent });
      // Polling slower than the test: only recording through the store can find the other decision.
      const executor = createExecutor({ tools: [mail], history: here, decisionPollMs: 60_000 });
      const run = executor.start();
      run.add({ id: "mail", name: "send_email", args: { to: "all" } });
      run.end();
      await microtasks();
      await executor.flush();
      expect(await elsewhere.decideApproval(run.id, "mail", { approved: false, reason: "not to everyone" })).toBe(true);

      expect(await run.approve("mail")).toBe(false);
      const { results } = await run.result;
      expect(sent).toBe(0);
      expect(results[0]?.error).toMatchObject({
        type: "denied",
        message: expect.stringContaining("(not to everyone)") as string,
      });
      await executor.flush();
      expect(await elsewhere.approvals({ runId: run.id })).toMatchObject([
        { callId: "mail", decision: { approved: false, reason: "not to everyone" } },
      ]);
      const ended = (await elsewhere.events(run.id)).flatMap(({ event }) =>
        event.type === "approval-end" ? [event.approved] : [],
      );
      expect(ended).toEqual([false]);
      // The local decision that stood is recorded too, so a process deciding later loses to it.
      const second = executor.start();
      second.add({ id: "mail", name: "send_email" });
      second.end();
      await microtasks();
      expect(await second.approve("mail", "fine")).toBe(true);
      await second.result;
      await executor.flush();
      expect(await elsewhere.decideApproval(second.id, "mail", { approved: false })).toBe(false);
      expect(sent).toBe(1);
    } finally {
      await here.close();
      await elsewhere.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("reject bad input to approve and deny", () => {
    const run = createExecutor({ tools: [sendEmail()] }).start();
    expect(() => run.approve(7 as never)).toThrow(
      /run\.approve: expected `callId` to be the id of a call waiting for approval/,
    );
    expect(() => run.deny("x", 3 as never)).toThrow(/run\.deny: expected `reason` to be a string/);
    expect(() => defineTool({ name: "t", execute: () => 1, needsApproval: "yes" as never })).toThrow(
      /needsApproval.*a boolean, or a function/,
    );
    expect(() => createExecutor({ tools: [], approve: true as never })).toThrow(/approve.*a function/);
    expect(() => createExecutor({ tools: [], decisionPollMs: 0 })).toThrow(/decisionPollMs.*milliseconds above 0/);
  });
});
