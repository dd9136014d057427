// LangGraph.js and LangChain as their users meet them: tools made with `tool()` from
// @langchain/core, a real StateGraph, and @langchain/core's fake streaming chat model asking for
// several calls in one message. Volley's node stands where LangGraph's ToolNode would.
import { AIMessage, AIMessageChunk, HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { FakeStreamingChatModel } from "@langchain/core/utils/testing";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { toolsCondition } from "@langchain/langgraph/prebuilt";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createExecutor } from "../index.ts";
import { MemoryRunStore } from "../store/index.ts";
import { fromLangChainTools, volleyToolNode } from "./index.ts";

function langChainTools() {
  let active = 0;
  const seen = { mostAtOnce: 0, searches: 0 };
  const search = tool(
    async ({ query }: { query: string }) => {
      seen.searches++;
      seen.mostAtOnce = Math.max(seen.mostAtOnce, ++active);
      await new Promise((resolve) => setTimeout(resolve, 20));
      active--;
      return `results for ${query}`;
    },
    { name: "search", description: "Searches the web", schema: z.object({ query: z.string() }) },
  );
  const weather = tool(async ({ city }: { city: string }) => ({ city, celsius: 4 }), {
    name: "weather",
    description: "Weather in a city",
    schema: z.object({ city: z.string() }),
  });
  const broken = tool(
    () => {
      throw new Error("upstream is down");
    },
    { name: "broken", schema: z.object({}) },
  );
  const pay = tool(({ amount }: { amount: number }) => `paid ${amount}`, {
    name: "pay",
    schema: z.object({ amount: z.number() }),
  });
  return { tools: [search, weather, broken, pay], seen };
}

/** START → model → (tool calls?) → Volley's tool node → END, with a model that asks for `calls` at once. */
function graphWith(
  calls: { id: string; name: string; args: Record<string, unknown> }[],
  toolNode: ReturnType<typeof volleyToolNode>,
) {
  // The fake model answers with the tool calls of its first chunk.
  const model = new FakeStreamingChatModel({
    sleep: 0,
    chunks: [
      new AIMessageChunk({ content: "", tool_calls: calls.map((call) => ({ ...call, type: "tool_call" as const })) }),
    ],
  });
  return new StateGraph(MessagesAnnotation)
    .addNode("model", async (state) => ({ messages: [await model.invoke(state.messages)] }))
    .addNode("tools", toolNode)
    .addEdge(START, "model")
    .addConditionalEdges("model", toolsCondition, ["tools", END])
    .addEdge("tools", END)
    .compile();
}

describe("volleyToolNode in a LangGraph StateGraph", () => {
  it("runs the AI message's calls through Volley: in parallel within each tool's limit, answered in order, failures as error messages, approvals applied", async () => {
    const { tools, seen } = langChainTools();
    const history = new MemoryRunStore();
    const executor = createExecutor({
      tools: fromLangChainTools(tools, { tools: { search: { concurrency: 2 }, pay: { needsApproval: true } } }),
      history,
      approve: (request) => ({ approved: (request.args.amount as number) < 100, reason: "over the limit" }),
    });
    const graph = graphWith(
      [
        { id: "s1", name: "search", args: { query: "volcanoes" } },
        { id: "s2", name: "search", args: { query: "tides" } },
        { id: "s3", name: "search", args: { query: "glaciers" } },
        { id: "w", name: "weather", args: { city: "Oslo" } },
        { id: "b", name: "broken", args: {} },
        { id: "bad", name: "weather", args: { town: "Oslo" } },
        { id: "small", name: "pay", args: { amount: 5 } },
        { id: "big", name: "pay", args: { amount: 500 } },
      ],
      volleyToolNode(executor, { name: "research step" }),
    );
    const { messages } = await graph.invoke({ messages: [new HumanMessage("Look these up")] });
    const replies = messages.filter((message): message is ToolMessage => message instanceof ToolMessage);
    expect(replies.map((reply) => [reply.tool_call_id, reply.status, reply.content])).toEqual([
      ["s1", "success", "results for volcanoes"],
      ["s2", "success", "results for tides"],
      ["s3", "success", "results for glaciers"],
      ["w", "success", '{"city":"Oslo","celsius":4}'],
      ["b", "error", expect.stringMatching(/^Error \(tool_error\): .*upstream is down/) as unknown],
      ["bad", "error", expect.stringMatching(/^Error \(invalid_arguments\): /) as unknown],
      ["small", "success", "paid 5"],
      ["big", "error", expect.stringMatching(/^Error \(denied\): .*over the limit/) as unknown],
    ]);
    // Searches ran two at a time: the limit Volley added binds, and parallelism is real.
    expect(seen).toEqual({ mostAtOnce: 2, searches: 3 });
    await executor.flush();
    expect((await history.listRuns()).map((run) => run.options.name)).toEqual(["research step"]);
  });

  it("answers a list of messages with a list, and refuses a state whose last message asks for nothing", async () => {
    const { tools } = langChainTools();
    const node = volleyToolNode(createExecutor({ tools: fromLangChainTools(tools) }));
    const asked: BaseMessage[] = [
      new AIMessage({
        content: "",
        tool_calls: [{ id: "w", name: "weather", args: { city: "Rome" }, type: "tool_call" }],
      }),
    ];
    const replies = (await node(asked)) as ToolMessage[];
    expect(replies.map((reply) => reply.content)).toEqual(['{"city":"Rome","celsius":4}']);
    await expect(node({ messages: [new HumanMessage("hi")] })).rejects.toThrow(
      "volleyToolNode: the last message is not an AI message with tool calls",
    );
    await expect(node({ chat: [] })).rejects.toThrow('expected the state to hold its messages under "messages"');
  });
});

describe("fromLangChainTools", () => {
  it("keeps each tool's name and description (LangChain's default one included), and refuses options for a tool it was not given", () => {
    const { tools } = langChainTools();
    const converted = fromLangChainTools(tools);
    expect(converted.map((each) => [each.name, each.description])).toEqual([
      ["search", "Searches the web"],
      ["weather", "Weather in a city"],
      ["broken", "broken tool"],
      ["pay", "pay tool"],
    ]);
    expect(() => fromLangChainTools(tools, { tools: { serach: { concurrency: 1 } } })).toThrow(
      "fromLangChainTools: tools: unknown tool `serach`; did you mean `search`?",
    );
    expect(() => fromLangChainTools([{ name: "x" }] as never)).toThrow(
      "fromLangChainTools: expected `tools[0]` to be a LangChain tool",
    );
  });
});
