// The BullMQ backend against a real Redis and real worker processes.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { context, propagation, SpanKind } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bullmqBackend } from "../src/bullmq/index.ts";
import { createExecutor, type RunEvent, type RunResult } from "../src/index.ts";
import { createTracing } from "../src/otel/index.ts";
import { backendContract } from "../src/backend/backend.contract.ts";
import { combine } from "./fixtures/cli-tools.ts";
import { describeCall, refuse, timedVisit, wait, whichThread } from "../src/worker/worker-tools.fixture.ts";
import { ensureRedis, type TestRedis } from "./redis.ts";
import { runVolley, VOLLEY_BIN, type CliOutcome } from "./volley-cli.ts";
import { WorkerProcesses } from "./worker-processes.ts";

let redis: TestRedis;
let workers: WorkerProcesses;
const prefix = `volley-test-${process.pid}-${Date.now()}`;
const connection = () => ({ host: redis.host, port: redis.port });

beforeAll(async () => {
  redis = await ensureRedis();
  workers = new WorkerProcesses(redis.port, prefix);
  await workers.start();
}, 30_000);

afterAll(async () => {
  await workers?.stopAll();
  await redis?.stop();
});

backendContract("BullMQ workers", () => bullmqBackend({ connection: connection(), prefix }));

describe("bullmqBackend", () => {
  it("runs tools declared with `worker` in the worker process's threads, and the others on its main thread", async () => {
    const backend = bullmqBackend({ connection: connection(), prefix });
    const { results } = await createExecutor({ tools: [describeCall, whichThread], backend }).run([
      { name: "describe_call" },
      { name: "which_thread" },
    ]);
    expect(results[0]?.output).toMatchObject({ mainThread: false });
    expect(results[1]?.output).toMatchObject({ mainThread: true });
    expect((results[1]?.output as { pid: number }).pid).not.toBe(process.pid);
    await backend.close();
  }, 30_000);

  it("carries the trace to the worker: its span is a child of the call's execute_tool span", async () => {
    const folder = mkdtempSync(join(tmpdir(), "volley-trace-"));
    const traceFile = join(folder, "spans.jsonl");
    // Workers of their own, so that the traced one takes the call.
    const tracedPrefix = `${prefix}-traced`;
    const traced = new WorkerProcesses(redis.port, tracedPrefix);
    await traced.start({ TRACE_FILE: traceFile });
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    try {
      const backend = bullmqBackend({ connection: connection(), prefix: tracedPrefix });
      const executor = createExecutor({
        tools: [describeCall, refuse],
        backend,
        instrumentation: createTracing({ tracerProvider }),
      });
      await executor.run([
        { id: "traced", name: "describe_call" },
        { id: "refused", name: "refuse" },
      ]);
      await backend.close();
      const callSpan = (callId: string) =>
        exporter
          .getFinishedSpans()
          .find((span) => span.attributes["gen_ai.tool.call.id"] === callId)!
          .spanContext();
      const workerSpans = readFileSync(traceFile, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(workerSpans).toHaveLength(2);
      for (const [callId, tool] of [
        ["traced", "describe_call"],
        ["refused", "refuse"],
      ] as const) {
        expect(
          workerSpans.find((span) => (span.attributes as Record<string, unknown>)["gen_ai.tool.call.id"] === callId),
        ).toMatchObject({
          name: `process tool.${tool}`,
          kind: SpanKind.CONSUMER,
          traceId: callSpan(callId).traceId,
          parentSpanId: callSpan(callId).spanId,
          attributes: { "messaging.system": "bullmq", "gen_ai.tool.name": tool, "volley.attempt": 1 },
        });
      }
      expect(workerSpans.find((span) => span.name === "process tool.refuse")?.attributes).toMatchObject({
        "error.type": "ToolError",
      });
    } finally {
      context.disable();
      propagation.disable();
      await traced.stopAll();
      rmSync(folder, { recursive: true, force: true });
    }
  }, 30_000);

  it("holds a tool's concurrency across the whole cluster: two callers, two workers, at most two at once", async () => {
    const second = await workers.start();
    const callers = [0, 1].map(() => bullmqBackend({ connection: connection(), prefix }));
    const runs = callers.map((backend, caller) =>
      createExecutor({ tools: [timedVisit], backend }).run(
        Array.from({ length: 4 }, (_, index) => ({
          id: `c${caller}-${index}`,
          name: "timed_visit",
          args: { ms: 150 },
        })),
      ),
    );
    const visits = (await Promise.all(runs)).flatMap((run) =>
      run.results.map((result) => result.output as { started: number; ended: number; pid: number }),
    );
    expect(visits).toHaveLength(8);
    // Each caller alone would allow two: together they would run four, but the cluster allows two.
    const mostAtOnce = Math.max(
      ...visits.map(
        (visit) => visits.filter((other) => other.started <= visit.started && visit.started < other.ended).length,
      ),
    );
    expect(mostAtOnce).toBeLessThanOrEqual(2);
    await Promise.all(callers.map((backend) => backend.close()));
    await workers.stop(second);
  }, 30_000);

  it("reaches the worker with a timeout: the tool there is aborted, and its slot is free for the next call", async () => {
    // One worker that runs one call at a time: the next call can only run if the first was stopped.
    await workers.stopAll();
    const single = await workers.start({ CONCURRENCY: "1" });
    const backend = bullmqBackend({ connection: connection(), prefix });
    const executor = createExecutor({ tools: [wait], backend, timeoutMs: 300 });
    const { results } = await executor.run([{ id: "long", name: "wait", args: { ms: 60_000 } }]);
    expect(results[0]?.error).toMatchObject({ type: "timeout" });
    const after = await createExecutor({ tools: [wait], backend }).run([
      { id: "next", name: "wait", args: { ms: 10 } },
    ]);
    expect(after.results[0]?.output).toBe("waited");
    await backend.close();
    await workers.stop(single);
    await workers.start();
  }, 30_000);

  it("loses nothing when a worker is killed mid-call: the call finishes on another worker, once", async () => {
    const doomed = await workers.start({ LOCK_MS: "1000" });
    const others = [...workers.running].filter((child) => child !== doomed);
    await Promise.all(others.map((child) => workers.stop(child)));
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
    await workers.stop(doomed, "SIGKILL");
    const rescuer = await workers.start({ LOCK_MS: "1000" });
    const { results } = await run.result;
    expect(results[0]).toMatchObject({ ok: true });
    expect((results[0]?.output as { pid: number }).pid).toBe(rescuer.pid);
    expect(events.filter((event) => event.type === "call-end")).toHaveLength(1);
    await backend.close();
  }, 60_000);

  it("answers every call of a burst bigger than the event stream BullMQ keeps", async () => {
    const second = await workers.start();
    const backend = bullmqBackend({ connection: connection(), prefix });
    const { results, stats } = await createExecutor({ tools: [wait], backend, maxConcurrency: Infinity }).run(
      Array.from({ length: 12_000 }, () => ({ name: "wait", args: { ms: 0 } })),
    );
    expect(results).toHaveLength(12_000);
    expect(stats.succeeded).toBe(12_000);
    await backend.close();
    await workers.stop(second);
  }, 60_000);

  it("answers every call of a caller whose event loop stalled while another caller kept the tool busy", async () => {
    const second = await workers.start();
    const backend = bullmqBackend({ connection: connection(), prefix });
    const executor = createExecutor({ tools: [wait], backend, maxConcurrency: Infinity });
    const started: string[] = [];
    const run = executor.start({ onEvent: (event) => event.type === "call-start" && started.push(event.callId) });
    for (let index = 0; index < 16; index++) run.add({ id: `mine-${index}`, name: "wait", args: { ms: 800 } });
    run.end();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(started).toHaveLength(16);
    // The other caller floods the same queue; this one stalls meanwhile, and its calls end during the stall.
    const other = spawn(process.execPath, ["test/fixtures/bullmq-caller.ts"], {
      env: { ...process.env, REDIS_PORT: String(redis.port), PREFIX: prefix, CALLS: "5000" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const otherDone = new Promise<string>((resolve) => {
      let said = "";
      other.stdout.on("data", (chunk: Buffer) => (said += chunk.toString()));
      other.once("exit", () => resolve(said));
    });
    await new Promise<void>((resolve) => other.stdout.once("data", () => resolve()));
    const stallUntil = Date.now() + 4000;
    while (Date.now() < stallUntil) {
      // A synchronous step, as a CPU-heavy tool or a big JSON parse in the caller can take.
    }
    const { results } = await run.result;
    expect(results.map((result) => result.output)).toEqual(Array.from({ length: 16 }, () => "waited"));
    expect(await otherDone).toMatch(/done 5000/);
    await backend.close();
    await workers.stop(second);
  }, 60_000);

  it("serves a config's tools with `volley worker`, and `volley run` sends calls to it when the config names Redis", async () => {
    const folder = mkdtempSync(join(tmpdir(), "volley-worker-"));
    const config = (extra: object) =>
      writeFileSync(
        join(folder, "volley.config.json"),
        JSON.stringify({ tools: [resolve("test/fixtures/cli-tools.ts")], history: false, ...extra }),
      );
    const cliPrefix = `${prefix}-cli`;
    // The worker takes Redis and the prefix from the config, as `volley run` does.
    config({ bullmq: { redis: `redis://${redis.host}:${redis.port}`, prefix: cliPrefix } });
    const child = spawn(process.execPath, [VOLLEY_BIN, "worker", "--concurrency", "2"], {
      cwd: folder,
      stdio: ["ignore", "pipe", "pipe"],
    });
    await new Promise<void>((ready) =>
      child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("Volley worker: ") && ready()),
    );
    const backend = bullmqBackend({ connection: connection(), prefix: cliPrefix });
    const { results } = await createExecutor({ tools: [combine], backend }).run([
      { name: "combine", args: { counts: [40, 2] } },
    ]);
    expect(results[0]?.output).toBe(42);
    await backend.close();

    const calls = JSON.stringify([{ name: "which_command" }, { name: "combine", args: { counts: [1, 2] } }]);
    const outputs = (outcome: CliOutcome) =>
      (JSON.parse(outcome.stdout) as RunResult).results.map((result) => result.output);
    expect(outputs(await runVolley(["run", "-", "--json"], { cwd: folder, input: calls }))).toEqual(["worker", 3]);
    // --redis and --prefix name them on the command line; without either, the tools run in `volley run` itself.
    config({});
    expect(
      outputs(
        await runVolley(
          ["run", "-", "--json", "--redis", `redis://${redis.host}:${redis.port}`, "--prefix", cliPrefix],
          { cwd: folder, input: calls },
        ),
      ),
    ).toEqual(["worker", 3]);
    expect(outputs(await runVolley(["run", "-", "--json"], { cwd: folder, input: calls }))).toEqual(["run", 3]);

    const exited = new Promise<number | null>((done) => child.once("exit", done));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(await runVolley(["worker", "--redis", "http://nowhere"], { cwd: folder })).toMatchObject({
      code: 2,
      stderr: 'volley: --redis takes a redis:// URL, got "http://nowhere"\n',
    });
    config({ bullmq: { redis: "redis://127.0.0.1:6379", queue: "x" } });
    expect(await runVolley(["run", "-"], { cwd: folder, input: calls })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('in "bullmq", unknown key `queue`; the keys are redis, prefix') as string,
    });
    rmSync(folder, { recursive: true, force: true });
  }, 60_000);

  it("rejects options it can't use", () => {
    expect(() => bullmqBackend({ connection: null as never })).toThrow(/connection.*Redis connection options/);
    expect(() => bullmqBackend({ connection: connection(), prefix: "" })).toThrow(/prefix/);
  });
});
