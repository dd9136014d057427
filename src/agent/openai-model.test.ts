import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ToolCallPart } from "./tool-call-assembler.ts";
import { startMockOpenAI } from "../testing/index.ts";
import { chatModelContract, type SeenRequest } from "./chat-model.contract.ts";
import { openaiModel, type ChatModelEvent } from "./index.ts";

/**
 * The tool-call pieces each kind of OpenAI-compatible server streams for the same three calls:
 * weather in Oslo, weather in Lima, then the time in Oslo.
 */
const SHAPES: Record<string, ToolCallPart[][]> = {
  // OpenAI: an index per call, the id and name on its first piece, the arguments in pieces.
  openai: [
    [{ index: 0, id: "a", function: { name: "weather", arguments: "" } }],
    [{ index: 0, function: { arguments: '{"city":' } }],
    [{ index: 0, function: { arguments: '"Oslo"}' } }],
    [{ index: 1, id: "b", function: { name: "weather", arguments: '{"city":"Lima"}' } }],
    [{ index: 2, id: "c", function: { name: "time", arguments: '{"city"' } }],
    [{ index: 2, function: { arguments: ':"Oslo"}' } }],
  ],
  // Ollama: each call whole with its own id, all at index 0.
  ollama: [
    [{ index: 0, id: "a", function: { name: "weather", arguments: '{"city":"Oslo"}' } }],
    [{ index: 0, id: "b", function: { name: "weather", arguments: '{"city":"Lima"}' } }],
    [{ index: 0, id: "c", function: { name: "time", arguments: '{"city":"Oslo"}' } }],
  ],
  // Gemini's OpenAI-compatible endpoint: each call with its own id and no index, several in one chunk.
  gemini: [
    [
      { id: "a", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
      { id: "b", function: { name: "weather", arguments: '{"city":"Lima"}' } },
    ],
    [{ id: "c", function: { name: "time", arguments: '{"city":"Oslo"}' } }],
  ],
  // No id and no index: each call starts with its name; the arguments may come in pieces.
  "no id": [
    [{ function: { name: "weather", arguments: '{"city":' } }],
    [{ function: { arguments: '"Oslo"}' } }],
    [{ function: { name: "weather", arguments: '{"city":"Lima"}' } }],
    [{ function: { name: "time", arguments: '{"city":"Oslo"}' } }],
  ],
};

let server: Server;
let baseURL: string;
let shape = "openai";

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      const chunk = (delta: unknown, finish: string | null = null) =>
        response.write(
          `data: ${JSON.stringify({ id: "x", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
        );
      chunk({ role: "assistant", content: "Looking." });
      for (const parts of SHAPES[shape] ?? []) chunk({ tool_calls: parts });
      chunk({}, "tool_calls");
      response.end("data: [DONE]\n\n");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function streamedCalls(): Promise<{ id: string; name: string; arguments: string }[]> {
  const model = openaiModel({ client: new OpenAI({ baseURL, apiKey: "none", maxRetries: 0 }), model: "m" });
  const events: ChatModelEvent[] = [];
  for await (const event of model.stream({ messages: [{ role: "user", content: "?" }], tools: [] })) events.push(event);
  expect(events.at(-1)).toMatchObject({ type: "finish", reason: "tool_calls" });
  return events.flatMap((event) =>
    event.type === "tool-call" ? [{ id: event.id, name: event.name, arguments: event.arguments }] : [],
  );
}

describe("openaiModel reads tool calls however a server streams them", () => {
  for (const name of Object.keys(SHAPES)) {
    it(`the ${name} shape: three calls, each whole`, async () => {
      shape = name;
      const calls = await streamedCalls();
      expect(calls.map((call) => [call.name, JSON.parse(call.arguments) as unknown])).toEqual([
        ["weather", { city: "Oslo" }],
        ["weather", { city: "Lima" }],
        ["time", { city: "Oslo" }],
      ]);
      const ids = calls.map((call) => call.id);
      expect(new Set(ids).size).toBe(3);
      if (name === "no id") expect(ids.every((id) => /^call_/.test(id))).toBe(true);
      else expect(ids).toEqual(["a", "b", "c"]);
    });
  }
});

chatModelContract("openaiModel on the official client", {
  async start(script) {
    const mock = await startMockOpenAI({
      script: script.map((turn) => ({
        ...(turn.text === undefined ? {} : { content: turn.text }),
        ...(turn.toolCalls === undefined
          ? {}
          : { toolCalls: turn.toolCalls.map(({ id, name, args }) => ({ id, name, arguments: args })) }),
      })),
    });
    const client = new OpenAI({ baseURL: mock.baseURL, apiKey: "test", maxRetries: 0 });
    const seen = (): SeenRequest[] =>
      mock.requests.map((request) => {
        const messages = (request.messages ?? []) as { role: string; tool_call_id?: string; content?: string }[];
        return {
          roles: messages.map((message) => message.role),
          toolResults: messages.flatMap((message) =>
            message.role === "tool" ? [[message.tool_call_id ?? "", message.content ?? ""] as [string, string]] : [],
          ),
          toolNames: ((request.tools ?? []) as { function: { name: string } }[]).map((tool) => tool.function.name),
        };
      });
    return { model: openaiModel({ client, model: "mock" }), seen, close: () => mock.close() };
  },
});
