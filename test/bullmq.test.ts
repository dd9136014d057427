// The BullMQ backend against a real Redis and real worker processes.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bullmqBackend } from "../src/bullmq/index.ts";
import { createExecutor, type RunEvent } from "../src/index.ts";
import { backendContract } from "./backend-contract.ts";
import { combine } from "./fixtures/cli-tools.ts";
import { timedVisit, wait } from "./fixtures/worker-tools.ts";
import { ensureRedis, type TestRedis } from "./redis.ts";

let redis: TestRedis;
const prefix = `volley-test-${process.pid}-${Date.now()}`;
const running = new Set<ChildProcess>();

/** A worker process with the fixture tools; resolves once it takes jobs. */
async function startWorkerProcess(environment: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["test/fixtures/bullmq-worker.ts"], {
    env: { ...process.env, REDIS_PORT: String(redis.port), PREFIX: prefix, ...environment },
    stdio: ["ignore", "pipe", "inherit"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  await new Promise<void>((ready, fail) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) ready();
    });
    child.once("exit", (code) => fail(new Error(`the worker process exited (${code}) before it was ready`)));
  });
  return child;
}

async function stopWorkerProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await exited;
}

const connection = () => ({ host: redis.host, port: redis.port });

beforeAll(async () => {
  redis = await ensureRedis();
  await startWorkerProcess();
}, 30_000);

afterAll(async () => {
  await Promise.all([...running].map((child) => stopWorkerProcess(child)));
  await redis?.stop();
});

backendContract("BullMQ workers", () => bullmqBackend({ connection: connection(), prefix }));

describe("bullmqBackend", () => {
  it("holds a tool's concurrency across the whole cluster: two callers, two workers, at most two at once", async () => {
    const second = await startWorkerProcess();
    const callers = [0, 1].map(() => bullmqBackend({ connection: connection(), prefix }));
    const runs = callers.map((backend, caller) =>
      createExecutor({ tools: [timedVisit], backend }).run(Array.from({ length: 4 }, (_, index) => ({ id: `c${caller}-${index}`, name: "timed_visit", args: { ms: 150 } }))),
    );
    const visits = (await Promise.all(runs)).flatMap((run) => run.results.map((result) => result.output as { started: number; ended: number; pid: number }));
    expect(visits).toHaveLength(8);
    // Each caller alone would allow two: together they would run four, but the cluster allows two.
    const mostAtOnce = Math.max(...visits.map((visit) => visits.filter((other) => other.started <= visit.started && visit.started < other.ended).length));
    expect(mostAtOnce).toBeLessThanOrEqual(2);
    await Promise.all(callers.map((backend) => backend.close()));
    await stopWorkerProcess(second);
  }, 30_000);

  it("reaches the worker with a timeout: the tool there is aborted, and its slot is free for the next call", async () => {
    // One worker that runs one call at a time: the next call can only run if the first was stopped.
    await Promise.all([...running].map((child) => stopWorkerProcess(child)));
    const single = await startWorkerProcess({ CONCURRENCY: "1" });
    const backend = bullmqBackend({ connection: connection(), prefix });
    const executor = createExecutor({ tools: [wait], backend, timeoutMs: 300 });
    const { results } = await executor.run([{ id: "long", name: "wait", args: { ms: 60_000 } }]);
    expect(results[0]?.error).toMatchObject({ type: "timeout" });
    const after = await createExecutor({ tools: [wait], backend }).run([{ id: "next", name: "wait", args: { ms: 10 } }]);
    expect(after.results[0]?.output).toBe("waited");
    await backend.close();
    await stopWorkerProcess(single);
    await startWorkerProcess();
  }, 30_000);

  it("loses nothing when a worker is killed mid-call: the call finishes on another worker, once", async () => {
    const doomed = await startWorkerProcess({ LOCK_MS: "1000" });
    const others = [...running].filter((child) => child !== doomed);
    await Promise.all(others.map((child) => stopWorkerProcess(child)));
    const backend = bullmqBackend({ connection: connection(), prefix });
    const events: RunEvent[] = [];
    const executor = createExecutor({ tools: [timedVisit], backend, onEvent: (event) => events.push(event) });
    const run = executor.start();
    run.add({ id: "survivor", name: "timed_visit", args: { ms: 1500 } });
    run.end();
    // Once the call has started on the doomed worker, kill it without warning and start another.
    await new Promise<void>((started) => {
      const check = setInterval(() => {
        if (events.some((event) => event.type === "call-progress")) {
          clearInterval(check);
          started();
        }
      }, 10);
    });
    await stopWorkerProcess(doomed, "SIGKILL");
    const rescuer = await startWorkerProcess({ LOCK_MS: "1000" });
    const { results } = await run.result;
    expect(results[0]).toMatchObject({ ok: true });
    expect((results[0]?.output as { pid: number }).pid).toBe(rescuer.pid);
    expect(events.filter((event) => event.type === "call-end")).toHaveLength(1);
    await backend.close();
  }, 60_000);

  it("serves a config's tools with `volley worker`", async () => {
    const folder = mkdtempSync(join(tmpdir(), "volley-worker-"));
    writeFileSync(join(folder, "volley.config.json"), JSON.stringify({ tools: [resolve("test/fixtures/cli-tools.ts")], history: false }));
    const cliPrefix = `${prefix}-cli`;
    const child = spawn(process.execPath, [resolve("dist/cli/main.js"), "worker", "--redis", `redis://${redis.host}:${redis.port}`, "--prefix", cliPrefix, "--concurrency", "2"], { cwd: folder, stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((ready) => child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("Volley worker: ") && ready()));
    const backend = bullmqBackend({ connection: connection(), prefix: cliPrefix });
    const { results } = await createExecutor({ tools: [combine], backend }).run([{ name: "combine", args: { counts: [40, 2] } }]);
    expect(results[0]?.output).toBe(42);
    await backend.close();
    const exited = new Promise<number | null>((done) => child.once("exit", done));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const bad = spawn(process.execPath, [resolve("dist/cli/main.js"), "worker", "--redis", "http://nowhere"], { cwd: folder });
    let stderr = "";
    bad.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await new Promise((done) => bad.once("exit", done))).toBe(2);
    expect(stderr.trim()).toBe('volley: --redis takes a redis:// URL, got "http://nowhere"');
    rmSync(folder, { recursive: true, force: true });
  }, 30_000);

  it("rejects options it can't use", () => {
    expect(() => bullmqBackend({ connection: null as never })).toThrow(/connection.*Redis connection options/);
    expect(() => bullmqBackend({ connection: connection(), prefix: "" })).toThrow(/prefix/);
  });
});
