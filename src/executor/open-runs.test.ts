import { afterEach, describe, expect, it, vi } from "vitest";
import { createExecutor, defineTool } from "../index.ts";
import { MemoryRunStore } from "../store/index.ts";
import { controlledTool, microtasks, useFakeTime } from "./executor.fixture.ts";

afterEach(() => {
  vi.useRealTimers();
});

const echo = defineTool({ name: "echo", execute: (args) => args });

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

  it("keeps a run's name with its options in the history, cut to 200 characters", async () => {
    const history = new MemoryRunStore();
    const executor = createExecutor({ tools: [echo], history });
    await executor.run([{ name: "echo" }], { runId: "named", name: "weekly report · step 1" });
    await executor.run([{ name: "echo" }], { runId: "long", name: "x".repeat(300) });
    await executor.flush();
    expect((await history.getRun("named"))?.run.options.name).toBe("weekly report · step 1");
    expect((await history.getRun("long"))?.run.options.name).toBe("x".repeat(200));
  });
});
