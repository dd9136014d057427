import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { createExecutor, defineTool, openaiChat } from "../index.ts";
import { startMockOpenAI, type MockOpenAIServer } from "./index.ts";

let mock: MockOpenAIServer | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

const client = (server: MockOpenAIServer): OpenAI =>
  new OpenAI({ baseURL: server.baseURL, apiKey: "not-needed", maxRetries: 0 });

describe("startMockOpenAI", () => {
  it("answers the official client with tool calls, then with text once it has the tool messages", async () => {
    mock = await startMockOpenAI({
      script: [
        {
          toolCalls: [
            { id: "call_w1", name: "weather", arguments: { city: "Oslo" } },
            { id: "call_w2", name: "weather", arguments: '{"city":"Rome"}' },
          ],
        },
        { content: "Oslo is cold and Rome is warm." },
      ],
    });
    const openai = client(mock);
    const weather = defineTool({
      name: "weather",
      input: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      execute: (args) => `${String(args.city)}: fine`,
    });
    const executor = createExecutor({ tools: [weather] });
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Oslo and Rome?" }];

    const first = await openai.chat.completions.create({ model: "mock", messages, tools: openaiChat.tools([weather]) });
    const message = first.choices[0]?.message as OpenAI.ChatCompletionMessage;
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(first.usage?.completion_tokens).toBeGreaterThan(0);
    const { results } = await executor.run(openaiChat.calls(message));
    messages.push(message, ...(openaiChat.messages(results) as OpenAI.ChatCompletionToolMessageParam[]));

    const second = await openai.chat.completions.create({ model: "mock", messages });
    expect(second.choices[0]?.message.content).toBe("Oslo is cold and Rome is warm.");
    expect(mock.requests[0]?.tools).toHaveLength(1);
    expect((mock.requests[1]?.messages ?? []).slice(-2)).toEqual([
      { role: "tool", tool_call_id: "call_w1", content: "Oslo: fine" },
      { role: "tool", tool_call_id: "call_w2", content: "Rome: fine" },
    ]);
  });

  it("streams text a token at a time and tool calls as deltas the SDK assembles, with usage", async () => {
    mock = await startMockOpenAI({
      script: () => ({
        content: "one two three",
        toolCalls: [{ id: "call_1", name: "lookup", arguments: { id: 42, tags: ["a", "b"] }, tokens: 5 }],
      }),
    });
    const stream = await client(mock).chat.completions.create({
      model: "mock",
      messages: [{ role: "user", content: "go" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("one two three");
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.content).length).toBe(3);
    const argumentDeltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(argumentDeltas[0]).toMatchObject({ index: 0, id: "call_1", function: { name: "lookup", arguments: "" } });
    expect(argumentDeltas.length).toBe(5);
    expect(JSON.parse(argumentDeltas.map((delta) => delta.function?.arguments ?? "").join(""))).toEqual({
      id: 42,
      tags: ["a", "b"],
    });
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("tool_calls");
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(3 + 5);

    const final = await client(mock)
      .chat.completions.stream({ model: "mock", messages: [{ role: "user", content: "again" }] })
      .finalChatCompletion();
    expect(final.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      id: "call_1",
      function: { name: "lookup", arguments: '{"id":42,"tags":["a","b"]}' },
    });
  });

  it("answers as a function of the request, and says when its script has run out", async () => {
    mock = await startMockOpenAI({ script: [{ content: "only once" }] });
    const openai = client(mock);
    expect(
      (await openai.chat.completions.create({ model: "mock", messages: [{ role: "user", content: "1" }] })).choices[0]
        ?.message.content,
    ).toBe("only once");
    await expect(
      openai.chat.completions.create({ model: "mock", messages: [{ role: "user", content: "2" }] }),
    ).rejects.toThrow(/no turn 2/);
    await mock.close();
    mock = await startMockOpenAI({
      script: (request, index) => ({
        content: `turn ${index + 1} for ${String((request.messages?.at(-1) as { content: string }).content)}`,
      }),
    });
    expect(
      (await client(mock).chat.completions.create({ model: "mock", messages: [{ role: "user", content: "hi" }] }))
        .choices[0]?.message.content,
    ).toBe("turn 1 for hi");
    expect(mock.baseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  });

  it("checks its options", async () => {
    await expect(startMockOpenAI({ script: "hi" as never })).rejects.toThrow(
      "startMockOpenAI: expected `script` to be an array of turns or a function of the request",
    );
    await expect(startMockOpenAI({ script: [], tokensPerSecond: 0 })).rejects.toThrow(
      "expected `tokensPerSecond` to be a number above 0, or Infinity",
    );
  });
});
