import { afterEach, describe, expect, it } from "vitest";
import { countBytes, describeCall, hogMemory, spin, spinForever, unclonable } from "./worker-tools.fixture.ts";
import { createExecutor, defineTool, type RunEvent } from "../index.ts";
import { createWorkerPool, type WorkerPool } from "./worker-pool.ts";

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

const ioTool = defineTool({
  name: "io",
  execute: (args: unknown) => new Promise((resolve) => setTimeout(() => resolve((args as { n: number }).n), 20)),
});
const endOrder = (events: readonly RunEvent[]) =>
  events.filter((event) => event.type === "call-end").map((event) => (event as { callId: string }).callId);

describe("createWorkerPool", () => {
  it("keeps a busy-looping tool off the event loop: the I/O calls beside it finish while it runs", async () => {
    pool = createWorkerPool({ maxThreads: 1 });
    const events: RunEvent[] = [];
    const executor = createExecutor({ tools: [spin, ioTool], workers: pool, onEvent: (event) => events.push(event) });
    // A chain of five 20 ms I/O calls, each waiting for the one before: they need the event loop five times over.
    const chain = [0, 1, 2, 3, 4].map((n) => ({
      id: `io${n}`,
      name: "io",
      args: { n },
      ...(n > 0 ? { dependsOn: [`io${n - 1}`] } : {}),
    }));
    const { results } = await executor.run([{ id: "cpu", name: "spin", args: { ms: 1500 } }, ...chain]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(endOrder(events)).toEqual(["io0", "io1", "io2", "io3", "io4", "cpu"]);
  });

  it("stops a tool that allocates without bound, replaces its thread, and the run goes on", async () => {
    pool = createWorkerPool({ maxThreads: 1 });
    const executor = createExecutor({ tools: [hogMemory, describeCall], workers: pool });
    const { results } = await executor.run([
      { id: "hog", name: "hog_memory" },
      { id: "after", name: "describe_call", dependsOn: [] },
    ]);
    expect(results[0]).toMatchObject({
      ok: false,
      error: {
        type: "resource_exhausted",
        retryable: false,
        message: expect.stringMatching(
          /^"hog_memory" ran out of memory: it went over its heap limit of 32 MB/,
        ) as string,
      },
    });
    expect(results[1]?.ok).toBe(true);
  });

  it("stops a call over its CPU budget", async () => {
    pool = createWorkerPool({ maxThreads: 1 });
    const executor = createExecutor({ tools: [spinForever, describeCall], workers: pool });
    const { results } = await executor.run([
      { id: "forever", name: "spin_forever" },
      { id: "next", name: "describe_call" },
    ]);
    expect(results[0]?.error).toMatchObject({
      type: "resource_exhausted",
      message: expect.stringMatching(/^"spin_forever" used \d+ ms of CPU, over its budget of 200 ms/) as string,
    });
    expect(results[1]?.ok).toBe(true);
  });

  it("stops a busy call at its timeout, so the slot it held is free for the next", async () => {
    pool = createWorkerPool({ maxThreads: 1 });
    const executor = createExecutor({ tools: [spin], workers: pool, maxConcurrency: 1 });
    // Only the long call has a time limit: the next one may wait as long as a new thread takes to start on a busy machine.
    const { results } = await executor.run([
      { id: "long", name: "spin", args: { ms: 60_000 }, timeoutMs: 200 },
      { id: "short", name: "spin", args: { ms: 10 } },
    ]);
    expect(results[0]?.error).toMatchObject({ type: "timeout", message: '"spin" timed out after 200 ms and stopped.' });
    expect(results[1]?.ok).toBe(true);
  });

  it("says clearly what cannot cross the thread boundary", async () => {
    pool = createWorkerPool({ maxThreads: 1 });
    const executor = createExecutor({ tools: [unclonable, describeCall], workers: pool });
    const { results } = await executor.run([
      { id: "out", name: "unclonable" },
      { id: "in", name: "describe_call", args: { callback: () => 1 } },
    ]);
    expect(results[0]?.error?.message).toMatch(/^DataCloneError: its output cannot cross from the worker thread: /);
    expect(results[1]?.error?.message).toMatch(/^its arguments cannot cross to a worker thread: /);
  });

  it("moves ArrayBuffers when the tool says so, instead of copying them", async () => {
    pool = createWorkerPool({ maxThreads: 1 });
    const data = new Uint8Array(1024);
    const output = await pool.execute(
      countBytes,
      { data },
      {
        signal: new AbortController().signal,
        abortSignal: new AbortController().signal,
        callId: "c",
        toolCallId: "c",
        runId: "r",
        name: "count_bytes",
        attempt: 1,
        progress: () => {},
      },
    );
    expect(output).toBe(1024);
    expect(data.byteLength).toBe(0); // moved away: the caller's view is detached
  });

  it("runs calls beyond its threads in turn, and refuses tools it cannot load", async () => {
    pool = createWorkerPool({ maxThreads: 1 });
    const events: RunEvent[] = [];
    const executor = createExecutor({ tools: [spin], workers: pool, onEvent: (event) => events.push(event) });
    await executor.run([
      { id: "a", name: "spin", args: { ms: 50 } },
      { id: "b", name: "spin", args: { ms: 50 } },
    ]);
    expect(pool.threads).toBe(1);
    const local = defineTool({ name: "local", execute: () => 1 });
    await expect(
      pool.execute(
        local,
        {},
        {
          signal: new AbortController().signal,
          abortSignal: new AbortController().signal,
          callId: "c",
          toolCallId: "c",
          runId: "r",
          name: "local",
          attempt: 1,
          progress: () => {},
        },
      ),
    ).rejects.toThrow(/"local" cannot run in a worker thread: its definition has no worker.module/);
    expect(() => createWorkerPool({ maxThreads: 0 })).toThrow(/maxThreads.*an integer from 1/);
    expect(() => defineTool({ name: "t", execute: () => 1, worker: { module: "" } })).toThrow(/worker\.module/);
    expect(() => defineTool({ name: "t", execute: () => 1, worker: { module: import.meta.url, memoryMb: 2 } })).toThrow(
      /worker\.memoryMb.*from 8 up/,
    );
  });
});
