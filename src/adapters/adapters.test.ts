import { type } from "arktype";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { anthropic, createExecutor, defineTool, gemini, openaiChat, openaiResponses } from "../index.ts";

const weather = defineTool({
  name: "get_weather",
  description: "Weather for a city",
  input: z.object({ city: z.string(), unit: z.enum(["c", "f"]).default("c") }),
  execute: ({ city, unit }) => ({ city, temperature: unit === "c" ? 21 : 70 }),
});
const time = defineTool({
  name: "get_time",
  input: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] },
  execute: (args) => `12:00 in ${String(args.zone)}`,
});
const executor = createExecutor({ tools: [weather, time] });

describe("OpenAI Chat Completions", () => {
  // As the API returns it: choices[0].message.
  const assistantMessage = {
    role: "assistant",
    content: null,
    tool_calls: [
      { id: "call_abc", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
      { id: "call_def", type: "function", function: { name: "get_time", arguments: '{"zone":"Europe/Paris"}' } },
      { id: "call_bad", type: "function", function: { name: "get_weather", arguments: '{"city": "Ro' } },
      { id: "call_empty", type: "function", function: { name: "get_time", arguments: "" } },
      { id: "call_typo", type: "function", function: { name: "get_wether", arguments: "{}" } },
    ],
  } as const;

  it("runs tool_calls and answers each with a tool message, in order, ids kept", async () => {
    const { results } = await executor.run(openaiChat.calls(assistantMessage));
    const messages = openaiChat.messages(results);
    expect(messages.map((message) => message.tool_call_id)).toEqual([
      "call_abc",
      "call_def",
      "call_bad",
      "call_empty",
      "call_typo",
    ]);
    expect(messages[0]).toEqual({
      role: "tool",
      tool_call_id: "call_abc",
      content: '{"city":"Paris","temperature":21}',
    });
    expect(messages[1]?.content).toBe("12:00 in Europe/Paris");
    expect(messages[2]?.content).toMatch(
      /^Error \(invalid_arguments\): Invalid call to "get_weather": Arguments are not valid JSON/,
    );
    expect(messages[3]?.content).toMatch(
      /^Error \(invalid_arguments\): Arguments for "get_time" do not match its input schema/,
    );
    expect(messages[4]?.content).toBe(
      'Error (unknown_tool): Unknown tool "get_wether". Did you mean "get_weather"? Available tools: get_weather, get_time.',
    );
  });

  it("passes a custom tool's free text as its input argument", () => {
    expect(
      openaiChat.calls({ tool_calls: [{ id: "c", type: "custom", custom: { name: "grep", input: "TODO" } }] }),
    ).toEqual([{ id: "c", name: "grep", args: { input: "TODO" } }]);
  });

  it("takes a message with no tool calls, and calls without ids", async () => {
    expect(openaiChat.calls({ tool_calls: null })).toEqual([]);
    expect(openaiChat.calls(undefined)).toEqual([]);
    const calls = openaiChat.calls({ tool_calls: [{ function: { name: "get_time", arguments: '{"zone":"UTC"}' } }] });
    const { results } = await executor.run(calls);
    expect(openaiChat.messages(results)).toEqual([{ role: "tool", tool_call_id: "call_0", content: "12:00 in UTC" }]);
  });

  it("describes tools as the tools array, with JSON Schema from zod or JSON Schema", () => {
    expect(openaiChat.tools([weather, time])).toEqual([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather for a city",
          parameters: {
            type: "object",
            properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"], default: "c" } },
            required: ["city"],
          },
        },
      },
      {
        type: "function",
        function: {
          name: "get_time",
          parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] },
        },
      },
    ]);
  });
});

describe("OpenAI Responses", () => {
  const output = [
    { type: "reasoning", id: "rs_1", summary: [] },
    {
      type: "function_call",
      id: "fc_1",
      call_id: "call_1",
      name: "get_weather",
      arguments: '{"city":"Oslo","unit":"f"}',
    },
    { type: "message", id: "msg_1", role: "assistant", content: [] },
    { type: "function_call", id: "fc_2", call_id: "call_2", name: "get_time", arguments: '{"zone":' },
  ];

  it("runs function_call items and answers with function_call_output items, in order", async () => {
    const { results } = await executor.run(openaiResponses.calls(output));
    expect(openaiResponses.outputs(results)).toEqual([
      { type: "function_call_output", call_id: "call_1", output: '{"city":"Oslo","temperature":70}' },
      {
        type: "function_call_output",
        call_id: "call_2",
        output: expect.stringMatching(/^Error \(invalid_arguments\): /) as unknown,
      },
    ]);
    expect(openaiResponses.calls([])).toEqual([]);
    expect(openaiResponses.tools([time])).toEqual([
      {
        type: "function",
        name: "get_time",
        parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] },
        strict: false,
      },
    ]);
  });
});

describe("Anthropic Messages", () => {
  const message = {
    id: "msg_01",
    type: "message",
    role: "assistant",
    stop_reason: "tool_use",
    content: [
      { type: "text", text: "Let me check both." },
      { type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Lima" } },
      { type: "tool_use", id: "toolu_02", name: "get_time", input: {} },
      { type: "tool_use", id: "toolu_03", name: "get_time", input: { zone: "America/Lima" } },
    ],
  };

  it("runs tool_use blocks and answers with one user message of tool_result blocks, is_error on failures", async () => {
    const { results } = await executor.run(anthropic.calls(message));
    expect(anthropic.message(results)).toEqual({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_01", content: '{"city":"Lima","temperature":21}' },
        {
          type: "tool_result",
          tool_use_id: "toolu_02",
          content: expect.stringMatching(/^Arguments for "get_time" do not match its input schema/) as unknown,
          is_error: true,
        },
        { type: "tool_result", tool_use_id: "toolu_03", content: "12:00 in America/Lima" },
      ],
    });
    expect(anthropic.calls({ content: "just text" })).toEqual([]);
    expect(anthropic.tools([time])).toEqual([
      {
        name: "get_time",
        input_schema: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] },
      },
    ]);
  });
});

describe("Google Gemini", () => {
  const content = {
    role: "model",
    parts: [
      { text: "Checking." },
      { functionCall: { name: "get_weather", args: { city: "Kyoto" } } },
      { functionCall: { id: "fc-7", name: "get_time", args: { zone: "Asia/Tokyo" } } },
      { functionCall: { name: "get_weather", args: { city: 7 } } },
    ],
  };

  it("runs functionCall parts, making ids when missing, and answers with functionResponse parts", async () => {
    const calls = gemini.calls(content);
    expect(calls.map((call) => call.id)).toEqual(["gemini_call_0", "fc-7", "gemini_call_2"]);
    const { results } = await executor.run(calls);
    const parts = gemini.parts(results);
    expect(parts[0]).toEqual({
      functionResponse: { name: "get_weather", response: { output: { city: "Kyoto", temperature: 21 } } },
    });
    expect(parts[1]).toEqual({
      functionResponse: { id: "fc-7", name: "get_time", response: { output: "12:00 in Asia/Tokyo" } },
    });
    expect(parts[2]?.functionResponse.response).toMatchObject({ error: { type: "invalid_arguments" } });
    expect(gemini.calls({ parts: [{ text: "no calls" }] as never })).toEqual([]);
    expect(gemini.tools([time])).toEqual([
      {
        functionDeclarations: [
          {
            name: "get_time",
            parametersJsonSchema: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] },
          },
        ],
      },
    ]);
  });
});

describe("tool definitions", () => {
  it("uses a schema's own JSON Schema (arktype too), and says what to do when it has none", () => {
    const withArktype = defineTool({ name: "ark", input: type({ n: "number" }), execute: () => 1 });
    expect(anthropic.tools([withArktype])[0]?.input_schema).toMatchObject({
      type: "object",
      properties: { n: { type: "number" } },
      required: ["n"],
    });
    const withValibot = defineTool({ name: "val", input: v.object({ n: v.number() }), execute: () => 1 });
    expect(() => openaiChat.tools([withValibot])).toThrow(
      /Tool "val": its valibot schema can't describe itself as JSON Schema/,
    );
    expect(openaiChat.tools([defineTool({ name: "bare", execute: () => 1 })])[0]?.function.parameters).toEqual({
      type: "object",
      properties: {},
    });
  });
});
