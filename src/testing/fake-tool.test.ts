import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createExecutor } from "../index.ts";
import { fakeTool } from "./fake-tool.ts";

describe("fakeTool", () => {
  it("types its callbacks' arguments from the input schema, as defineTool types execute's", async () => {
    // Type-checked by `npm run typecheck`: `query` is a string and `limit` a number here, with no casts.
    const search = fakeTool({
      name: "search",
      input: z.object({ query: z.string(), limit: z.number().default(2) }),
      latencyMs: ({ query }) => query.length,
      output: ({ query, limit }) => Array.from({ length: limit }, (_, index) => `${query.toUpperCase()} ${index}`),
      fail: ({ query }) => (query.startsWith("!") ? "no results" : undefined),
    });
    const { results } = await createExecutor({ tools: [search] }).run([
      { name: "search", args: { query: "tides" } },
      { name: "search", args: { query: "!x" } },
    ]);
    expect(results[0]?.output).toEqual(["TIDES 0", "TIDES 1"]);
    expect(results[1]?.error).toMatchObject({ type: "tool_error", message: "no results" });
  });
});
