import { describe, expect, it } from "vitest";
import { createExecutor, defineTool } from "../index.ts";
import { controlledTool, microtasks } from "./executor.fixture.ts";

const echo = defineTool({ name: "echo", execute: (args) => args.text });

describe("executor.setTools", () => {
  it("adds and removes tools while runs go: calls added afterwards see the new set", async () => {
    const slow = controlledTool("slow");
    const executor = createExecutor({ tools: [slow.tool] });
    const run = executor.start();
    run.add({ id: "before", name: "slow" });
    await microtasks();
    executor.setTools([echo]);
    expect(executor.tools.map((tool) => tool.name)).toEqual(["echo"]);
    // The call already running finishes with the definition it came with; the tool is gone for the rest.
    run.add({ id: "gone", name: "slow" });
    run.add({ id: "added", name: "echo", args: { text: "hi" } });
    slow.finish("before");
    run.end();
    const { results } = await run.result;
    expect(results.map((result) => [result.id, result.ok ? result.output : result.error.type])).toEqual([
      ["before", "slow:before"],
      ["gone", "unknown_tool"],
      ["added", "hi"],
    ]);
    expect(results[1]?.ok === false && results[1].error.message).toMatch(/Available tools: echo/);
  });

  it("keeps a tool given again as the same object: its limit binds across the change", async () => {
    const one = controlledTool("one", { concurrency: 1 });
    const executor = createExecutor({ tools: [one.tool] });
    const run = executor.start();
    run.add({ id: "a", name: "one" });
    await microtasks();
    executor.setTools([one.tool, echo]);
    run.add({ id: "b", name: "one" });
    await microtasks();
    expect(one.running()).toEqual(["a"]);
    one.finish("a");
    await microtasks();
    expect(one.running()).toEqual(["b"]);
    one.finish("b");
    run.end();
    expect((await run.result).results.every((result) => result.ok)).toBe(true);
  });

  it("runs a new definition of a tool for calls added after it", async () => {
    const first = defineTool({ name: "version", execute: () => 1 });
    const second = defineTool({ name: "version", execute: () => 2 });
    const executor = createExecutor({ tools: [first] });
    expect((await executor.run([{ name: "version" }])).results[0]).toMatchObject({ output: 1 });
    executor.setTools([second]);
    expect((await executor.run([{ name: "version" }])).results[0]).toMatchObject({ output: 2 });
    // Figures are kept by name across definitions.
    expect(executor.stats().tools.version?.calls).toBe(2);
  });

  it("rejects a list that is not tools, or names one twice, and keeps the tools it had", () => {
    const executor = createExecutor({ tools: [echo] });
    expect(() => executor.setTools([echo, echo])).toThrow('executor.setTools: two tools are named "echo"');
    expect(() => executor.setTools([{ name: "fake" }] as never)).toThrow(
      "executor.setTools: expected `tools[0]` to be a tool made by defineTool()",
    );
    expect(() => executor.setTools("echo" as never)).toThrow("executor.setTools: expected `tools` to be an array");
    expect(executor.tools).toEqual([echo]);
  });
});
