import { tool, type InferToolInput, type InferToolOutput, type ToolSet, type TypedToolCall } from "ai";
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { createExecutor } from "../index.ts";
import { aiSdkTools, fromAiSdkTools } from "./index.ts";

const toolSet = {
  weather: tool({
    inputSchema: z.object({ city: z.string() }),
    execute: ({ city }) => ({ city, celsius: 4 }),
  }),
  flights: tool({
    inputSchema: z.object({ from: z.string(), to: z.string() }),
    execute: ({ from, to }) => [`${from} → ${to}, 17:40`],
  }),
};

// Run by the suite's type check: tools that go through Volley keep the AI SDK's types.
describe("aiSdkTools like an AI SDK tool set", () => {
  it("keeps each tool's name, input and output", async () => {
    const executor = createExecutor({ tools: await fromAiSdkTools(toolSet) });
    const tools = aiSdkTools(executor, { like: toolSet });
    expectTypeOf(tools).toHaveProperty("weather");
    expectTypeOf<keyof typeof tools>().toEqualTypeOf<"weather" | "flights">();
    expectTypeOf<InferToolInput<typeof tools.weather>>().toEqualTypeOf<{ city: string }>();
    expectTypeOf<InferToolOutput<typeof tools.flights>>().toEqualTypeOf<string[]>();
    // So a generateText loop's typed tool calls read as they did before Volley ran them.
    type Call = Extract<TypedToolCall<typeof tools>, { toolName: "flights" }>;
    expectTypeOf<Call["input"]>().toEqualTypeOf<{ from: string; to: string }>();
  });

  it("without `like`, is a plain tool set", () => {
    const executor = createExecutor({ tools: [] });
    expectTypeOf(aiSdkTools(executor)).toEqualTypeOf<ToolSet>();
  });
});
