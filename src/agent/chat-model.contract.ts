import { describe, expect, it } from "vitest";
import type { ChatMessage, ChatModel, ChatModelEvent } from "./chat-model.ts";

/** One turn a harness's model answers with. */
export interface ScriptedTurn {
  text?: string;
  toolCalls?: readonly { id: string; name: string; args: Record<string, unknown> }[];
}

/** What reached the provider in one request, in a shape every harness can give. */
export interface SeenRequest {
  /** Each message's role, in order. */
  roles: string[];
  /** The tool results sent back, as [call id, content]. */
  toolResults: [string, string][];
  /** The names of the tools offered. */
  toolNames: string[];
}

/** A `ChatModel` over a provider that answers from a script, and what that provider was sent. */
export interface ChatModelHarness {
  start(
    script: readonly ScriptedTurn[],
  ): Promise<{ model: ChatModel; seen: () => SeenRequest[]; close: () => Promise<void> }>;
}

const TOOLS = [
  {
    type: "function" as const,
    function: {
      name: "weather",
      description: "Weather in a city",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  },
];

async function collect(stream: AsyncIterable<ChatModelEvent>): Promise<ChatModelEvent[]> {
  const events: ChatModelEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

/**
 * What the agent relies on from every `ChatModel`: text as deltas, each tool call once and
 * whole, one finish in the Chat Completions vocabulary with usage, the whole transcript sent,
 * and a stop when the signal aborts.
 */
export function chatModelContract(name: string, harness: ChatModelHarness): void {
  describe(`ChatModel contract: ${name}`, () => {
    it("streams an answer as text deltas, then one finish, `stop`, with usage", async () => {
      const { model, close } = await harness.start([{ text: "Oslo is cold today." }]);
      try {
        const events = await collect(model.stream({ messages: [{ role: "user", content: "Oslo?" }], tools: TOOLS }));
        const deltas = events.filter((event) => event.type === "text-delta");
        expect(deltas.map((event) => event.text).join("")).toBe("Oslo is cold today.");
        expect(events.filter((event) => event.type === "finish")).toEqual([
          expect.objectContaining({
            type: "finish",
            reason: "stop",
            usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
          }),
        ]);
        // The model that answered, when the provider says, is a name.
        const finish = events.at(-1) as { model?: unknown };
        expect(finish.model === undefined || typeof finish.model === "string").toBe(true);
        expect(events.at(-1)?.type).toBe("finish");
      } finally {
        await close();
      }
    });

    it("hands on each tool call once, whole, with its id, name and JSON arguments, then finishes `tool_calls`", async () => {
      const { model, close } = await harness.start([
        {
          toolCalls: [
            { id: "call_a", name: "weather", args: { city: "Oslo" } },
            { id: "call_b", name: "weather", args: { city: "Lima" } },
          ],
        },
      ]);
      try {
        const events = await collect(model.stream({ messages: [{ role: "user", content: "Both?" }], tools: TOOLS }));
        const calls = events.flatMap((event) => (event.type === "tool-call" ? [event] : []));
        expect(calls.map((call) => [call.id, call.name, JSON.parse(call.arguments) as unknown])).toEqual([
          ["call_a", "weather", { city: "Oslo" }],
          ["call_b", "weather", { city: "Lima" }],
        ]);
        expect(events.at(-1)).toMatchObject({ type: "finish", reason: "tool_calls" });
      } finally {
        await close();
      }
    });

    it("sends the whole transcript: system, user, the assistant's calls, each result by call id, and the tools", async () => {
      const { model, seen, close } = await harness.start([{ text: "Cold." }]);
      const messages: ChatMessage[] = [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Oslo?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_a", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } }],
        },
        { role: "tool", tool_call_id: "call_a", content: "-3 °C" },
      ];
      try {
        await collect(model.stream({ messages, tools: TOOLS }));
        const [request] = seen();
        expect(request?.roles).toEqual(["system", "user", "assistant", "tool"]);
        expect(request?.toolResults).toEqual([["call_a", "-3 °C"]]);
        expect(request?.toolNames).toEqual(["weather"]);
      } finally {
        await close();
      }
    });

    it("stops with an error when its signal is aborted, instead of finishing", async () => {
      const { model, close } = await harness.start([{ text: "never read" }]);
      const controller = new AbortController();
      controller.abort(new Error("the user left"));
      try {
        await expect(
          collect(
            model.stream({ messages: [{ role: "user", content: "Hi" }], tools: TOOLS, signal: controller.signal }),
          ),
        ).rejects.toThrow();
      } finally {
        await close();
      }
    });
  });
}
