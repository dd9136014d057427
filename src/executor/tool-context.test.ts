import { AsyncLocalStorage } from "node:async_hooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createExecutor, defineTool, ToolError } from "../index.ts";
import { controlledTool, microtasks, recordingExecutor, useFakeTime } from "./executor.fixture.ts";

afterEach(() => {
  vi.useRealTimers();
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
      executor.run(
        [
          { id: "a", name: "traced" },
          { id: "b", name: "traced", dependsOn: ["a"] },
        ],
        { runId: "r" },
      ),
    );
    await vi.runAllTimersAsync();
    await run;
    expect(seen).toEqual([
      ["a", "r", 1, "request-42"],
      ["a", "r", 2, "request-42"],
      ["b", "r", 1, "request-42"],
    ]);
    expect(events.find((event) => event.type === "call-progress")).toMatchObject({
      callId: "a",
      progress: 1,
      total: 2,
      message: "half way",
    });
  });

  it("lets a tool take progress out of its context and call it on its own", async () => {
    const tool = defineTool({
      name: "stepper",
      execute: (_args, { progress }) => {
        progress({ progress: 1, total: 2 });
        progress({ progress: 2, total: 2, message: "done" });
        return "ok";
      },
    });
    const { executor, events } = recordingExecutor({ tools: [tool] });
    const { results } = await executor.run([{ id: "s", name: "stepper" }]);
    expect(results[0]?.ok).toBe(true);
    expect(events.filter((event) => event.type === "call-progress")).toMatchObject([
      { callId: "s", progress: 1, total: 2 },
      { callId: "s", progress: 2, total: 2, message: "done" },
    ]);
  });

  it("runs each call in its own run's async context, whichever run freed the slot", async () => {
    const storage = new AsyncLocalStorage<unknown>();
    const api = controlledTool("api", { concurrency: 1 }, storage);
    const executor = createExecutor({ tools: [api.tool] });
    const first = storage.run("request-A", () =>
      executor.run([
        { id: "a1", name: "api" },
        { id: "a2", name: "api" },
      ]),
    );
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
      execute: (_args, context) =>
        new Promise((resolve) => setTimeout(() => resolve((late = context.signal).aborted), 50)),
    });
    const executor = createExecutor({ tools: [tool, reader] });
    const run = executor.run([{ name: "late" }, { name: "reader" }]);
    await vi.runAllTimersAsync();
    await run;
    expect(late?.aborted).toBe(true);
    expect((late?.reason as DOMException).name).toBe("TimeoutError");
  });

  it("answers to the AI SDK's names too: an execute ported as it was reads toolCallId and abortSignal", async () => {
    const seen: unknown[] = [];
    const ported = defineTool({
      name: "ported",
      execute: (_args, { toolCallId, abortSignal }) => {
        seen.push([toolCallId, abortSignal.aborted]);
        return "ok";
      },
    });
    await createExecutor({ tools: [ported] }).run([{ id: "x", name: "ported" }]);
    expect(seen).toEqual([["x", false]]);
  });
});
