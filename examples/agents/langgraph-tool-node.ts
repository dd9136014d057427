/**
 * A LangGraph.js agent whose tool calls Volley runs: the graph is LangGraph's usual loop (model,
 * then tools while the model asks for them), with `volleyToolNode` where the prebuilt `ToolNode`
 * would be. The tools are ordinary LangChain `tool()`s; Volley adds a limit per tool, runs the
 * calls of one message in parallel, answers a failure as a message the model can read, and keeps
 * each step in its history.
 *
 *   node examples/agents/langgraph-tool-node.ts
 *
 * With no OPENAI_API_KEY, `ChatOpenAI` talks to Volley's mock Chat Completions server, whose
 * scripted model asks for four calls at once, then answers. With OPENAI_API_KEY it asks a real model.
 */
import { tool } from "@langchain/core/tools";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { toolsCondition } from "@langchain/langgraph/prebuilt";
import { ChatOpenAI } from "@langchain/openai";
import { createExecutor } from "volley";
import { fromLangChainTools, volleyToolNode } from "volley/langchain";
import { startMockOpenAI } from "volley/testing";
import { z } from "zod";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const weather = tool(
  async ({ city }) => {
    await sleep(400);
    return { city, celsius: ({ oslo: 4, rome: 17, lima: 19 } as Record<string, number>)[city.toLowerCase()] ?? 12 };
  },
  { name: "weather", description: "Today's weather in a city", schema: z.object({ city: z.string() }) },
);
const flights = tool(
  async ({ from, to }) => {
    if (to === "Atlantis") throw new Error(`no airport serves ${to}`);
    await sleep(600);
    return [{ from, to, departs: "17:40", priceEur: 129 }];
  },
  { name: "flights", description: "Flights today", schema: z.object({ from: z.string(), to: z.string() }) },
);

const mock = process.env.OPENAI_API_KEY
  ? undefined
  : await startMockOpenAI({
      script: [
        {
          toolCalls: [
            { id: "oslo", name: "weather", arguments: { city: "Oslo" } },
            { id: "rome", name: "weather", arguments: { city: "Rome" } },
            { id: "lima", name: "weather", arguments: { city: "Lima" } },
            { id: "atlantis", name: "flights", arguments: { from: "Oslo", to: "Atlantis" } },
          ],
        },
        { content: "Lima is warmest at 19 °C; there is no flight to Atlantis." },
      ],
    });

// The weather API allows two requests at once: Volley holds that limit across the graph's calls.
const executor = createExecutor({
  tools: fromLangChainTools([weather, flights], { tools: { weather: { concurrency: 2 } } }),
});
const model = new ChatOpenAI({
  model: process.env.VOLLEY_MODEL ?? "gpt-4.1-mini",
  ...(mock ? { apiKey: "mock", configuration: { baseURL: mock.baseURL } } : {}),
}).bindTools([weather, flights]);

const graph = new StateGraph(MessagesAnnotation)
  .addNode("model", async (state) => ({ messages: [await model.invoke(state.messages)] }))
  .addNode("tools", volleyToolNode(executor))
  .addEdge(START, "model")
  .addConditionalEdges("model", toolsCondition, ["tools", END])
  .addEdge("tools", "model")
  .compile();

try {
  const started = performance.now();
  const { messages } = await graph.invoke({
    messages: [{ role: "user", content: "Where is it warmest: Oslo, Rome or Lima? And can I fly to Atlantis?" }],
  });
  for (const message of messages) {
    if (message.getType() === "tool") {
      const reply = message as unknown as { tool_call_id: string; status?: string; content: unknown };
      console.log(`${reply.status === "error" ? "✗" : "✓"} ${reply.tool_call_id}: ${String(reply.content)}`);
    }
  }
  console.log(`\n${messages.at(-1)?.text ?? ""}`);
  const { tools } = executor.stats();
  console.log(
    `\n${(performance.now() - started).toFixed(0)} ms in all; weather ran ${tools.weather?.calls ?? 0} calls within its limit of 2 at once`,
  );
} finally {
  await mock?.close();
}
