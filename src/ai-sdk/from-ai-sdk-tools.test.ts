import { jsonSchema, tool } from "ai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createExecutor } from "../index.ts";
import { aiSdkTools, fromAiSdkTools } from "./index.ts";

describe("fromAiSdkTools", () => {
  it("runs existing AI SDK tools through Volley, with Volley's options per tool", async () => {
    let active = 0;
    let mostAtOnce = 0;
    const seen: { toolCallId: string; aborted: boolean }[] = [];
    const toolSet = {
      weather: tool({
        description: "Weather in a city",
        inputSchema: z.object({ city: z.string() }),
        execute: async ({ city }, { toolCallId, abortSignal }) => {
          seen.push({ toolCallId, aborted: abortSignal?.aborted ?? true });
          mostAtOnce = Math.max(mostAtOnce, ++active);
          await new Promise((resolve) => setTimeout(resolve, 20));
          active--;
          return { city, celsius: 4 };
        },
      }),
      book: tool({
        inputSchema: jsonSchema<{ to: string }>({
          type: "object",
          properties: { to: { type: "string" } },
          required: ["to"],
        }),
        execute: (): string => {
          throw new Error("503: the booking API is overloaded");
        },
      }),
      pay: tool({
        inputSchema: z.object({ amount: z.number() }),
        needsApproval: ({ amount }) => amount > 100,
        execute: ({ amount }) => `paid ${amount}`,
      }),
      countdown: tool({
        inputSchema: z.object({}),
        async *execute() {
          yield "3";
          yield "2";
          yield "lift-off";
        },
      }),
    };
    const tools = await fromAiSdkTools(toolSet, { tools: { weather: { concurrency: 1 } } });
    expect(tools.map((each) => [each.name, each.description, each.concurrency])).toEqual([
      ["weather", "Weather in a city", 1],
      ["book", undefined, Infinity],
      ["pay", undefined, Infinity],
      ["countdown", undefined, Infinity],
    ]);
    const executor = createExecutor({ tools, approve: () => ({ approved: false, reason: "too much" }) });
    const { results } = await executor.run([
      { id: "w1", name: "weather", args: { city: "Oslo" } },
      { id: "w2", name: "weather", args: { city: "Rome" } },
      { id: "w3", name: "weather", args: { city: 5 } },
      { id: "b", name: "book", args: { to: "Rome" } },
      { id: "small", name: "pay", args: { amount: 5 } },
      { id: "big", name: "pay", args: { amount: 500 } },
      { id: "c", name: "countdown", args: {} },
    ]);
    expect(results.map((result) => [result.id, result.ok ? result.output : result.error.type])).toEqual([
      ["w1", { city: "Oslo", celsius: 4 }],
      ["w2", { city: "Rome", celsius: 4 }],
      ["w3", "invalid_arguments"],
      ["b", "tool_error"],
      ["small", "paid 5"],
      ["big", "denied"],
      ["c", "lift-off"],
    ]);
    // The limit Volley added binds; each execution got its call's id and a live signal.
    expect(mostAtOnce).toBe(1);
    expect(seen).toEqual([
      { toolCallId: "w1", aborted: false },
      { toolCallId: "w2", aborted: false },
    ]);
    expect(results[3]?.ok === false && results[3].error.message).toContain("503: the booking API is overloaded");
  });

  it("takes resource claims per tool: writes to one file never overlap, reads of it share it", async () => {
    const running = new Map<string, number>();
    let overlapped = false;
    const touch =
      (mode: string) =>
      async ({ path }: { path: string }) => {
        const key = `${mode}:${path}`;
        running.set(key, (running.get(key) ?? 0) + 1);
        if (
          (running.get(`write:${path}`) ?? 0) > 1 ||
          ((running.get(`write:${path}`) ?? 0) > 0 && (running.get(`read:${path}`) ?? 0) > 0)
        )
          overlapped = true;
        await new Promise((resolve) => setTimeout(resolve, 10));
        running.set(key, (running.get(key) ?? 1) - 1);
        return key;
      };
    const file = z.object({ path: z.string() });
    const toolSet = {
      write: tool({ inputSchema: file, execute: touch("write") }),
      read: tool({ inputSchema: file, execute: touch("read") }),
    };
    const tools = await fromAiSdkTools(toolSet, {
      tools: {
        write: { resources: (args) => [{ key: `file:${String(args.path)}`, mode: "write" }] },
        read: { resources: (args) => [{ key: `file:${String(args.path)}`, mode: "read" }] },
      },
    });
    const { results } = await createExecutor({ tools }).run([
      { name: "write", args: { path: "a" } },
      { name: "read", args: { path: "a" } },
      { name: "read", args: { path: "a" } },
      { name: "write", args: { path: "a" } },
      { name: "write", args: { path: "b" } },
    ]);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(overlapped).toBe(false);
  });

  it("refuses options for a tool the set does not have, and a tool that does not execute here", async () => {
    const toolSet = { weather: tool({ inputSchema: z.object({}), execute: () => "sunny" }) };
    await expect(fromAiSdkTools(toolSet, { tools: { wether: { concurrency: 1 } } })).rejects.toThrow(
      "fromAiSdkTools: tools: unknown tool `wether`; did you mean `weather`?",
    );
    await expect(fromAiSdkTools({ remote: tool({ inputSchema: z.object({}) }) })).rejects.toThrow(
      /expected `toolSet.remote.execute` to be a function: Volley runs tools that execute here/,
    );
  });

  it("goes back to the AI SDK as the same tool set, run by Volley", async () => {
    const toolSet = {
      echo: tool({ inputSchema: z.object({ text: z.string() }), execute: ({ text }) => text.toUpperCase() }),
    };
    const executor = createExecutor({ tools: await fromAiSdkTools(toolSet) });
    const tools = aiSdkTools(executor, { like: toolSet });
    expect(Object.keys(tools)).toEqual(["echo"]);
    const output: unknown = await tools.echo.execute?.({ text: "hi" }, { toolCallId: "t1", messages: [], context: {} });
    expect(output).toBe("HI");
    expect(() => aiSdkTools(executor, { like: { ...toolSet, missing: toolSet.echo } })).toThrow(
      "aiSdkTools: expected `like` to be a tool set named after the executor's tools (echo), got an array",
    );
  });
});
