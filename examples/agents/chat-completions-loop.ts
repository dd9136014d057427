/**
 * Your own tool loop on the official `openai` client, with Volley running each turn's calls:
 * the model's `tool_calls` go in as they are, `role: "tool"` messages come back in call order,
 * and a call the model got wrong is answered with an error it can act on while the rest run.
 *
 *   node examples/agents/chat-completions-loop.ts
 *
 * With no OPENAI_API_KEY it talks to Volley's mock Chat Completions server, whose scripted
 * model misspells a tool once and then corrects itself. With OPENAI_API_KEY it asks a real
 * model (OPENAI_BASE_URL and VOLLEY_MODEL for other OpenAI-compatible endpoints).
 */
import OpenAI from "openai";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { createExecutor, openaiChat } from "volley";
import { startMockOpenAI } from "volley/testing";
import { flights, weather } from "./tools.ts";

const tools = [weather, flights];
const mock = process.env.OPENAI_API_KEY
  ? undefined
  : await startMockOpenAI({
      script: [
        {
          toolCalls: [
            { id: "oslo", name: "weather", arguments: { city: "Oslo" } },
            { id: "rome", name: "weather", arguments: { city: "Rome" } },
            { id: "trip", name: "flight", arguments: { from: "Oslo", to: "Rome" } },
          ],
        },
        { toolCalls: [{ id: "trip_again", name: "flights", arguments: { from: "Oslo", to: "Rome" } }] },
        { content: "Rome is 13 °C warmer than Oslo today; a flight leaves at 17:40 for 129 EUR." },
      ],
    });
const client = mock
  ? new OpenAI({ baseURL: mock.baseURL, apiKey: "mock" })
  : new OpenAI({ baseURL: process.env.OPENAI_BASE_URL });
const model = process.env.VOLLEY_MODEL ?? "gpt-4.1-mini";
const executor = createExecutor({ tools, maxConcurrency: 8 });

const messages: ChatCompletionMessageParam[] = [
  { role: "user", content: "How much warmer is Rome than Oslo today, and can I fly there tonight?" },
];
try {
  for (let turn = 1; turn <= 5; turn++) {
    const completion = await client.chat.completions.create({ model, messages, tools: openaiChat.tools(tools) });
    const message = completion.choices[0]?.message;
    if (message === undefined) throw new Error("the model sent no message");
    const calls = openaiChat.calls(message);
    if (calls.length === 0) {
      console.log(`\n${message.content ?? ""}`);
      break;
    }
    const { results, stats } = await executor.run(calls);
    console.log(
      `turn ${turn}: ${calls.length} call${calls.length === 1 ? "" : "s"} in ${stats.wallMs.toFixed(0)} ms (a loop that awaits each call in turn: ${stats.sumMs.toFixed(0)} ms)`,
    );
    for (const result of results) {
      console.log(
        `  ${result.ok ? "✓" : "✗"} ${result.id} ${result.name}: ${result.ok ? JSON.stringify(result.output) : `${result.error?.type}: ${result.error?.message}`}`,
      );
    }
    messages.push(message, ...openaiChat.messages(results));
  }
} finally {
  await mock?.close();
}
