import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import * as v from "valibot";
import { type } from "arktype";
import { createExecutor, defineTool } from "../index.ts";

afterEach(() => {
  vi.useRealTimers();
});

const echo = defineTool({ name: "echo", execute: (args) => args });

describe("bad input is answered per call", () => {
  const search = defineTool({
    name: "search",
    input: z.object({ query: z.string(), limit: z.number().int().default(5) }),
    execute: (args) => args,
  });

  it("names the unknown tool and lists the available ones", async () => {
    const executor = createExecutor({ tools: [search, echo] });
    const { results } = await executor.run([{ name: "serach" }, { name: 7 as unknown as string }]);
    expect(results[0]?.error).toEqual({
      type: "unknown_tool",
      message: 'Unknown tool "serach". Did you mean "search"? Available tools: search, echo.',
      retryable: false,
    });
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
    expect(results[2]?.error?.message).toBe(
      'Arguments for "search" do not match its input schema: /query: Invalid input: expected string, received number',
    );
    expect(results[3]?.output).toEqual({ query: "tides", limit: 5 });
  });

  it("validates with valibot, arktype and a plain JSON Schema too", async () => {
    const withValibot = defineTool({ name: "v", input: v.object({ n: v.number() }), execute: (args) => args.n * 2 });
    const withArktype = defineTool({
      name: "a",
      input: type({ city: "string", "days?": "1 <= number.integer <= 14" }),
      execute: (args) => args.city,
    });
    const withJsonSchema = defineTool({
      name: "j",
      input: {
        type: "object",
        properties: { n: { type: "integer", minimum: 1 } },
        required: ["n"],
        additionalProperties: false,
      },
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
    const { results } = await executor.run([
      { name: "lookup", args: { user: "alice" } },
      { name: "lookup", args: { user: "mallory" } },
    ]);
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
    expect(results[0]?.error?.message).toBe(
      'Invalid call to "echo": The key "__proto__" at /a is not allowed in arguments',
    );
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
    const odd = defineTool({
      name: "odd",
      execute: (args) => (args.kind === "bigint" ? 10n : args.kind === "circular" ? circular : { fine: true }),
    });
    const executor = createExecutor({ tools: [odd] });
    const { results } = await executor.run([
      { name: "odd", args: { kind: "bigint" } },
      { name: "odd", args: { kind: "circular" } },
      { name: "odd" },
    ]);
    expect(results[0]?.error?.message).toBe(
      '"odd" returned an output that is not JSON-serialisable: a BigInt is not a JSON value.',
    );
    expect(results[1]?.error?.message).toMatch(/^"odd" returned an output that is not JSON-serialisable: .*circular/i);
    expect(results[2]?.ok).toBe(true);
  });
});

describe("API misuse throws, saying what was expected and what arrived", () => {
  it("checks executor options", () => {
    expect(() => createExecutor({ tools: [echo], maxConcurrency: 0 })).toThrow(
      "createExecutor: expected `maxConcurrency` to be an integer from 1 and up, or Infinity, got 0 (number)",
    );
    expect(() => createExecutor({ tools: "echo" as never })).toThrow(
      'createExecutor: expected `tools` to be an array of tools made by defineTool(), got "echo" (string)',
    );
    expect(() => createExecutor({ tools: [echo, echo] })).toThrow('two tools are named "echo"');
    expect(() => createExecutor({ tools: [], maxConcurency: 2 } as never)).toThrow(
      "createExecutor: unknown option `maxConcurency`; did you mean `maxConcurrency`?",
    );
    expect(() => createExecutor({ tools: [], speed: 2 } as never)).toThrow(
      /^createExecutor: unknown option `speed`; the options are tools, maxConcurrency, parallel/,
    );
    expect(() => createExecutor({ tools: [], retry: { attempts: 2, baseDelayMs: 1 } as never })).toThrow(
      "createExecutor: retry: unknown option `baseDelayMs`",
    );
    expect(() => createExecutor({ tools: [] }).start({ timeout: 5 } as never)).toThrow(
      "executor.start: unknown option `timeout`; did you mean `timeoutMs`?",
    );
    expect(() => createExecutor({ tools: [{ name: "x" } as never] })).toThrow(
      "expected `tools[0]` to be a tool made by defineTool(), got an object",
    );
  });

  it("checks tool definitions", () => {
    expect(() => defineTool({ name: "has space", execute: () => 1 })).toThrow(/expected `name` to be 1 to 128 letters/);
    expect(() => defineTool({ name: "t", execute: () => 1, concurency: 2 } as never)).toThrow(
      'defineTool("t"): unknown option `concurency`; did you mean `concurrency`?',
    );
    expect(() => defineTool({ name: "t", execute: () => 1, concurrency: 1.5 })).toThrow(
      'defineTool("t"): expected `concurrency` to be an integer from 1 and up, or Infinity, got 1.5 (number)',
    );
    expect(() => defineTool({ name: "t", execute: () => 1, retry: { attempts: 0 } })).toThrow(
      "expected `retry.attempts` to be an integer from 1 and up, got 0 (number)",
    );
    expect(() => defineTool({ name: "t", execute: () => 1, rateLimit: { limit: 5, intervalMs: 0 } })).toThrow(
      "expected `rateLimit.intervalMs`",
    );
  });

  it("rejects a run that is not an array, and adding to an ended run", async () => {
    const executor = createExecutor({ tools: [echo] });
    await expect(executor.run("echo" as never)).rejects.toThrow(
      'executor.run: expected an array of tool calls, got "echo" (string)',
    );
    await expect(executor.run([], { maxConcurrency: -1 })).rejects.toThrow("executor.run: expected `maxConcurrency`");
    expect(() => executor.start({ resumes: 7 as never })).toThrow(
      "executor.start: expected `resumes` to be the id of another run, got 7 (number)",
    );
    expect(() => executor.start({ runId: "same", resumes: "same" })).toThrow(
      'executor.start: expected `resumes` to be the id of another run, got "same" (string)',
    );
    expect(() => executor.start({ name: 7 as never })).toThrow(
      "executor.start: expected `name` to be a string, got 7 (number)",
    );
    const live = executor.start();
    live.end();
    expect(() => live.add({ name: "echo" })).toThrow(/is ended: no more calls can be added/);
    expect(() => executor.start().add(null as never)).toThrow(
      "Expected a tool call object ({ name, args?, id? }), got null",
    );
  });
});
