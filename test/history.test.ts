import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createExecutor, defineTool, type RunEvent } from "../src/index.ts";
import { MemoryRunStore, SqliteRunStore, type RunStore } from "../src/store/index.ts";
import { fakeTool } from "../src/testing/index.ts";

const folder = mkdtempSync(join(tmpdir(), "volley-history-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("an executor with history", () => {
  it("records each run, its calls with their resolved arguments, and every event", async () => {
    const store = new MemoryRunStore();
    const events: RunEvent[] = [];
    const search = defineTool({ name: "search", execute: (args) => [`hit for ${String(args.query)}`] });
    const executor = createExecutor({ tools: [search], history: store, onEvent: (event) => events.push(event) });
    const { results } = await executor.run(
      [
        { id: "a", name: "search", args: { query: "tides" } },
        { id: "b", name: "search", args: { query: { $ref: "a", path: "/0" } } },
        { id: "c", name: "nope", args: { query: "lost?" } },
        { id: "d", name: "search", args: '{"query": ' },
      ],
      { runId: "recorded", maxConcurrency: 2 },
    );
    await executor.flush();
    const stored = await store.getRun("recorded");
    expect(stored?.run).toMatchObject({
      status: "completed",
      calls: 4,
      options: { maxConcurrency: 2, parallel: true },
      stats: { calls: 4, failed: 2 },
    });
    // Calls answered before they could run keep what they were sent: arguments, or the text that was no JSON.
    expect(stored?.calls.map((call) => [call.callId, call.ok, call.args, call.dependsOn])).toEqual([
      ["a", true, { query: "tides" }, []],
      ["b", true, { query: "hit for tides" }, ["a"]],
      ["c", false, { query: "lost?" }, []],
      ["d", false, { $unparsed: '{"query": ' }, []],
    ]);
    expect(stored?.calls[1]?.output).toEqual(results[1]?.output);
    // Events the records already tell (call-add, call-end, run-end) are not kept twice.
    expect((await store.events("recorded")).map((item) => item.event.type)).toEqual([
      "run-start",
      "call-start",
      "call-start",
    ]);
    expect(events.map((event) => event.type)).toContain("call-end");
    // A run that takes over another's work is linked to it in the history.
    await executor.run([{ id: "a", name: "search", args: { query: "tides" } }], {
      runId: "later",
      resumes: "recorded",
    });
    await executor.flush();
    expect((await store.getRun("later"))?.run).toMatchObject({ resumes: "recorded", options: { resumes: "recorded" } });
    expect((await store.getRun("recorded"))?.run.resumedBy).toEqual(["later"]);
  });

  it("ranks by durations an earlier process learned, from its first call", async () => {
    const path = join(folder, "estimates.db");
    const tools = () => [fakeTool({ name: "slow", latencyMs: 60 }), fakeTool({ name: "quick", latencyMs: 2 })];
    const earlierStore = new SqliteRunStore({ path });
    const earlier = createExecutor({ tools: tools(), history: earlierStore });
    await earlier.run([{ name: "slow" }, { name: "quick" }]);
    await earlier.flush();
    await earlierStore.close();

    const starts: string[] = [];
    const store = new SqliteRunStore({ path });
    const later = createExecutor({
      tools: tools(),
      history: store,
      maxConcurrency: 1,
      onEvent: (event) => event.type === "call-start" && starts.push(event.callId),
    });
    await later.ready;
    expect(Object.keys(later.estimates()).sort()).toEqual(["quick", "slow"]);
    expect(later.estimates().slow).toBeGreaterThan(later.estimates().quick as number);
    await later.run([
      { id: "q1", name: "quick" },
      { id: "q2", name: "quick" },
      { id: "s", name: "slow" },
    ]);
    expect(starts).toEqual(["s", "q1", "q2"]);
    await later.flush();
    await store.close();
  });

  it("keeps running when the store fails, and says so once", async () => {
    const failing: RunStore = Object.assign(new MemoryRunStore(), {
      write: () => Promise.reject(new Error("disk full")),
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    try {
      const executor = createExecutor({ tools: [defineTool({ name: "t", execute: () => 1 })], history: failing });
      for (let i = 0; i < 3; i++) expect((await executor.run([{ name: "t" }])).results[0]?.ok).toBe(true);
      await executor.flush();
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes("disk full"))).toHaveLength(1);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("survives SIGKILL: the run reads as interrupted, with every call delivered before the kill", async () => {
    const path = join(folder, "killed.db");
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL("./fixtures/history-child.ts", import.meta.url)), path],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise((resolve) => child.on("exit", resolve));
    const delivered: string[] = [];
    await new Promise<void>((resolve) => {
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        for (const line of chunk.split("\n"))
          if (line.startsWith("delivered ")) delivered.push(line.slice("delivered ".length));
        if (delivered.length === 5) resolve();
      });
    });
    // Well past the 50 ms within which a delivered result must reach the file.
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill("SIGKILL");
    await exited;

    const store = new SqliteRunStore({ path });
    const stored = await store.getRun("doomed");
    expect(stored?.run.status).toBe("interrupted");
    expect(stored?.calls.map((call) => call.callId).sort()).toEqual([...delivered].sort());
    expect(stored?.calls.every((call) => call.ok)).toBe(true);
    await store.close();
  });
});
