import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HistoryWrite, RunStore } from "./index.ts";
import { conversationStoreContract } from "./conversation-store.contract.ts";
import { failure, result, stats, wholeRun } from "./run-store-builders.contract.ts";

/** The promises every RunStore keeps, run against each implementation: run history here, conversation memory in its own suite. */
export function runStoreContract(name: string, open: () => RunStore | Promise<RunStore>): void {
  conversationStoreContract(name, open);
  describe(`RunStore contract: ${name}`, () => {
    let store: RunStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it("keeps approvals from their events: pending ones, decisions, and the run's status", async () => {
      const ask = (runId: string, seq: number, callId: string, at: number): HistoryWrite => ({
        kind: "event",
        runId,
        seq,
        event: { type: "approval-start", runId, at, callId, name: "send_email", args: { to: callId } },
      });
      await store.write([
        { kind: "run-start", runId: "r1", startedAt: 100, options: {} },
        ask("r1", 0, "a", 110),
        ask("r1", 1, "b", 120),
        {
          kind: "event",
          runId: "r1",
          seq: 2,
          event: {
            type: "approval-end",
            runId: "r1",
            at: 130,
            callId: "a",
            name: "send_email",
            approved: false,
            reason: "no",
          },
        },
        { kind: "run-start", runId: "r2", startedAt: 200, options: {} },
        ask("r2", 0, "c", 105),
      ]);
      expect((await store.approvals()).map((approval) => approval.callId)).toEqual(["c", "a", "b"]);
      expect(await store.approvals({ pending: false })).toEqual([
        {
          runId: "r1",
          callId: "a",
          name: "send_email",
          args: { to: "a" },
          requestedAt: 110,
          runStatus: "running",
          decision: { approved: false, reason: "no", at: 130 },
        },
      ]);
      expect((await store.approvals({ pending: true, runId: "r1" })).map((approval) => approval.callId)).toEqual(["b"]);
      await store.write([
        {
          kind: "run-end",
          result: { runId: "r2", status: "cancelled", results: [], stats: stats({ calls: 0 }) },
          endedAt: 300,
        },
      ]);
      expect(await store.approvals({ runId: "r2" })).toMatchObject([
        { callId: "c", runStatus: "cancelled", decision: undefined },
      ]);
      await expect(store.approvals({ pending: "yes" as never })).rejects.toThrow(/pending.*a boolean/);
    });

    it("records a decision on an approval its process left pending, once", async () => {
      await store.write([
        { kind: "run-start", runId: "r1", startedAt: 100, options: {} },
        { kind: "event", runId: "r1", seq: 0, event: { type: "run-start", runId: "r1", at: 100 } },
        {
          kind: "event",
          runId: "r1",
          seq: 1,
          event: { type: "approval-start", runId: "r1", at: 110, callId: "a", name: "send_email", args: { to: "a" } },
        },
      ]);
      expect(await store.decideApproval("r1", "a", { approved: false, reason: "not to them" }, 500)).toBe(true);
      expect(await store.approvals({ runId: "r1" })).toMatchObject([
        { callId: "a", decision: { approved: false, reason: "not to them", at: 500 } },
      ]);
      expect(await store.approvals({ pending: true })).toEqual([]);
      // The decision is a request to the run: its own events stay as the run wrote them.
      expect((await store.events("r1")).map((item) => [item.seq, item.event.type])).toEqual([
        [0, "run-start"],
        [1, "approval-start"],
      ]);
      // Decided already, or never asked: nothing to record. The first decision stands.
      expect(await store.decideApproval("r1", "a", { approved: true })).toBe(false);
      expect(await store.approvals({ runId: "r1" })).toMatchObject([{ callId: "a", decision: { approved: false } }]);
      expect(await store.decideApproval("r1", "zzz", { approved: true })).toBe(false);
      expect(await store.decideApproval("nope", "a", { approved: true })).toBe(false);
      await expect(store.decideApproval("r1", "a", { approved: "yes" } as never)).rejects.toThrow(
        /decision.*approved: boolean/,
      );
      await expect(store.decideApproval("r1", "a", { approved: true }, Number.NaN)).rejects.toThrow(
        /at.*epoch milliseconds/,
      );
    });

    it("takes what the run itself recorded over a decision recorded for it, and prunes decisions with their run", async () => {
      const ask = (callId: string, seq: number): HistoryWrite => ({
        kind: "event",
        runId: "r1",
        seq,
        event: { type: "approval-start", runId: "r1", at: 110, callId, name: "send_email", args: {} },
      });
      await store.write([{ kind: "run-start", runId: "r1", startedAt: 100, options: {} }, ask("a", 0), ask("b", 1)]);
      expect(await store.decideApproval("r1", "a", { approved: true }, 200)).toBe(true);
      // The run's process had decided at its terminal before it saw the decision in the history.
      await store.write([
        {
          kind: "event",
          runId: "r1",
          seq: 2,
          event: {
            type: "approval-end",
            runId: "r1",
            at: 150,
            callId: "a",
            name: "send_email",
            approved: false,
            reason: "no",
          },
        },
      ]);
      // A run's first decision is the one it acted on.
      await store.write([
        {
          kind: "event",
          runId: "r1",
          seq: 3,
          event: { type: "approval-end", runId: "r1", at: 160, callId: "b", name: "send_email", approved: true },
        },
      ]);
      await store.write([
        {
          kind: "event",
          runId: "r1",
          seq: 4,
          event: { type: "approval-end", runId: "r1", at: 170, callId: "b", name: "send_email", approved: false },
        },
      ]);
      expect((await store.approvals({ runId: "r1" })).map((approval) => [approval.callId, approval.decision])).toEqual([
        ["a", { approved: false, reason: "no", at: 150 }],
        ["b", { approved: true, reason: undefined, at: 160 }],
      ]);
      expect(await store.prune({ keepRuns: 0 })).toBe(1);
      expect(await store.approvals()).toEqual([]);
    });

    it("keeps a run with its calls, in order, and its events", async () => {
      await store.write([
        { kind: "run-start", runId: "r1", startedAt: 100, options: { maxConcurrency: 8, parallel: true } },
        { kind: "event", runId: "r1", seq: 0, event: { type: "run-start", runId: "r1", at: 100 } },
      ]);
      expect(await store.listRuns()).toMatchObject([{ runId: "r1", status: "running", calls: 0, stats: undefined }]);
      const second = result("b", "summarize", {
        at: 120,
        error: failure("dependency_failed"),
        attempts: 0,
        durationMs: 0,
      });
      const first = result("a", "search", { at: 100, durationMs: 20, attempts: 2 });
      await store.write([
        { kind: "call", runId: "r1", index: 1, args: { text: "x" }, dependsOn: ["a"], addedAt: 100, result: second },
        {
          kind: "call",
          runId: "r1",
          index: 0,
          args: { query: "volcanoes" },
          dependsOn: [],
          addedAt: 95,
          result: first,
        },
        {
          kind: "event",
          runId: "r1",
          seq: 1,
          event: { type: "call-start", runId: "r1", at: 100, callId: "a", name: "search", attempt: 1 },
        },
        {
          kind: "run-end",
          result: {
            runId: "r1",
            status: "completed",
            results: [first, second],
            stats: stats({ calls: 2, failed: 1, speedup: 1.5 }),
          },
          endedAt: 130,
        },
      ]);
      const stored = await store.getRun("r1");
      expect(stored?.run).toEqual({
        runId: "r1",
        status: "completed",
        startedAt: 100,
        endedAt: 130,
        options: { maxConcurrency: 8, parallel: true },
        stats: stats({ calls: 2, failed: 1, speedup: 1.5 }),
        calls: 2,
        resumes: undefined,
        resumedBy: [],
      });
      expect(stored?.calls.map((call) => call.callId)).toEqual(["a", "b"]);
      expect(stored?.calls[0]).toEqual({
        runId: "r1",
        callId: "a",
        index: 0,
        name: "search",
        args: { query: "volcanoes" },
        ok: true,
        output: "search output",
        outputTruncated: false,
        error: undefined,
        attempts: 2,
        queuedAt: 95,
        startedAt: 100,
        endedAt: 120,
        durationMs: 20,
        cached: false,
        dependsOn: [],
      });
      expect(stored?.calls[1]).toMatchObject({
        ok: false,
        output: undefined,
        error: failure("dependency_failed"),
        dependsOn: ["a"],
      });
      expect((await store.events("r1")).map((item) => [item.seq, item.event.type])).toEqual([
        [0, "run-start"],
        [1, "call-start"],
      ]);
      expect(await store.getRun("nope")).toBeUndefined();
    });

    it("links a run to the later runs that took over its work, both ways", async () => {
      await store.write([
        { kind: "run-start", runId: "step", startedAt: 100, options: {} },
        { kind: "run-start", runId: "unrelated", startedAt: 150, options: { resumes: 42 } },
        { kind: "run-start", runId: "second", startedAt: 300, options: { resumes: "step" } },
        { kind: "run-start", runId: "first", startedAt: 200, options: { maxConcurrency: 4, resumes: "step" } },
      ]);
      expect((await store.getRun("step"))?.run).toMatchObject({ resumes: undefined, resumedBy: ["first", "second"] });
      expect((await store.getRun("first"))?.run).toMatchObject({
        resumes: "step",
        resumedBy: [],
        options: { maxConcurrency: 4, resumes: "step" },
      });
      expect((await store.getRun("unrelated"))?.run).toMatchObject({ resumes: undefined, resumedBy: [] });
      expect((await store.listRuns()).map((run) => [run.runId, run.resumes, run.resumedBy])).toEqual([
        ["second", "step", []],
        ["first", "step", []],
        ["unrelated", undefined, []],
        ["step", undefined, ["first", "second"]],
      ]);
      await store.prune({ olderThan: 250 });
      expect((await store.getRun("second"))?.run).toMatchObject({ resumes: "step", resumedBy: [] });
    });

    it("lists runs newest first, in pages, by status or by tool", async () => {
      await store.write([
        ...wholeRun("old", 100, [result("a", "search", { at: 100 })]),
        ...wholeRun("mid", 200, [result("a", "fetch", { at: 200 })], {}, "cancelled"),
        ...wholeRun("new", 300, [result("a", "search", { at: 300 }), result("b", "fetch", { at: 310 })]),
      ]);
      expect((await store.listRuns()).map((run) => run.runId)).toEqual(["new", "mid", "old"]);
      expect((await store.listRuns({ limit: 2 })).map((run) => run.runId)).toEqual(["new", "mid"]);
      expect((await store.listRuns({ limit: 2, offset: 2 })).map((run) => run.runId)).toEqual(["old"]);
      expect((await store.listRuns({ status: "cancelled" })).map((run) => run.runId)).toEqual(["mid"]);
      expect((await store.listRuns({ tool: "search" })).map((run) => run.runId)).toEqual(["new", "old"]);
    });

    it("gives per-tool figures over a time window", async () => {
      const durations = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
      await store.write(
        wholeRun("r", 0, [
          ...durations.map((ms, index) =>
            result(`s${index}`, "search", { at: index * 100, durationMs: ms, attempts: index === 0 ? 3 : 1 }),
          ),
          result("f1", "fetch", { at: 50, error: failure("timeout") }),
          result("f2", "fetch", { at: 60, error: failure("tool_error") }),
          result("f3", "fetch", { at: 70, cached: true, attempts: 0, durationMs: 0 }),
          result("late", "fetch", { at: 5_000 }),
        ]),
      );
      const all = await store.toolStats();
      expect(all.search).toEqual({
        calls: 10,
        failures: 0,
        failuresByType: {},
        retries: 2,
        cached: 0,
        p50Ms: 50,
        p95Ms: 100,
        p99Ms: 100,
        meanMs: 55,
      });
      expect(all.fetch).toMatchObject({
        calls: 4,
        failures: 2,
        failuresByType: { timeout: 1, tool_error: 1 },
        cached: 1,
      });
      const early = await store.toolStats({ since: 0, until: 2_000 });
      expect(early.fetch?.calls).toBe(3);
      expect(early.search?.calls).toBe(10);
    });

    it("keeps the speedup history of ended runs that have one, oldest first", async () => {
      await store.write([
        ...wholeRun("b", 200, [result("a", "t", { at: 200 })], { speedup: 3 }),
        ...wholeRun("a", 100, [result("a", "t", { at: 100 })], { speedup: 2 }),
        // Fewer than two calls ran: no speedup to keep.
        ...wholeRun("one-call", 150, [result("a", "t", { at: 150 })], { speedup: null }),
        { kind: "run-start", runId: "still-running", startedAt: 300, options: {} },
      ]);
      expect(await store.speedupHistory()).toEqual([
        { runId: "a", endedAt: 110, speedup: 2 },
        { runId: "b", endedAt: 210, speedup: 3 },
      ]);
      expect(await store.speedupHistory({ since: 150 })).toEqual([{ runId: "b", endedAt: 210, speedup: 3 }]);
    });

    it("estimates each tool's duration from its recent successful executions", async () => {
      await store.write(
        wholeRun("r", 0, [
          result("old", "search", { at: -5_000, durationMs: 1_000 }),
          result("new1", "search", { at: 100, durationMs: 40 }),
          result("new2", "search", { at: 200, durationMs: 60 }),
          result("failed", "search", { at: 300, durationMs: 5_000, error: failure("timeout") }),
          result("cached", "search", { at: 400, durationMs: 0, cached: true, attempts: 0 }),
          result("f", "fetch", { at: 0, durationMs: 8 }),
        ]),
      );
      expect(await store.durationEstimates(2)).toEqual({ search: 50, fetch: 8 });
    });

    it("prunes by age and by count, calls and events included", async () => {
      await store.write([
        ...wholeRun("a", 100, [result("x", "t", { at: 100 })]),
        ...wholeRun("b", 200, [result("x", "t", { at: 200 })]),
        ...wholeRun("c", 300, [result("x", "t", { at: 300 })]),
      ]);
      await store.write([{ kind: "event", runId: "a", seq: 0, event: { type: "run-start", runId: "a", at: 100 } }]);
      expect(await store.prune({ olderThan: 150 })).toBe(1);
      expect(await store.getRun("a")).toBeUndefined();
      expect(await store.events("a")).toEqual([]);
      expect(await store.prune({ keepRuns: 1 })).toBe(1);
      expect((await store.listRuns()).map((run) => run.runId)).toEqual(["c"]);
      expect((await store.toolStats()).t?.calls).toBe(1);
    });

    it("cuts large outputs and marks them, and keeps what JSON can't hold in a readable form", async () => {
      const circular: Record<string, unknown> = { name: "loop" };
      circular.self = circular;
      const odd = {
        big: 12n,
        nothing: undefined,
        bytes: Buffer.from("hi"),
        error: new TypeError("bad"),
        circular,
        when: new Date(0),
      };
      await store.write(
        wholeRun("r", 0, [result("huge", "t", { output: "x".repeat(100_000) }), result("odd", "t", { output: odd })]),
      );
      const calls = (await store.getRun("r"))?.calls ?? [];
      expect(calls[0]?.outputTruncated).toBe(true);
      expect(typeof (calls[0]?.output as { $truncated: string }).$truncated).toBe("string");
      expect((calls[0]?.output as { $truncated: string }).$truncated.length).toBeLessThanOrEqual(65_536);
      expect(calls[1]?.output).toMatchObject({
        big: { $bigint: "12" },
        nothing: { $undefined: true },
        bytes: { $bytes: "aGk=" },
        error: { $error: { name: "TypeError", message: "bad" } },
        circular: { name: "loop", self: { $circular: "/circular" } },
        when: "1970-01-01T00:00:00.000Z",
      });
    });

    it("rejects bad input, saying what it expected", async () => {
      await expect(store.listRuns({ limit: 0 })).rejects.toThrow(
        "listRuns: expected `limit` to be an integer from 1 and up, got 0 (number)",
      );
      await expect(store.listRuns({ status: "done" as never })).rejects.toThrow(
        "expected `status` to be running, completed, cancelled, timed_out, interrupted",
      );
      await expect(store.prune({})).rejects.toThrow("prune: expected `rule` to be { olderThan } or { keepRuns }");
    });
  });
}
