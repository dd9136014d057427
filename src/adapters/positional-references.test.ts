import { describe, expect, it } from "vitest";
import { createExecutor, defineTool } from "../index.ts";
import { anthropic, openaiChat, resolvePositions } from "./index.ts";

const search = defineTool({ name: "search", execute: (args) => [{ url: `https://${String(args.q)}.example` }] });
const fetchPage = defineTool({ name: "fetch", execute: (args) => `page at ${String(args.url)}` });

describe("references by position", () => {
  it("turns { $ref: n } into a reference to the message's n-th call, so both run in one turn, in order", async () => {
    const message = {
      tool_calls: [
        { id: "call_A", type: "function" as const, function: { name: "search", arguments: '{"q":"tides"}' } },
        {
          id: "call_B",
          type: "function" as const,
          function: { name: "fetch", arguments: '{"url":{"$ref":1,"path":"/0/url"}}' },
        },
      ],
    };
    const calls = openaiChat.calls(message, { positionalReferences: true });
    expect(calls[1]?.args).toEqual({ url: { $ref: "call_A", path: "/0/url" } });
    // Without the option, calls are as the model wrote them.
    expect(openaiChat.calls(message)[1]?.args).toBe('{"url":{"$ref":1,"path":"/0/url"}}');
    const { results } = await createExecutor({ tools: [search, fetchPage] }).run(calls);
    expect(results.map((result) => result.output)).toEqual([
      [{ url: "https://tides.example" }],
      "page at https://tides.example",
    ]);
  });

  it("gives a call referred to without an id one, and leaves what is no reference by position alone", () => {
    const untouched = { q: "x", note: { $ref: "call_9" }, other: { $ref: 1, extra: true } };
    const calls = resolvePositions([
      { name: "search", args: { q: "a" } },
      { name: "fetch", args: { url: { $ref: 1 } } },
      { name: "search", args: untouched },
      { id: "own", name: "fetch", args: '{"url":"plain"}' },
    ]);
    expect(calls.map((call) => [call.id, call.args])).toEqual([
      ["position 1", { q: "a" }],
      [undefined, { url: { $ref: "position 1" } }],
      [undefined, untouched],
      ["own", '{"url":"plain"}'],
    ]);
    expect(calls[2]?.args).toBe(untouched);
  });

  it("answers a position out of range, or a call's own, as an invalid reference the model can read", async () => {
    const calls = anthropic.calls(
      [
        { type: "tool_use", id: "a", name: "fetch", input: { url: { $ref: 5 } } },
        { type: "tool_use", id: "b", name: "fetch", input: { url: { $ref: 2 } } },
      ],
      { positionalReferences: true },
    );
    const { results } = await createExecutor({ tools: [search, fetchPage] }).run(calls);
    expect(results.map((result) => (result.ok ? "ok" : result.error.type))).toEqual([
      "invalid_reference",
      "invalid_reference",
    ]);
    expect(results[0]?.ok === false && results[0].error.message).toContain('"position 5"');
  });
});
