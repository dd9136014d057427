/**
 * One turn of a Claude agent through Volley, with no Anthropic SDK and no key: the tool
 * definitions Volley writes for the Messages API, an assistant message as the API returns it
 * when Claude asks for several tools at once, and the `tool_result` message that goes back,
 * with `is_error` on the call that failed.
 *
 *   node examples/agents/anthropic-turn.ts
 *
 * In a real loop, `anthropic.tools(tools)` goes in `client.messages.create({ tools })`, and the
 * response is what `assistantMessage` stands for here.
 */
import { anthropic, createExecutor } from "volley";
import { flights, weather } from "./tools.ts";

const tools = [weather, flights];
console.log("tools for the Messages API:");
for (const definition of anthropic.tools(tools))
  console.log(`  ${definition.name}: ${JSON.stringify(definition.input_schema)}`);

// What the Messages API returns when Claude asks for tools in parallel (stop_reason "tool_use").
const assistantMessage = {
  role: "assistant" as const,
  content: [
    { type: "text" as const, text: "I'll check the weather in both cities and the flights." },
    { type: "tool_use" as const, id: "toolu_01", name: "weather", input: { city: "Rome" } },
    { type: "tool_use" as const, id: "toolu_02", name: "weather", input: { city: "Lima" } },
    { type: "tool_use" as const, id: "toolu_03", name: "flights", input: { from: "Oslo" } },
  ],
};

const executor = createExecutor({ tools });
const { results, stats } = await executor.run(anthropic.calls(assistantMessage));
console.log(
  `\n${results.length} calls in ${stats.wallMs.toFixed(0)} ms (a loop that awaits each call in turn: ${stats.sumMs.toFixed(0)} ms)`,
);
console.log("\nthe next user message, for Claude:");
console.log(JSON.stringify(anthropic.message(results), null, 2));
