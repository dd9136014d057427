import { AsyncLocalStorage } from "node:async_hooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import * as v from "valibot";
import { type } from "arktype";
import { createExecutor, defineTool, ToolError, type RunEvent, type ToolResult } from "../index.ts";
import { fakeTool } from "../testing/index.ts";
import { MemoryRunStore } from "../store/index.ts";
import { controlledTool, microtasks, recordingExecutor, startOrder, useFakeTime } from "../../test/support.ts";

afterEach(() => {
  vi.useRealTimers();
});

const echo = defineTool({ name: "echo", execute: (args) => args });

describe("results", () => {
  it("answers every call in call order, with timing and stats measured on the clock", async () => {
    const clock = useFakeTime();
    const slow = fakeTool({ name: "slow", latencyMs: 300, output: (args) => `slow ${String(args.n)}` });
    const fast = fakeTool({ name: "fast", latencyMs: 100, output: (args) => `fast ${String(args.n)}` });
    const executor = createExecutor({ tools: [slow, fast], clock });
    const run = executor.run([
      { id: "a", name: "slow", args: { n: 1 } },
      { id: "b", name: "fast", args: { n: 2 } },
      { id: "c", name: "fast", args: { n: 3 } },
    ]);
    await vi.runAllTimersAsync();
    const { results, stats, status } = await run;
    expect(status).toBe("completed");
    expect(results.map((result) => [result.id, result.ok, result.output])).toEqual([
      ["a", true, "slow 1"],
      ["b", true, "fast 2"],
      ["c", true, "fast 3"],
    ]);
    expect(results.map((result) => result.durationMs)).toEqual([300, 100, 100]);
    expect(results.every((result) => result.attempts === 1 && result.queuedMs === 0 && !result.cached)).toBe(true);
    expect(stats).toMatchObject({ calls: 3, succeeded: 3, failed: 0, wallMs: 300, sumMs: 500, criticalPathMs: 300, maxInFlight: 3 });
    expect(stats.speedup).toBeCloseTo(500 / 300);
  });

  it("gives no speedup where it means nothing: one call, or no call that ran", async () => {
    const executor = createExecutor({ tools: [fakeTool({ name: "one" })] });
    expect((await executor.run([{ name: "one" }])).stats.speedup).toBeNull();
    expect((await executor.run([{ name: "one" }, { name: "nothing" }])).stats.speedup).toBeNull();
    expect((await executor.run([{ name: "nothing" }, { name: "nothing" }])).stats.speedup).toBeNull();
    expect((await executor.run([{ name: "one" }, { name: "one" }])).stats.speedup).toEqual(expect.any(Number));
    // The average speaks only of runs that have one.
    expect(executor.stats()).toMatchObject({ runs: 4, averageSpeedup: expect.any(Number) as number });
  });

  it("starts the next call at the time it really starts, after whatever code ran when the last one ended", async () => {
    // A clock only the test moves: code that runs between one call's end and the next start moves it.
    let time = 0;
    const clock = { now: () => time };
    const instant = defineTool({ name: "instant", execute: () => Promise.resolve("done") });
    const checked = defineTool({
      name: "checked",
      input: { "~standard": { version: 1, vendor: "test", validate: (value: unknown) => ((time += 7), { value }) } },
      execute: () => Promise.resolve("checked"),
    });
    const quiet = await createExecutor({ tools: [instant], maxConcurrency: 1, clock }).run([{ name: "instant" }, { name: "instant" }]);
    expect(quiet.results[1]?.startedAt).toBe(quiet.results[0]?.endedAt);

    const onEvent = (event: RunEvent): void => {
      if (event.type === "call-end") time += 50;
    };
    const listened = await createExecutor({ tools: [instant], maxConcurrency: 1, clock, onEvent }).run([{ name: "instant" }, { name: "instant" }]);
    expect((listened.results[1]?.startedAt ?? 0) - (listened.results[0]?.endedAt ?? 0)).toBe(50);

    const validated = await createExecutor({ tools: [instant, checked], clock }).run([
      { id: "first", name: "instant" },
      { name: "checked", dependsOn: ["first"] },
    ]);
    expect((validated.results[1]?.startedAt ?? 0) - (validated.results[0]?.endedAt ?? 0)).toBe(7);
  });

  it("generates ids for calls without one, never reusing an id a caller gave", async () => {
    const executor = createExecutor({ tools: [echo] });
    const { results } = await executor.run([{ name: "echo" }, { id: "call_2", name: "echo" }, { name: "echo" }]);
    expect(results.map((result) => result.id)).toEqual(["call_0", "call_2", "call_2_1"]);
    expect(results.every((result) => result.ok)).toBe(true);
  });

  it("generates the same ids in every run, however long the batch", async () => {
    const executor = createExecutor({ tools: [echo] });
    // Past the first 16,384 positions, whose ids are made once and shared between runs.
    const calls = Array.from({ length: 16_400 }, () => ({ name: "echo" }));
    for (let run = 0; run < 2; run++) {
      const { results } = await executor.run(calls);
      expect(results.map((result) => result.id)).toEqual(calls.map((_, index) => `call_${index}`));
    }
  });

  it("takes raw JSON text as a model emits it", async () => {
    const executor = createExecutor({ tools: [echo] });
    const { results } = await executor.run([{ name: "echo", args: '{"city":"Oslo","days":[1,2]}' }, { name: "echo", args: "" }]);
    expect(results[0]?.output).toEqual({ city: "Oslo", days: [1, 2] });
    expect(results[1]?.output).toEqual({});
  });

  it("runs synchronous tools and tools that throw synchronously", async () => {
    const thrower = defineTool({
      name: "thrower",
      execute: () => {
        throw new TypeError("bad thing");
      },
    });
    const executor = createExecutor({ tools: [echo, thrower] });
    const { results } = await executor.run([{ name: "thrower" }, { name: "echo", args: { x: 1 } }]);
    expect(results[0]?.error).toEqual({ type: "tool_error", message: "TypeError: bad thing", retryable: false });
    expect(results[1]?.output).toEqual({ x: 1 });
  });
});

describe("dependencies", () => {
  it("replaces a $ref with the referenced output itself, not a string", async () => {
    const search = defineTool({ name: "search", execute: () => [{ snippet: "hot rocks", score: 0.9 }] });
    const seen: unknown[] = [];
    const summarize = defineTool({ name: "summarize", execute: (args) => (seen.push(args), "ok") });
    const executor = createExecutor({ tools: [search, summarize] });
    const calls = [
      { id: "a", name: "search" },
      { id: "b", name: "summarize", args: { text: { $ref: "a", path: "/0/snippet" }, all: { $ref: "a" }, nested: [{ score: { $ref: "a", path: "/0/score" } }] } },
    ];
    const original = structuredClone(calls);
    const { results } = await executor.run(calls);
    expect(results[1]?.ok).toBe(true);
    expect(seen[0]).toEqual({ text: "hot rocks", all: [{ snippet: "hot rocks", score: 0.9 }], nested: [{ score: 0.9 }] });
    expect(calls).toEqual(original);
  });

  it("starts a ready dependent in the same turn its dependency ends, with no timer", async () => {
    useFakeTime();
    const first = controlledTool("first");
    const second = controlledTool("second");
    const executor = createExecutor({ tools: [first.tool, second.tool] });
    const run = executor.run([
      { id: "a", name: "first" },
      { id: "b", name: "second", args: { input: { $ref: "a" } } },
    ]);
    expect(first.running()).toEqual(["a"]);
    expect(second.started).toHaveLength(0);
    first.finish("a", 42);
    await microtasks();
    expect(second.started.map((item) => item.args)).toEqual([{ input: 42 }]);
    expect(vi.getTimerCount()).toBe(0);
    second.finish("b");
    await run;
  });

  it("waits for dependsOn without passing any value", async () => {
    const { executor, events } = recordingExecutor({ tools: [fakeTool({ name: "step", latencyMs: 1 })] });
    await executor.run([
      { id: "late", name: "step", dependsOn: ["early"] },
      { id: "early", name: "step" },
    ]);
    const order = events.filter((event) => event.type === "call-start" || event.type === "call-end").map((event) => `${event.type}:${(event as { callId: string }).callId}`);
    expect(order).toEqual(["call-start:early", "call-end:early", "call-start:late", "call-end:late"]);
  });

  it("answers dependents of a failed call dependency_failed, naming it, and runs the rest", async () => {
    const broken = defineTool({
      name: "broken",
      execute: () => {
        throw new Error("disk full");
      },
    });
    const executor = createExecutor({ tools: [broken, echo] });
    const { results } = await executor.run([
      { id: "a", name: "broken" },
      { id: "b", name: "echo", args: { x: { $ref: "a" } } },
      { id: "c", name: "echo", dependsOn: ["b"] },
      { id: "d", name: "echo" },
    ]);
    expect(results.map((result) => result.error?.type ?? "ok")).toEqual(["tool_error", "dependency_failed", "dependency_failed", "ok"]);
    expect(results[1]?.error).toMatchObject({ callIds: ["a"], message: 'Not run: it depends on call "a" (broken), which failed (tool_error).' });
    expect(results[2]?.error?.callIds).toEqual(["b"]);
  });

  it("answers every call on a cycle `cycle`, fails what depends on it, and runs the rest", async () => {
    const executor = createExecutor({ tools: [echo] });
    const { results } = await executor.run([
      { id: "x", name: "echo", args: { v: { $ref: "z" } } },
      { id: "y", name: "echo", args: { v: { $ref: "x" } } },
      { id: "z", name: "echo", dependsOn: ["y"] },
      { id: "after", name: "echo", dependsOn: ["z"] },
      { id: "self", name: "echo", args: { v: { $ref: "self" } } },
      { id: "free", name: "echo" },
    ]);
    expect(results.map((result) => result.error?.type ?? "ok")).toEqual(["cycle", "cycle", "cycle", "dependency_failed", "cycle", "ok"]);
    expect(results[0]?.error?.callIds).toEqual(["x", "y", "z"]);
    expect(results[0]?.error?.message).toBe('Not run: calls "x", "y" and "z" depend on each other in a cycle.');
    expect(results[4]?.error?.message).toBe('Not run: calls "self" depends on itself.');
  });

  it("answers a $ref to a missing call or a missing path invalid_reference", async () => {
    const executor = createExecutor({ tools: [echo] });
    const { results } = await executor.run([
      { id: "a", name: "echo", args: { list: [1] } },
      { id: "b", name: "echo", args: { v: { $ref: "nowhere" } } },
      { id: "c", name: "echo", args: { v: { $ref: "a", path: "/list/5" } } },
      { id: "d", name: "echo", args: { v: { $ref: "a", path: "list" } } },
    ]);
    expect(results[1]?.error).toMatchObject({ type: "invalid_reference", message: 'Not run: it refers to call "nowhere", which is not in this run.' });
    expect(results[2]?.error).toMatchObject({ type: "invalid_reference", message: 'Not run: the output of call "a" has nothing at "/list/5".' });
    expect(results[3]?.error?.type).toBe("invalid_arguments");
  });

  it("gives a tool that takes JSON Schema documents its $ref objects as they are", async () => {
    const seen: unknown[] = [];
    const validate = defineTool({ name: "validate", execute: (args) => (seen.push(args), "valid") });
    const store = defineTool({ name: "store", references: false, execute: (args) => (seen.push(args), "stored") });
    const fetch = defineTool({ name: "fetch", execute: () => ({ id: 7 }) });
    const schema = { type: "object", properties: { user: { $ref: "#/definitions/user" } }, definitions: { user: { type: "object" } } };
    const { results } = await createExecutor({ tools: [validate, store, fetch] }).run([
      { id: "f", name: "fetch" },
      // A document reference is data; a call reference beside it still works; $literal escapes one that looks like a call's.
      { id: "v", name: "validate", args: { schema, id: { $ref: "f", path: "/id" }, example: { $literal: { $ref: "f" } } } },
      // A tool that opts out reads no references at all.
      { id: "s", name: "store", args: { document: { $ref: "f" } } },
    ]);
    expect(results.map((result) => result.ok)).toEqual([true, true, true]);
    expect(seen).toContainEqual({ schema, id: 7, example: { $ref: "f" } });
    expect(seen).toContainEqual({ document: { $ref: "f" } });
  });

  it("never reads a $ref path through a prototype", async () => {
    const executor = createExecutor({ tools: [echo] });
    const { results } = await executor.run([
      { id: "a", name: "echo", args: { x: 1 } },
      { id: "b", name: "echo", args: { v: { $ref: "a", path: "/constructor/name" } } },
    ]);
    expect(results[1]?.error?.type).toBe("invalid_reference");
  });
});

describe("bad input is answered per call", () => {
  const search = defineTool({ name: "search", input: z.object({ query: z.string(), limit: z.number().int().default(5) }), execute: (args) => args });

  it("names the unknown tool and lists the available ones", async () => {
    const executor = createExecutor({ tools: [search, echo] });
    const { results } = await executor.run([{ name: "serach" }, { name: 7 as unknown as string }]);
    expect(results[0]?.error).toEqual({ type: "unknown_tool", message: 'Unknown tool "serach". Did you mean "search"? Available tools: search, echo.', retryable: false });
    expect(results[1]?.error?.message).toBe("The call names no tool. Available tools: search, echo.");
  });

  it("rejects arguments that are not JSON, not an object, or fail the schema; passes the parsed value on", async () => {
    const executor = createExecutor({ tools: [search] });
    const { results } = await executor.run([
      { name: "search", args: '{"query": "tides"' },
      { name: "search", args: "[1,2]" },
      { name: "search", args: { query: 42 } },
      { name: "search", args: { query: "tides" } },
    ]);
    expect(results[0]?.error?.message).toMatch(/^Invalid call to "search": Arguments are not valid JSON: /);
    expect(results[1]?.error?.message).toBe('Invalid call to "search": Arguments must be a JSON object, got an array');
    expect(results[2]?.error?.message).toBe('Arguments for "search" do not match its input schema: /query: Invalid input: expected string, received number');
    expect(results[3]?.output).toEqual({ query: "tides", limit: 5 });
  });

  it("validates with valibot, arktype and a plain JSON Schema too", async () => {
    const withValibot = defineTool({ name: "v", input: v.object({ n: v.number() }), execute: (args) => args.n * 2 });
    const withArktype = defineTool({ name: "a", input: type({ city: "string", "days?": "1 <= number.integer <= 14" }), execute: (args) => args.city });
    const withJsonSchema = defineTool({
      name: "j",
      input: { type: "object", properties: { n: { type: "integer", minimum: 1 } }, required: ["n"], additionalProperties: false },
      execute: (args) => args,
    });
    const executor = createExecutor({ tools: [withValibot, withArktype, withJsonSchema] });
    const { results } = await executor.run([
      { name: "v", args: { n: 2 } },
      { name: "v", args: { n: "2" } },
      { name: "j", args: { n: 3 } },
      { name: "j", args: { n: 0, extra: true } },
      { name: "a", args: { city: "Oslo", days: 3 } },
      { name: "a", args: { city: "Oslo", days: 30 } },
    ]);
    expect(results[0]?.output).toBe(4);
    expect(results[1]?.error?.message).toMatch(/^Arguments for "v" do not match its input schema: \/n: /);
    expect(results[2]?.output).toEqual({ n: 3 });
    expect(results[3]?.error?.type).toBe("invalid_arguments");
    expect(results[3]?.error?.message).toContain("/n:");
    expect(results[4]?.output).toBe("Oslo");
    expect(results[5]?.error?.message).toMatch(/^Arguments for "a" do not match its input schema: \/days: /);
  });

  it("supports async Standard Schema validation", async () => {
    const asyncSchema = z.object({ user: z.string().refine(async (name) => name !== "mallory", "unknown user") });
    const tool = defineTool({ name: "lookup", input: asyncSchema, execute: (args) => args.user });
    const executor = createExecutor({ tools: [tool] });
    const { results } = await executor.run([{ name: "lookup", args: { user: "alice" } }, { name: "lookup", args: { user: "mallory" } }]);
    expect(results[0]?.output).toBe("alice");
    expect(results[1]?.error?.message).toContain("unknown user");
  });

  it("refuses keys that could pollute a prototype, and never pollutes one", async () => {
    const executor = createExecutor({ tools: [echo] });
    const { results } = await executor.run([
      { name: "echo", args: '{"a": {"__proto__": {"polluted": true}}}' },
      { name: "echo", args: '{"constructor": {"prototype": {"polluted": true}}}' },
      { name: "echo", args: { constructor: "a plain string is harmless" } },
    ]);
    expect(results[0]?.error?.message).toBe('Invalid call to "echo": The key "__proto__" at /a is not allowed in arguments');
    expect(results[1]?.error?.type).toBe("invalid_arguments");
    expect(results[2]?.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("answers a duplicate id without running it, and keeps the first", async () => {
    const executor = createExecutor({ tools: [echo] });
    const { results } = await executor.run([
      { id: "a", name: "echo", args: { n: 1 } },
      { id: "a", name: "echo", args: { n: 2 } },
      { id: "b", name: "echo", args: { n: { $ref: "a", path: "/n" } } },
    ]);
    expect(results[0]?.output).toEqual({ n: 1 });
    expect(results[1]?.error).toMatchObject({ type: "invalid_arguments", callIds: ["a"] });
    expect(results[2]?.output).toEqual({ n: 1 });
  });

  it("answers bad call fields instead of throwing", async () => {
    const executor = createExecutor({ tools: [echo] });
    const { results } = await executor.run([
      { name: "echo", priority: "high" as unknown as number },
      { name: "echo", timeoutMs: -5 },
      { name: "echo", dependsOn: "a" as unknown as string[] },
    ]);
    expect(results.map((result) => result.error?.message)).toEqual([
      'Invalid call to "echo": "priority" must be a finite number, got "high" (string)',
      'Invalid call to "echo": "timeoutMs" must be a number of milliseconds above 0, got -5 (number)',
      'Invalid call to "echo": "dependsOn" must be an array of call ids, got "a" (string)',
    ]);
  });

  it("fails outputs that JSON can't carry instead of handing them on", async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const odd = defineTool({ name: "odd", execute: (args) => (args.kind === "bigint" ? 10n : args.kind === "circular" ? circular : { fine: true }) });
    const executor = createExecutor({ tools: [odd] });
    const { results } = await executor.run([{ name: "odd", args: { kind: "bigint" } }, { name: "odd", args: { kind: "circular" } }, { name: "odd" }]);
    expect(results[0]?.error?.message).toBe('"odd" returned an output that is not JSON-serialisable: a BigInt is not a JSON value.');
    expect(results[1]?.error?.message).toMatch(/^"odd" returned an output that is not JSON-serialisable: .*circular/i);
    expect(results[2]?.ok).toBe(true);
  });
});

describe("API misuse throws, saying what was expected and what arrived", () => {
  it("checks executor options", () => {
    expect(() => createExecutor({ tools: [echo], maxConcurrency: 0 })).toThrow("createExecutor: expected `maxConcurrency` to be an integer from 1 and up, or Infinity, got 0 (number)");
    expect(() => createExecutor({ tools: "echo" as never })).toThrow("createExecutor: expected `tools` to be an array of tools made by defineTool(), got \"echo\" (string)");
    expect(() => createExecutor({ tools: [echo, echo] })).toThrow('two tools are named "echo"');
    expect(() => createExecutor({ tools: [], maxConcurency: 2 } as never)).toThrow("createExecutor: unknown option `maxConcurency`; did you mean `maxConcurrency`?");
    expect(() => createExecutor({ tools: [], speed: 2 } as never)).toThrow(/^createExecutor: unknown option `speed`; the options are tools, maxConcurrency, parallel/);
    expect(() => createExecutor({ tools: [] }).start({ timeout: 5 } as never)).toThrow("executor.start: unknown option `timeout`; did you mean `timeoutMs`?");
    expect(() => createExecutor({ tools: [{ name: "x" } as never] })).toThrow("expected `tools[0]` to be a tool made by defineTool(), got an object");
  });

  it("checks tool definitions", () => {
    expect(() => defineTool({ name: "has space", execute: () => 1 })).toThrow(/expected `name` to be 1 to 128 letters/);
    expect(() => defineTool({ name: "t", execute: () => 1, concurency: 2 } as never)).toThrow('defineTool("t"): unknown option `concurency`; did you mean `concurrency`?');
    expect(() => defineTool({ name: "t", execute: () => 1, concurrency: 1.5 })).toThrow('defineTool("t"): expected `concurrency` to be an integer from 1 and up, or Infinity, got 1.5 (number)');
    expect(() => defineTool({ name: "t", execute: () => 1, retry: { attempts: 0 } })).toThrow("expected `retry.attempts` to be an integer from 1 and up, got 0 (number)");
    expect(() => defineTool({ name: "t", execute: () => 1, rateLimit: { limit: 5, intervalMs: 0 } })).toThrow("expected `rateLimit.intervalMs`");
  });

  it("rejects a run that is not an array, and adding to an ended run", async () => {
    const executor = createExecutor({ tools: [echo] });
    await expect(executor.run("echo" as never)).rejects.toThrow('executor.run: expected an array of tool calls, got "echo" (string)');
    await expect(executor.run([], { maxConcurrency: -1 })).rejects.toThrow("executor.run: expected `maxConcurrency`");
    expect(() => executor.start({ resumes: 7 as never })).toThrow("executor.start: expected `resumes` to be the id of another run, got 7 (number)");
    expect(() => executor.start({ runId: "same", resumes: "same" })).toThrow('executor.start: expected `resumes` to be the id of another run, got "same" (string)');
    const live = executor.start();
    live.end();
    expect(() => live.add({ name: "echo" })).toThrow(/is ended: no more calls can be added/);
    expect(() => executor.start().add(null as never)).toThrow("Expected a tool call object ({ name, args?, id? }), got null");
  });
});

describe("dispatch order", () => {
  it("starts the longest estimated remaining path first when the limit binds", async () => {
    useFakeTime();
    const work = fakeTool({ name: "work", latencyMs: 10 });
    const { executor, events } = recordingExecutor({ tools: [work], maxConcurrency: 1 });
    const run = executor.run([
      { id: "lonely", name: "work" },
      { id: "head", name: "work" },
      { id: "middle", name: "work", dependsOn: ["head"] },
      { id: "tail", name: "work", dependsOn: ["middle"] },
    ]);
    await vi.runAllTimersAsync();
    await run;
    // After "middle", "tail" and "lonely" each have one call left: input order decides.
    expect(startOrder(events)).toEqual(["head", "middle", "lonely", "tail"]);
  });

  it("learns estimates from observed durations and ranks by them", async () => {
    useFakeTime();
    const slow = fakeTool({ name: "slow", latencyMs: 500 });
    const quick = fakeTool({ name: "quick", latencyMs: 5 });
    const { executor, events } = recordingExecutor({ tools: [slow, quick], maxConcurrency: 1 });
    let run = executor.run([{ name: "slow" }, { name: "quick" }]);
    await vi.runAllTimersAsync();
    await run;
    expect(executor.estimates()).toEqual({ slow: 500, quick: 5 });
    events.length = 0;
    run = executor.run([{ id: "q1", name: "quick" }, { id: "q2", name: "quick" }, { id: "s", name: "slow" }]);
    await vi.runAllTimersAsync();
    await run;
    expect(startOrder(events)).toEqual(["s", "q1", "q2"]);
  });

  it("puts priority before the critical path, and input order last", async () => {
    useFakeTime();
    const work = fakeTool({ name: "work", latencyMs: 10 });
    const { executor, events } = recordingExecutor({ tools: [work], maxConcurrency: 1 });
    const run = executor.run([
      { id: "a", name: "work" },
      { id: "b", name: "work" },
      { id: "chain", name: "work" },
      { id: "next", name: "work", dependsOn: ["chain"] },
      { id: "urgent", name: "work", priority: 5 },
    ]);
    await vi.runAllTimersAsync();
    await run;
    expect(startOrder(events)).toEqual(["urgent", "chain", "a", "b", "next"]);
  });

  it("dispatches in arrival order, priority still first, when order is fifo", async () => {
    useFakeTime();
    const work = fakeTool({ name: "work", latencyMs: 10 });
    const { executor, events } = recordingExecutor({ tools: [work], maxConcurrency: 1, order: "fifo" });
    const run = executor.run([
      { id: "lonely", name: "work" },
      { id: "head", name: "work" },
      { id: "tail", name: "work", dependsOn: ["head"] },
      { id: "urgent", name: "work", priority: 1 },
    ]);
    await vi.runAllTimersAsync();
    await run;
    expect(startOrder(events)).toEqual(["urgent", "lonely", "head", "tail"]);
    expect(() => createExecutor({ tools: [work], order: "lifo" as never })).toThrow('expected `order` to be "critical-path" or "fifo", got "lifo" (string)');
  });

  it("runs one call at a time in input order when parallel is false", async () => {
    useFakeTime();
    const work = fakeTool({ name: "work", latencyMs: 10 });
    const { executor, events } = recordingExecutor({ tools: [work], parallel: false });
    const run = executor.run([
      { id: "first", name: "work", dependsOn: ["third"] },
      { id: "second", name: "work", priority: 9 },
      { id: "third", name: "work" },
    ]);
    await vi.runAllTimersAsync();
    const { stats } = await run;
    expect(startOrder(events)).toEqual(["second", "third", "first"]);
    expect(stats.maxInFlight).toBe(1);
  });
});

describe("limits", () => {
  it("holds the global limit and each tool's concurrency together", async () => {
    const clock = useFakeTime();
    const a = controlledTool("a", { concurrency: 2 });
    const b = controlledTool("b");
    const executor = createExecutor({ tools: [a.tool, b.tool], maxConcurrency: 3, clock });
    const run = executor.run(["a1", "a2", "a3", "b1", "b2", "b3"].map((id) => ({ id, name: id[0] as string })));
    // a3 waits for its tool's limit, b2 and b3 for the global one.
    expect([...a.running(), ...b.running()]).toEqual(["a1", "a2", "b1"]);
    a.finish("a1");
    await microtasks();
    // a3 came before b2, so it takes the freed slot.
    expect([...a.running(), ...b.running()]).toEqual(["a2", "a3", "b1"]);
    b.finish("b1");
    await microtasks();
    expect([...a.running(), ...b.running()]).toEqual(["a2", "a3", "b2"]);
    a.finish("a2");
    await microtasks();
    expect([...a.running(), ...b.running()]).toEqual(["a3", "b2", "b3"]);
    a.finish("a3");
    b.finish("b2");
    b.finish("b3");
    const { stats } = await run;
    expect(stats.maxInFlight).toBe(3);
  });

  it("shares a tool's concurrency across runs of one executor", async () => {
    useFakeTime();
    const api = controlledTool("api", { concurrency: 1 });
    const executor = createExecutor({ tools: [api.tool] });
    const first = executor.run([{ id: "one", name: "api" }]);
    const second = executor.run([{ id: "two", name: "api" }]);
    expect(api.running()).toEqual(["one"]);
    api.finish("one");
    await microtasks();
    expect(api.running()).toEqual(["two"]);
    api.finish("two");
    await Promise.all([first, second]);
  });

  it("starts at most `limit` calls per interval under a rate limit", async () => {
    const clock = useFakeTime();
    const limited = fakeTool({ name: "limited", rateLimit: { limit: 2, intervalMs: 1000 } });
    const { executor, events } = recordingExecutor({ tools: [limited], clock });
    const run = executor.run(Array.from({ length: 5 }, (_, i) => ({ id: `r${i}`, name: "limited" })));
    await vi.advanceTimersByTimeAsync(0);
    const startTimes = () => events.filter((event) => event.type === "call-start").map((event) => event.at - 1_000_000);
    expect(startTimes()).toEqual([0, 0]);
    await vi.advanceTimersByTimeAsync(999);
    expect(startTimes()).toEqual([0, 0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(startTimes()).toEqual([0, 0, 1000, 1000]);
    await vi.runAllTimersAsync();
    await run;
    expect(startTimes()).toEqual([0, 0, 1000, 1000, 2000]);
  });

  it("never overlaps a write with any other call on its key; reads share", async () => {
    useFakeTime();
    const files = controlledTool("files", {
      resources: (args: Record<string, unknown>) => [{ key: `file:${String(args.path)}`, mode: args.write ? "write" : "read" }],
    });
    const executor = createExecutor({ tools: [files.tool] });
    const run = executor.run([
      { id: "r1", name: "files", args: { path: "a" } },
      { id: "r2", name: "files", args: { path: "a" } },
      { id: "w1", name: "files", args: { path: "a", write: true } },
      { id: "r3", name: "files", args: { path: "a" } },
      { id: "other", name: "files", args: { path: "b", write: true } },
    ]);
    // r3 waits behind the writer that came first, so a stream of readers can't starve it.
    expect(files.running()).toEqual(["r1", "r2", "other"]);
    files.finish("r1");
    await microtasks();
    expect(files.running()).toEqual(["r2", "other"]);
    files.finish("r2");
    await microtasks();
    expect(files.running()).toEqual(["other", "w1"]);
    files.finish("w1");
    await microtasks();
    expect(files.running()).toEqual(["other", "r3"]);
    files.finish("other");
    files.finish("r3");
    const { results } = await run;
    expect(results.every((result) => result.ok)).toBe(true);
  });

  it("answers a call whose tool can't name its resources, and never blocks a call on itself", async () => {
    const tool = defineTool({
      name: "files",
      resources: (args: Record<string, unknown>) => {
        if (args.broken) throw new Error("no path given");
        return args.junk ? [{ key: "x", mode: "sideways" }] as never : ["x", { key: "x", mode: "read" }];
      },
      execute: () => "written",
    });
    const executor = createExecutor({ tools: [tool] });
    const { results } = await executor.run([{ name: "files", args: { broken: true } }, { name: "files", args: { junk: true } }, { name: "files" }]);
    expect(results[0]?.error?.message).toBe('"files" could not name its resources: no path given');
    expect(results[1]?.error?.message).toMatch(/^"files" named its resources wrongly: expected keys or/);
    expect(results[2]?.output).toBe("written");
  });

  it("gives a run's free slot to its next waiting call when the call it went to is held back by a rate limit", async () => {
    const clock = useFakeTime();
    const limited = fakeTool({ name: "limited", latencyMs: 10, rateLimit: { limit: 1, intervalMs: 1000 } });
    const free = fakeTool({ name: "free", latencyMs: 10 });
    const { executor, events } = recordingExecutor({ tools: [limited, free], clock });
    const run = executor.run([{ id: "l1", name: "limited" }, { id: "l2", name: "limited" }, { id: "f1", name: "free" }], { maxConcurrency: 1 });
    await vi.advanceTimersByTimeAsync(100);
    // l2 waits for the rate window; f1 need not wait with it.
    expect(startOrder(events)).toEqual(["l1", "f1"]);
    await vi.runAllTimersAsync();
    const { results, stats } = await run;
    expect(startOrder(events)).toEqual(["l1", "f1", "l2"]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(stats.maxInFlight).toBe(1);
  });

  it("lets waiting calls through when configure() raises a limit", async () => {
    useFakeTime();
    const api = controlledTool("api", { concurrency: 1 });
    const executor = createExecutor({ tools: [api.tool], maxConcurrency: 1 });
    const run = executor.run(["x", "y", "z"].map((id) => ({ id, name: "api" })));
    expect(api.running()).toEqual(["x"]);
    executor.configure({ maxConcurrency: 3, tools: { api: { concurrency: 3 } } });
    expect(api.running()).toEqual(["x", "y", "z"]);
    for (const id of ["x", "y", "z"]) api.finish(id);
    await run;
    expect(() => executor.configure({ tools: { nope: { concurrency: 1 } } })).toThrow(/^executor\.configure: no tool is named "nope"$/);
    expect(() => executor.configure({ tools: { apu: { concurrency: 1 } } })).toThrow('executor.configure: no tool is named "apu"; did you mean "api"?');
  });
});

describe("timeouts and cancellation", () => {
  it("tells the model plainly whether a timed-out tool stopped", async () => {
    const clock = useFakeTime();
    const polite = fakeTool({ name: "polite", latencyMs: 10_000, timeoutMs: 100 });
    const stubborn = fakeTool({ name: "stubborn", latencyMs: 10_000, timeoutMs: 100, ignoreAbort: true });
    const executor = createExecutor({ tools: [polite, stubborn], clock });
    const run = executor.run([{ name: "polite" }, { name: "stubborn" }]);
    await vi.advanceTimersByTimeAsync(100);
    // "stubborn" never read its signal, so it could not have stopped: answered at once.
    // "polite" read it, and gets one turn of the event loop to settle before it is answered.
    await vi.advanceTimersByTimeAsync(1);
    const { results } = await run;
    expect(results[0]?.error).toEqual({ type: "timeout", message: '"polite" timed out after 100 ms and stopped.', retryable: true });
    expect(results[1]?.error?.message).toBe('"stubborn" timed out after 100 ms. It did not stop when asked, so it may still be running and its side effects may still happen.');
    expect(results[1]?.durationMs).toBe(100);
  });

  it("keeps a timed-out tool's slot until it really settles", async () => {
    useFakeTime();
    const started: string[] = [];
    const db = defineTool({
      name: "db",
      concurrency: 1,
      timeoutMs: 50,
      execute: (_args, context) => {
        started.push(context.callId);
        return new Promise((resolve) => setTimeout(resolve, context.callId === "stuck" ? 500 : 10, "done"));
      },
    });
    const executor = createExecutor({ tools: [db] });
    const run = executor.run([{ id: "stuck", name: "db" }, { id: "next", name: "db" }]);
    await vi.advanceTimersByTimeAsync(50);
    expect(started).toEqual(["stuck"]);
    await vi.advanceTimersByTimeAsync(449);
    expect(started).toEqual(["stuck"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual(["stuck", "next"]);
    await vi.runAllTimersAsync();
    const { results } = await run;
    expect(results.map((result) => result.error?.type ?? result.output)).toEqual(["timeout", "done"]);
  });

  it("applies the call's timeout before the tool's and the executor's", async () => {
    const clock = useFakeTime();
    const slow = fakeTool({ name: "slow", latencyMs: 1000, timeoutMs: 300, ignoreAbort: true });
    const plain = fakeTool({ name: "plain", latencyMs: 1000, ignoreAbort: true });
    const executor = createExecutor({ tools: [slow, plain], timeoutMs: 200, clock });
    const run = executor.run([{ name: "slow", timeoutMs: 100 }, { name: "slow" }, { name: "plain" }]);
    await vi.runAllTimersAsync();
    const { results } = await run;
    expect(results.map((result) => result.durationMs)).toEqual([100, 300, 200]);
  });

  it("cancels a run: running calls are aborted, queued ones never start", async () => {
    const clock = useFakeTime();
    const slow = fakeTool({ name: "slow", latencyMs: 1000 });
    const executor = createExecutor({ tools: [slow], maxConcurrency: 1, clock });
    const controller = new AbortController();
    const run = executor.run([{ name: "slow" }, { name: "slow" }], { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(10);
    controller.abort(new Error("user pressed stop"));
    await vi.advanceTimersByTimeAsync(0);
    const { results, status } = await run;
    expect(status).toBe("cancelled");
    expect(results.map((result) => result.error?.message)).toEqual([
      "Cancelled while running: user pressed stop. The tool stopped.",
      "Not started: user pressed stop.",
    ]);
  });

  it("answers every call cancelled when the signal is already aborted", async () => {
    const executor = createExecutor({ tools: [echo] });
    const { results, status } = await executor.run([{ name: "echo" }, { name: "nope" }], { signal: AbortSignal.abort("too late") });
    expect(status).toBe("cancelled");
    expect(results.map((result) => result.error?.type)).toEqual(["cancelled", "unknown_tool"]);
  });

  it("times the whole run out: running calls answer timeout, the rest cancelled", async () => {
    const clock = useFakeTime();
    const slow = fakeTool({ name: "slow", latencyMs: 1000 });
    const executor = createExecutor({ tools: [slow], maxConcurrency: 1, clock });
    const run = executor.run([{ name: "slow" }, { name: "slow" }], { timeoutMs: 300 });
    await vi.advanceTimersByTimeAsync(301);
    const { results, status } = await run;
    expect(status).toBe("timed_out");
    expect(results[0]?.error?.message).toBe('"slow" was still running when the run\'s time limit of 300 ms was reached and stopped.');
    expect(results[1]?.error?.message).toBe("Not started: the run's time limit of 300 ms was reached.");
  });
});

describe("retries", () => {
  it("retries retryable failures with exponential back-off and says so", async () => {
    const clock = useFakeTime();
    let attempts = 0;
    const flaky = defineTool({
      name: "flaky",
      retry: { attempts: 4, initialDelayMs: 100, factor: 2, jitter: false },
      execute: () => {
        attempts++;
        if (attempts < 4) throw new ToolError("503 from upstream", { retryable: true });
        return "finally";
      },
    });
    const { executor, events } = recordingExecutor({ tools: [flaky], clock });
    const run = executor.run([{ name: "flaky" }]);
    await vi.runAllTimersAsync();
    const { results, stats } = await run;
    expect(results[0]).toMatchObject({ ok: true, output: "finally", attempts: 4, durationMs: 700 });
    expect(stats.retries).toBe(3);
    const retries = events.filter((event): event is Extract<RunEvent, { type: "call-retry" }> => event.type === "call-retry");
    expect(retries.map((event) => [event.attempt, event.delayMs])).toEqual([[2, 100], [3, 200], [4, 400]]);
  });

  it("does not retry errors that are not retryable, and honours retryAfterMs", async () => {
    const clock = useFakeTime();
    let calls = 0;
    const strict = defineTool({ name: "strict", retry: { attempts: 3 }, execute: () => Promise.reject(new Error("bad request")) });
    const throttled = defineTool({
      name: "throttled",
      retry: { attempts: 2, initialDelayMs: 1, jitter: false },
      execute: () => (++calls === 1 ? Promise.reject(new ToolError("429", { retryable: true, retryAfterMs: 5000 })) : "ok"),
    });
    const executor = createExecutor({ tools: [strict, throttled], clock });
    const run = executor.run([{ name: "strict" }, { name: "throttled" }]);
    await vi.runAllTimersAsync();
    const { results } = await run;
    expect(results[0]).toMatchObject({ attempts: 1, error: { type: "tool_error", retryable: false } });
    expect(results[1]).toMatchObject({ ok: true, attempts: 2, durationMs: 5000 });
  });

  it("retries a timeout only when the tool is idempotent", async () => {
    const clock = useFakeTime();
    const slowOnce = (name: string, idempotent: boolean) =>
      fakeTool({ name, idempotent, timeoutMs: 100, retry: { attempts: 2, initialDelayMs: 10, jitter: false }, latencyMs: (_args, context) => (context.attempt === 1 ? 1000 : 10) });
    const executor = createExecutor({ tools: [slowOnce("safe", true), slowOnce("unsafe", false)], clock });
    const run = executor.run([{ name: "safe" }, { name: "unsafe" }]);
    await vi.runAllTimersAsync();
    const { results } = await run;
    expect(results[0]).toMatchObject({ ok: true, attempts: 2 });
    expect(results[1]).toMatchObject({ ok: false, attempts: 1, error: { type: "timeout" } });
  });
});

describe("sharing and caching", () => {
  it("runs identical in-flight calls of an idempotent tool once and shares the result", async () => {
    useFakeTime();
    const weather = controlledTool("weather", { idempotent: true });
    const executor = createExecutor({ tools: [weather.tool] });
    const first = executor.run([{ id: "a", name: "weather", args: { city: "Oslo", units: "C" } }]);
    const second = executor.run([
      { id: "b", name: "weather", args: '{"units":"C","city":"Oslo"}' },
      { id: "c", name: "weather", args: { city: "Rome", units: "C" } },
    ]);
    expect(weather.started.map((item) => item.context.callId)).toEqual(["a", "c"]);
    weather.finish("a", { temp: 3 });
    weather.finish("c", { temp: 19 });
    const [one, two] = await Promise.all([first, second]);
    expect(one.results[0]).toMatchObject({ output: { temp: 3 }, cached: false });
    expect(two.results[0]).toMatchObject({ id: "b", output: { temp: 3 }, cached: true, attempts: 0 });
    expect(two.stats.cached).toBe(1);
  });

  it("reuses cached results across runs until the ttl passes", async () => {
    const clock = useFakeTime();
    let executions = 0;
    const rates = defineTool({ name: "rates", cache: { ttlMs: 60_000 }, execute: () => ++executions });
    const executor = createExecutor({ tools: [rates], clock });
    expect((await executor.run([{ name: "rates", args: { base: "EUR" } }])).results[0]).toMatchObject({ output: 1, cached: false });
    expect((await executor.run([{ name: "rates", args: { base: "EUR" } }])).results[0]).toMatchObject({ output: 1, cached: true });
    expect((await executor.run([{ name: "rates", args: { base: "USD" } }])).results[0]).toMatchObject({ output: 2, cached: false });
    vi.advanceTimersByTime(60_000);
    expect((await executor.run([{ name: "rates", args: { base: "EUR" } }])).results[0]).toMatchObject({ output: 3, cached: false });
  });

  it("lets a follower run by itself when the call it shared was cancelled with its run", async () => {
    useFakeTime();
    const weather = controlledTool("weather", { idempotent: true });
    const executor = createExecutor({ tools: [weather.tool] });
    const leader = executor.start();
    leader.add({ id: "lead", name: "weather", args: { city: "Oslo" } });
    const follower = executor.run([{ id: "follow", name: "weather", args: { city: "Oslo" } }]);
    leader.cancel("the user left");
    await microtasks();
    // "lead" ignores its signal, so its tool is still running; "follow" no longer waits for it.
    expect(weather.running()).toEqual(["lead", "follow"]);
    weather.finish("follow", "sunny");
    expect((await follower).results[0]).toMatchObject({ output: "sunny", cached: false, attempts: 1 });
    expect((await leader.result).results[0]?.error?.type).toBe("cancelled");
  });
});

describe("open runs", () => {
  it("takes calls while running, streams every event, and waits for a reference that comes later", async () => {
    useFakeTime();
    const step = controlledTool("step");
    const executor = createExecutor({ tools: [step.tool] });
    const live = executor.start({ runId: "turn-1" });
    live.add({ id: "needs-later", name: "step", args: { v: { $ref: "later" } } });
    live.add({ id: "now", name: "step" });
    expect(step.running()).toEqual(["now"]);
    live.add({ id: "later", name: "step" });
    step.finish("later", 7);
    await microtasks();
    expect(step.started.at(-1)?.args).toEqual({ v: 7 });
    step.finish("needs-later");
    step.finish("now");
    live.end();
    const types: string[] = [];
    for await (const event of live.events) types.push(event.type);
    expect(types[0]).toBe("run-start");
    expect(types.at(-1)).toBe("run-end");
    expect(types.filter((type) => type === "call-end")).toHaveLength(3);
    const replay: string[] = [];
    for await (const event of live.events) replay.push(event.type);
    expect(replay).toEqual(types);
    expect((await live.result).runId).toBe("turn-1");
  });

  it("answers a reference that never arrived when the run ends", async () => {
    const executor = createExecutor({ tools: [echo] });
    const live = executor.start();
    live.add({ id: "a", name: "echo", args: { v: { $ref: "ghost" } } });
    live.end();
    const { results } = await live.result;
    expect(results[0]?.error?.type).toBe("invalid_reference");
  });
});

describe("independent calls queued together", () => {
  it("lets a later call depend on one still waiting in line with others; that one then starts first", async () => {
    useFakeTime();
    const step = controlledTool("step");
    const executor = createExecutor({ tools: [step.tool], maxConcurrency: 1 });
    const live = executor.start();
    for (const id of ["a", "b", "c"]) live.add({ id, name: "step" });
    expect(step.running()).toEqual(["a"]);
    live.add({ id: "d", name: "step", args: { from: { $ref: "c" } } });
    step.finish("a");
    await microtasks();
    // c, then d, is a longer path than b alone.
    expect(step.running()).toEqual(["c"]);
    step.finish("c", 3);
    await microtasks();
    for (const id of step.running()) step.finish(id);
    await microtasks();
    for (const id of step.running()) step.finish(id);
    live.end();
    const { results } = await live.result;
    expect(results.map((result) => [result.id, result.ok])).toEqual([["a", true], ["b", true], ["c", true], ["d", true]]);
    expect(step.started.find((entry) => entry.context.callId === "d")?.args).toEqual({ from: 3 });
  });

  it("finds a call by its generated id while it waits in a batch", async () => {
    const { executor, events } = recordingExecutor({ tools: [echo], maxConcurrency: 1 });
    const { results } = await executor.run([
      { name: "echo", args: { n: 0 } },
      { name: "echo", args: { n: 1 } },
      { name: "echo", args: { n: 2 } },
      { name: "echo", args: { from: { $ref: "call_1", path: "/n" } } },
    ]);
    expect(startOrder(events)[0]).toBe("call_1");
    expect(results.map((result) => result.output)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { from: 1 }]);
  });

  it("answers each waiting call once when the run is cancelled, and starts none of them", async () => {
    useFakeTime();
    const step = controlledTool("step");
    const executor = createExecutor({ tools: [step.tool], maxConcurrency: 2 });
    const controller = new AbortController();
    const run = executor.run(Array.from({ length: 50 }, () => ({ name: "step" })), { signal: controller.signal });
    expect(step.running()).toEqual(["call_0", "call_1"]);
    controller.abort("stop");
    await vi.runAllTimersAsync();
    const { results, status } = await run;
    expect(status).toBe("cancelled");
    expect(step.started).toHaveLength(2);
    expect(results.map((result) => result.id)).toEqual(Array.from({ length: 50 }, (_, index) => `call_${index}`));
    expect(results.slice(2).every((result) => result.error?.message === "Not started: stop.")).toBe(true);
  });

  it("neither starts a call nor loses its id when a listener cancels the run as the call is added", async () => {
    const execute = vi.fn((args: unknown) => args);
    const executor = createExecutor({ tools: [defineTool({ name: "echo", execute })] });
    // One call waits in a range; one, with a time limit of its own, does not.
    for (const call of [{ name: "echo" }, { name: "echo", timeoutMs: 100 }]) {
      const live = executor.start({ onEvent: (event) => event.type === "call-add" && live.cancel("changed my mind") });
      expect(live.add(call)).toBe("call_0");
      const { results, status } = await live.result;
      expect(status).toBe("cancelled");
      expect(results.map((result) => result.error?.type)).toEqual(["cancelled"]);
    }
    expect(execute).not.toHaveBeenCalled();
  });

  it("keeps input order when a call in the middle of a batch is taken out of line for a dependent", async () => {
    useFakeTime();
    const work = fakeTool({ name: "work", latencyMs: 10 });
    for (const options of [{ parallel: false }, { order: "fifo" as const, maxConcurrency: 1 }]) {
      const { executor, events } = recordingExecutor({ tools: [work], ...options });
      const run = executor.run([...["a0", "a1", "a2", "a3", "a4"].map((id) => ({ id, name: "work" })), { id: "after", name: "work", dependsOn: ["a2"] }]);
      await vi.runAllTimersAsync();
      await run;
      expect(startOrder(events)).toEqual(["a0", "a1", "a2", "a3", "a4", "after"]);
    }
  });

  it("keeps a batch within a run's limit and a tool's, however the calls wait", async () => {
    useFakeTime();
    const step = controlledTool("step", { concurrency: 2 });
    const other = controlledTool("other");
    const executor = createExecutor({ tools: [step.tool, other.tool] });
    const calls = [...Array.from({ length: 6 }, () => ({ name: "step" })), ...Array.from({ length: 6 }, () => ({ name: "other" }))];
    const run = executor.run(calls, { maxConcurrency: 3 });
    let finished = 0;
    while (finished < calls.length) {
      const running = [...step.running(), ...other.running()];
      expect(running.length).toBeLessThanOrEqual(3);
      expect(step.running().length).toBeLessThanOrEqual(2);
      const [first] = step.running().length > 0 ? step.running() : other.running();
      (step.running().includes(first as string) ? step : other).finish(first as string);
      finished++;
      await microtasks();
    }
    const { results } = await run;
    expect(results.every((result) => result.ok)).toBe(true);
  });
});

describe("runs that no listener watches", () => {
  // Without a listener or instrumentation, a call that starts from a batch runs without the
  // state a watched call keeps, until something needs it. Nothing may differ: not the answers,
  // not what the tools see, not the figures, not what the history keeps.
  it("answer every call exactly as a watched run does, whatever its tool does, with history or without", async () => {
    const scenario = async (watched: boolean, kept: boolean, cut: "none" | "cancel" | "timeout") => {
      const clock = useFakeTime();
      const seen: unknown[] = [];
      const tool = defineTool({
        name: "mixed",
        timeoutMs: 50,
        retry: { attempts: 2, initialDelayMs: 5, jitter: false },
        execute: async (args, context) => {
          seen.push([context.callId, context.name, context.attempt]);
          if (args.kind === "sync") return "at once";
          await new Promise((resolve) => setTimeout(resolve, args.ms as number));
          if (args.kind === "flaky" && context.attempt === 1) throw new ToolError("try again", { retryable: true });
          if (args.kind === "broken") throw new Error("broken");
          if (args.kind === "not-json") return () => "a function";
          if (args.kind === "hang") await new Promise((resolve) => setTimeout(resolve, 1000));
          return { from: context.callId };
        },
      });
      const events: RunEvent[] = [];
      const history = kept ? new MemoryRunStore() : undefined;
      const executor = createExecutor({ tools: [tool], maxConcurrency: 3, clock, ...(history ? { history } : {}), ...(watched ? { onEvent: (event: RunEvent) => events.push(event) } : {}) });
      const kinds = ["ok", "sync", "flaky", "broken", "not-json", "hang", "ok", "ok"];
      const controller = new AbortController();
      const run = executor.run(
        kinds.map((kind, index) => ({ ...(index % 3 === 0 ? { id: `given-${index}` } : {}), name: "mixed", args: { kind, ms: 10 + index } })),
        { runId: "r", signal: controller.signal, ...(cut === "timeout" ? { timeoutMs: 30 } : {}) },
      );
      if (cut === "cancel") setTimeout(() => controller.abort("stop"), 25);
      await vi.runAllTimersAsync();
      const result = await run;
      await executor.flush();
      vi.useRealTimers();
      if (watched) expect(events.filter((event) => event.type === "call-end")).toHaveLength(kinds.length);
      const recorded = history && { run: await history.getRun("r"), events: await history.events("r") };
      return { outcome: { result, seen, stats: executor.stats(), estimates: executor.estimates() }, recorded };
    };
    for (const cut of ["none", "cancel", "timeout"] as const) {
      const watched = await scenario(true, true, cut);
      const unwatched = await scenario(false, true, cut);
      expect(unwatched).toEqual(watched);
      expect(watched.recorded?.run?.calls).toHaveLength(8);
      expect((await scenario(false, false, cut)).outcome).toEqual(watched.outcome);
      if (cut === "none") {
        expect(watched.outcome.result.results.map((result) => result.error?.type ?? result.output)).toEqual([
          { from: "given-0" }, "at once", { from: "call_2" }, "tool_error", "tool_error", "timeout", { from: "given-6" }, { from: "call_7" },
        ]);
        expect(watched.outcome.result.results[2]?.attempts).toBe(2);
      }
    }
  });
});

describe("the tool's context", () => {
  it("gives execute its call id, run id, attempt and progress, and AsyncLocalStorage context", async () => {
    useFakeTime();
    const storage = new AsyncLocalStorage<string>();
    const seen: unknown[] = [];
    const tool = defineTool({
      name: "traced",
      retry: { attempts: 2, initialDelayMs: 10, jitter: false },
      execute: async (_args, context) => {
        seen.push([context.callId, context.runId, context.attempt, storage.getStore()]);
        context.progress({ progress: 1, total: 2, message: "half way" });
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (context.callId === "a" && context.attempt === 1) throw new ToolError("again", { retryable: true });
        return "ok";
      },
    });
    const { executor, events } = recordingExecutor({ tools: [tool] });
    const run = storage.run("request-42", () =>
      executor.run([{ id: "a", name: "traced" }, { id: "b", name: "traced", dependsOn: ["a"] }], { runId: "r" }),
    );
    await vi.runAllTimersAsync();
    await run;
    expect(seen).toEqual([
      ["a", "r", 1, "request-42"],
      ["a", "r", 2, "request-42"],
      ["b", "r", 1, "request-42"],
    ]);
    expect(events.find((event) => event.type === "call-progress")).toMatchObject({ callId: "a", progress: 1, total: 2, message: "half way" });
  });

  it("runs each call in its own run's async context, whichever run freed the slot", async () => {
    const storage = new AsyncLocalStorage<unknown>();
    const api = controlledTool("api", { concurrency: 1 }, storage);
    const executor = createExecutor({ tools: [api.tool] });
    const first = storage.run("request-A", () => executor.run([{ id: "a1", name: "api" }, { id: "a2", name: "api" }]));
    const second = storage.run("request-B", () => executor.run([{ id: "b1", name: "api" }]));
    const live = storage.run("request-C", () => executor.start());
    storage.run("somewhere-else", () => live.add({ id: "c1", name: "api" }));
    live.end();
    for (const id of ["a1", "a2", "b1", "c1"]) {
      await microtasks();
      api.finish(id);
    }
    await Promise.all([first, second, live.result]);
    const seen = api.started.map((item) => [item.context.callId, item.store]);
    expect(seen).toEqual([
      ["a1", "request-A"],
      ["a2", "request-A"],
      ["b1", "request-B"],
      ["c1", "request-C"],
    ]);
  });

  it("hands a tool that reads its signal late an already-aborted signal", async () => {
    useFakeTime();
    let late: AbortSignal | undefined;
    const tool = defineTool({
      name: "late",
      timeoutMs: 10,
      execute: () => new Promise((resolve) => setTimeout(resolve, 100)),
    });
    const reader = defineTool({
      name: "reader",
      timeoutMs: 10,
      execute: (_args, context) => new Promise((resolve) => setTimeout(() => resolve((late = context.signal).aborted), 50)),
    });
    const executor = createExecutor({ tools: [tool, reader] });
    const run = executor.run([{ name: "late" }, { name: "reader" }]);
    await vi.runAllTimersAsync();
    await run;
    expect(late?.aborted).toBe(true);
    expect((late?.reason as DOMException).name).toBe("TimeoutError");
  });
});

describe("instrumentation", () => {
  it("tells an instrumentation of each run, attempt and result, calls that never ran included", async () => {
    const seen: string[] = [];
    const executor = createExecutor({
      tools: [echo],
      instrumentation: {
        runStart: ({ runId }) => {
          seen.push(`run-start ${runId}`);
          return {
            attempt: (call, launch) => {
              seen.push(`attempt ${call.callId} #${call.attempt}`);
              launch();
            },
            callEnd: (call, result) => seen.push(`call-end ${call.callId} ${result.ok ? "ok" : result.error?.type} deps=${call.dependsOn.join(",")}`),
            runEnd: (result) => seen.push(`run-end ${result.status}`),
          };
        },
      },
    });
    await executor.run([{ id: "a", name: "echo" }, { id: "b", name: "echo", dependsOn: ["a"] }, { id: "c", name: "nope" }], { runId: "r" });
    expect(seen).toEqual(["run-start r", "call-end c unknown_tool deps=", "attempt a #1", "call-end a ok deps=", "attempt b #1", "call-end b ok deps=a", "run-end completed"]);
  });

  it("still runs every call when an instrumentation throws or forgets to launch", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    try {
      const executor = createExecutor({
        tools: [echo],
        instrumentation: {
          runStart: () => ({
            attempt: (call, launch) => {
              if (call.callId === "forgotten") return;
              if (call.callId === "thrown") throw new Error("instrumentation bug");
              launch();
              launch();
            },
            callEnd: () => {
              throw new Error("callEnd bug");
            },
          }),
        },
      });
      const { results } = await executor.run([{ id: "forgotten", name: "echo" }, { id: "thrown", name: "echo" }, { id: "twice", name: "echo" }]);
      expect(results.map((result) => [result.id, result.ok, result.attempts])).toEqual([["forgotten", true, 1], ["thrown", true, 1], ["twice", true, 1]]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes("instrumentation bug"))).toHaveLength(1);
      expect(warnings.filter((message) => message.includes("callEnd bug"))).toHaveLength(1);
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("observability", () => {
  it("keeps per-tool statistics and the average speedup", async () => {
    const clock = useFakeTime();
    const tool = fakeTool({ name: "t", latencyMs: (args) => Number(args.ms), fail: (args) => (args.fail ? new Error("no") : undefined) });
    const executor = createExecutor({ tools: [tool], clock });
    const run = executor.run([10, 20, 30, 40].map((ms) => ({ name: "t", args: { ms, fail: ms === 40 } })));
    await vi.runAllTimersAsync();
    await run;
    const stats = executor.stats();
    expect(stats.runs).toBe(1);
    expect(stats.averageSpeedup).toBeCloseTo(100 / 40);
    expect(stats.tools.t).toMatchObject({ calls: 4, failures: 1, failuresByType: { tool_error: 1 }, p50Ms: 30, p95Ms: 40 });
  });

  it("survives an event listener that throws", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    try {
      const executor = createExecutor({ tools: [echo], onEvent: () => { throw new Error("listener bug"); } });
      const { results } = await executor.run([{ name: "echo" }]);
      expect(results[0]?.ok).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes("listener bug"))).toHaveLength(1);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("emits events in a sensible order for each call", async () => {
    const { executor, events } = recordingExecutor({ tools: [echo] });
    await executor.run([{ id: "a", name: "echo" }]);
    expect(events.map((event) => event.type)).toEqual(["run-start", "call-add", "call-start", "call-end", "run-end"]);
    const end = events.find((event) => event.type === "call-end") as { result: ToolResult };
    expect(end.result.id).toBe("a");
  });
});
