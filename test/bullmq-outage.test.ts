// Redis going away under a BullMQ run: a private Redis per test, killed as a crash would, with
// real worker processes on it. Whatever happens, every call gets one result and nothing hangs.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Queue } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { bullmqBackend } from "../src/bullmq/index.ts";
import { createExecutor, type Backend, type RunEvent } from "../src/index.ts";
import { timedVisit, wait } from "../src/worker/worker-tools.fixture.ts";
import { startPrivateRedis, type PrivateRedis } from "./redis.ts";
import { VOLLEY_BIN } from "./volley-cli.ts";
import { WorkerProcesses } from "./worker-processes.ts";

const prefix = "volley-outage";
let redis: PrivateRedis | undefined;
let workers: WorkerProcesses | undefined;
let backend: Backend | undefined;

afterEach(async () => {
  await backend?.close();
  await workers?.stopAll();
  await redis?.stop();
  backend = workers = redis = undefined;
});

/** Starts two calls of `timed_visit` on a worker and resolves once both are running there. */
async function twoRunningCalls(executor: ReturnType<typeof createExecutor>, events: RunEvent[]) {
  const run = executor.start();
  run.add({ id: "a", name: "timed_visit", args: { ms: 2500 } });
  run.add({ id: "b", name: "timed_visit", args: { ms: 2500 } });
  run.end();
  await new Promise<void>((running) => {
    const check = setInterval(() => {
      if (events.filter((event) => event.type === "call-progress").length === 2) {
        clearInterval(check);
        running();
      }
    }, 10);
  });
  return run;
}

describe("bullmqBackend when Redis goes away", () => {
  it("carries on through a restart of a Redis that persists its data: every call ends as it would have", async () => {
    redis = await startPrivateRedis({ persistence: true });
    workers = new WorkerProcesses(redis.port, prefix);
    const worker = await workers.start();
    backend = bullmqBackend({ connection: { host: redis.host, port: redis.port }, prefix });
    const events: RunEvent[] = [];
    const run = await twoRunningCalls(
      createExecutor({ tools: [timedVisit], backend, onEvent: (event) => events.push(event) }),
      events,
    );
    await redis.kill();
    await redis.restart();
    const { results } = await run.result;
    expect(results.map((result) => result.ok)).toEqual([true, true]);
    expect(results.map((result) => (result.output as { pid: number }).pid)).toEqual([worker.pid, worker.pid]);
    expect(events.filter((event) => event.type === "call-end")).toHaveLength(2);
    // The worker process lived through it.
    expect(worker.exitCode).toBeNull();
  }, 30_000);

  it("answers calls that a restart without persistence lost, plainly, then sets the cluster's limits again and runs new calls", async () => {
    redis = await startPrivateRedis({ persistence: false });
    workers = new WorkerProcesses(redis.port, prefix);
    await workers.start();
    backend = bullmqBackend({ connection: { host: redis.host, port: redis.port }, prefix });
    const events: RunEvent[] = [];
    const executor = createExecutor({ tools: [timedVisit], backend, onEvent: (event) => events.push(event) });
    const run = await twoRunningCalls(executor, events);
    await redis.kill();
    await redis.restart();
    const { results } = await run.result;
    for (const result of results) {
      expect(result.error).toMatchObject({ type: "tool_error", retryable: false });
      expect(result.error?.message).toMatch(/^Redis restarted and lost this call .*it may have run on a worker/);
    }
    // The restart emptied Redis, the tool's cluster-wide concurrency included: the caller set it again.
    const queue = new Queue("tool.timed_visit", { connection: { host: redis.host, port: redis.port }, prefix });
    expect(await queue.getGlobalConcurrency()).toBe(2);
    await queue.close();
    const after = await executor.run([{ name: "timed_visit", args: { ms: 10 } }]);
    expect(after.results[0]?.ok).toBe(true);
  }, 30_000);

  it("fails calls with a clear error when Redis stays away, answers new calls at once, and closes", async () => {
    redis = await startPrivateRedis({ persistence: false });
    workers = new WorkerProcesses(redis.port, prefix);
    const worker = await workers.start();
    backend = bullmqBackend({ connection: { host: redis.host, port: redis.port }, prefix, outageTimeoutMs: 1000 });
    const events: RunEvent[] = [];
    const executor = createExecutor({ tools: [timedVisit, wait], backend, onEvent: (event) => events.push(event) });
    const run = await twoRunningCalls(executor, events);
    await redis.kill();
    const { results } = await run.result;
    for (const result of results) {
      expect(result.error).toMatchObject({ type: "tool_error", retryable: false });
      expect(result.error?.message).toMatch(
        /^Redis is unreachable \(.+\) for 1 s: the call was sent to the workers, but whether it ran is unknown$/,
      );
    }
    // Nothing can be sent now: new calls are answered at once, retryably, since nothing ran.
    const next = await executor.run([{ name: "wait", args: { ms: 10 } }]);
    expect(next.results[0]?.error).toMatchObject({ type: "tool_error", retryable: true });
    expect(next.results[0]?.error?.message).toMatch(/^Redis is unreachable \(.+\): the call was not sent$/);
    await backend.close();
    backend = undefined;
    // A worker asked to stop while Redis is away stops too.
    expect(await workers.stop(worker)).toBe(0);
  }, 30_000);

  it("lets `volley worker` be stopped by a second signal while its graceful stop waits for a Redis that went away", async () => {
    redis = await startPrivateRedis({ persistence: false });
    const folder = mkdtempSync(join(tmpdir(), "volley-worker-stop-"));
    writeFileSync(
      join(folder, "volley.config.json"),
      JSON.stringify({
        tools: [resolve("src/worker/worker-tools.fixture.ts")],
        history: false,
        bullmq: { redis: `redis://${redis.host}:${redis.port}`, prefix },
      }),
    );
    const child = spawn(process.execPath, [VOLLEY_BIN, "worker"], { cwd: folder, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const printed = async (text: string) => {
      while (!output.includes(text)) await new Promise((resolve) => child.stdout.once("data", resolve));
    };
    const exited = new Promise<number | null>((done) => child.once("exit", done));
    try {
      await printed("Volley worker: ");
      backend = bullmqBackend({ connection: { host: redis.host, port: redis.port }, prefix, outageTimeoutMs: 1000 });
      const events: RunEvent[] = [];
      const run = await twoRunningCalls(
        createExecutor({ tools: [timedVisit], backend, onEvent: (event) => events.push(event) }),
        events,
      );
      child.kill("SIGTERM");
      await printed("stopping once running calls finish");
      await redis.kill();
      // The calls end on the worker, and their results have nowhere to go: the graceful stop waits for Redis.
      await run.result;
      child.kill("SIGTERM");
      expect(await exited).toBe(1);
      expect(output).toContain("quitting without waiting");
    } finally {
      child.kill("SIGKILL");
      rmSync(folder, { recursive: true, force: true });
    }
  }, 30_000);

  it("has `volley worker` say plainly that Redis is unreachable and that it keeps trying, then start once Redis answers", async () => {
    redis = await startPrivateRedis({ persistence: false });
    await redis.kill();
    const folder = mkdtempSync(join(tmpdir(), "volley-worker-wait-"));
    writeFileSync(
      join(folder, "volley.config.json"),
      JSON.stringify({
        tools: [resolve("src/worker/worker-tools.fixture.ts")],
        history: false,
        bullmq: { redis: `redis://${redis.host}:${redis.port}`, prefix },
      }),
    );
    const child = spawn(process.execPath, [VOLLEY_BIN, "worker"], { cwd: folder, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let errors = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    const until = async (done: () => boolean) => {
      while (!done()) await new Promise((resolve) => setTimeout(resolve, 50));
    };
    const exited = new Promise<number | null>((done) => child.once("exit", done));
    try {
      await until(() => errors.includes("retrying"));
      expect(errors.trim()).toBe(
        `volley worker: Redis at ${redis.host}:${redis.port} is unreachable (connect ECONNREFUSED ${redis.host}:${redis.port}); retrying until it answers. Ctrl-C stops.`,
      );
      expect(output).toBe("");
      await redis.restart();
      await until(() => output.includes("Volley worker: "));
      expect(errors).toContain(`volley worker: Redis at ${redis.host}:${redis.port} answers now`);
      expect(errors).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      child.kill("SIGTERM");
      await exited;
      rmSync(folder, { recursive: true, force: true });
    }
    // Stopped by a signal once it had started, the worker exits cleanly.
    expect(await exited).toBe(0);
  }, 30_000);

  it("rejects an outage timeout it can't use", () => {
    expect(() => bullmqBackend({ connection: {}, outageTimeoutMs: 0 })).toThrow(/outageTimeoutMs.*from 1 up/);
  });
});
