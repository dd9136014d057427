// The OpenAI Agents SDK as its users meet it: tools made with its tool(), an Agent, its run(),
// and a custom Model that answers with several function calls in one response.
import { Agent, Runner, tool, Usage, type Model, type ModelRequest, type ModelResponse } from "@openai/agents";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ToolError } from "../index.ts";
import { MemoryRunStore } from "../store/index.ts";
import { volleyFunctionTools } from "./index.ts";

/** A model that asks for `calls` in its first response, then says `answer`. */
function scriptedModel(calls: { callId: string; name: string; args: object }[], answer: string): Model {
  let responses = 0;
  return {
    async getResponse(_request: ModelRequest): Promise<ModelResponse> {
      const usage = new Usage();
      if (responses++ === 0)
        return {
          usage,
          output: calls.map((call) => ({
            type: "function_call" as const,
            callId: call.callId,
            name: call.name,
            arguments: JSON.stringify(call.args),
            status: "completed" as const,
          })),
        };
      return {
        usage,
        output: [
          {
            type: "message" as const,
            role: "assistant" as const,
            status: "completed" as const,
            content: [{ type: "output_text" as const, text: answer }],
          },
        ],
      };
    },
    // eslint-disable-next-line require-yield
    async *getStreamedResponse() {
      throw new Error("this model does not stream");
    },
  };
}

describe("volleyFunctionTools with the OpenAI Agents SDK", () => {
  it("runs an Agent's calls through Volley: several at once within a tool's limit, a retried failure, one answered with Volley's words", async () => {
    let active = 0;
    let mostAtOnce = 0;
    let flakyAttempts = 0;
    const search = tool({
      name: "search",
      description: "Searches the web",
      parameters: z.object({ query: z.string() }),
      execute: async ({ query }) => {
        mostAtOnce = Math.max(mostAtOnce, ++active);
        await new Promise((resolve) => setTimeout(resolve, 20));
        active--;
        return `results for ${query}`;
      },
    });
    const flaky = tool({
      name: "flaky",
      description: "Busy the first time",
      parameters: z.object({}),
      // Errors reach Volley, which retries the retryable ones.
      errorFunction: null,
      execute: () => {
        if (++flakyAttempts === 1) throw new ToolError("busy, try again", { retryable: true });
        return "fine now";
      },
    });
    const history = new MemoryRunStore();
    const { tools, executor } = volleyFunctionTools([search, flaky], {
      tools: { search: { concurrency: 2 } },
      retry: { attempts: 2, initialDelayMs: 1 },
      history,
    });
    const agent = new Agent({
      name: "researcher",
      instructions: "Look things up.",
      tools,
      model: scriptedModel(
        [
          { callId: "s1", name: "search", args: { query: "volcanoes" } },
          { callId: "s2", name: "search", args: { query: "tides" } },
          { callId: "s3", name: "search", args: { query: "glaciers" } },
          { callId: "f", name: "flaky", args: {} },
          { callId: "bad", name: "search", args: { topic: "x" } },
        ],
        "All found.",
      ),
    });
    const result = await new Runner({ tracingDisabled: true }).run(agent, "Look these up");
    expect(result.finalOutput).toBe("All found.");
    const outputs = result.newItems
      .filter((item) => item.type === "tool_call_output_item")
      .map((item) => [(item.rawItem as { callId: string }).callId, String((item as { output: unknown }).output)]);
    expect(outputs).toEqual([
      ["s1", "results for volcanoes"],
      ["s2", "results for tides"],
      ["s3", "results for glaciers"],
      ["f", "fine now"],
      ["bad", expect.stringMatching(/^Error \(invalid_arguments\): /) as unknown],
    ]);
    expect(mostAtOnce).toBe(2);
    expect(flakyAttempts).toBe(2);
    expect(executor.stats().tools.flaky?.retries).toBe(1);
    await executor.flush();
    expect((await history.listRuns()).length).toBe(5);
  });

  it("asks for approval where Volley's options say so: a denied call is answered with the reason", async () => {
    const pay = tool({
      name: "pay",
      description: "Pays",
      parameters: z.object({ amount: z.number() }),
      execute: ({ amount }) => `paid ${amount}`,
    });
    const { tools } = volleyFunctionTools([pay], {
      tools: { pay: { needsApproval: true } },
      approve: (request) => ({ approved: (request.args.amount as number) < 100, reason: "over the limit" }),
    });
    const agent = new Agent({
      name: "payer",
      tools,
      model: scriptedModel(
        [
          { callId: "small", name: "pay", args: { amount: 5 } },
          { callId: "big", name: "pay", args: { amount: 500 } },
        ],
        "Done.",
      ),
    });
    const result = await new Runner({ tracingDisabled: true }).run(agent, "Pay both");
    const outputs = result.newItems
      .filter((item) => item.type === "tool_call_output_item")
      .map((item) => String((item as { output: unknown }).output));
    expect(outputs).toEqual(["paid 5", expect.stringMatching(/^Error \(denied\): .*over the limit/) as unknown]);
  });

  it("keeps each tool as the Agent sees it, and refuses options for a tool it was not given", () => {
    const search = tool({
      name: "search",
      description: "Searches",
      parameters: z.object({ query: z.string() }),
      execute: () => "",
    });
    const { tools } = volleyFunctionTools([search]);
    expect(tools[0]).toMatchObject({ type: "function", name: "search", description: "Searches", strict: true });
    expect(tools[0]?.parameters).toEqual(search.parameters);
    expect(() => volleyFunctionTools([search], { tools: { serch: { concurrency: 1 } } })).toThrow(
      "volleyFunctionTools: tools: unknown tool `serch`; did you mean `search`?",
    );
    expect(() => volleyFunctionTools([{ name: "x" }] as never)).toThrow(
      "volleyFunctionTools: expected `functionTools[0]` to be a function tool made by tool() from @openai/agents",
    );
  });
});
