import { afterEach, describe, expect, it, vi } from "vitest";
import { createExecutor, defineTool } from "../index.ts";
import { fakeTool } from "../testing/index.ts";
import { controlledTool, microtasks, recordingExecutor, useFakeTime } from "./executor.fixture.ts";

afterEach(() => {
  vi.useRealTimers();
});

const echo = defineTool({ name: "echo", execute: (args) => args });

describe("dependencies", () => {
  it("replaces a $ref with the referenced output itself, not a string", async () => {
    const search = defineTool({ name: "search", execute: () => [{ snippet: "hot rocks", score: 0.9 }] });
    const seen: unknown[] = [];
    const summarize = defineTool({ name: "summarize", execute: (args) => (seen.push(args), "ok") });
    const executor = createExecutor({ tools: [search, summarize] });
    const calls = [
      { id: "a", name: "search" },
      {
        id: "b",
        name: "summarize",
        args: {
          text: { $ref: "a", path: "/0/snippet" },
          all: { $ref: "a" },
          nested: [{ score: { $ref: "a", path: "/0/score" } }],
        },
      },
    ];
    const original = structuredClone(calls);
    const { results } = await executor.run(calls);
    expect(results[1]?.ok).toBe(true);
    expect(seen[0]).toEqual({
      text: "hot rocks",
      all: [{ snippet: "hot rocks", score: 0.9 }],
      nested: [{ score: 0.9 }],
    });
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
    const order = events
      .filter((event) => event.type === "call-start" || event.type === "call-end")
      .map((event) => `${event.type}:${(event as { callId: string }).callId}`);
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
    expect(results.map((result) => result.error?.type ?? "ok")).toEqual([
      "tool_error",
      "dependency_failed",
      "dependency_failed",
      "ok",
    ]);
    expect(results[1]?.error).toMatchObject({
      callIds: ["a"],
      message: 'Not run: it depends on call "a" (broken), which failed (tool_error).',
    });
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
    expect(results.map((result) => result.error?.type ?? "ok")).toEqual([
      "cycle",
      "cycle",
      "cycle",
      "dependency_failed",
      "cycle",
      "ok",
    ]);
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
    expect(results[1]?.error).toMatchObject({
      type: "invalid_reference",
      message: 'Not run: it refers to call "nowhere", which is not in this run.',
    });
    expect(results[2]?.error).toMatchObject({
      type: "invalid_reference",
      message: 'Not run: the output of call "a" has nothing at "/list/5".',
    });
    expect(results[3]?.error?.type).toBe("invalid_arguments");
  });

  it("gives a tool that takes JSON Schema documents its $ref objects as they are", async () => {
    const seen: unknown[] = [];
    const validate = defineTool({ name: "validate", execute: (args) => (seen.push(args), "valid") });
    const store = defineTool({ name: "store", references: false, execute: (args) => (seen.push(args), "stored") });
    const fetch = defineTool({ name: "fetch", execute: () => ({ id: 7 }) });
    const schema = {
      type: "object",
      properties: { user: { $ref: "#/definitions/user" } },
      definitions: { user: { type: "object" } },
    };
    const { results } = await createExecutor({ tools: [validate, store, fetch] }).run([
      { id: "f", name: "fetch" },
      // A document reference is data; a call reference beside it still works; $literal escapes one that looks like a call's.
      {
        id: "v",
        name: "validate",
        args: { schema, id: { $ref: "f", path: "/id" }, example: { $literal: { $ref: "f" } } },
      },
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
