import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createExecutor } from "../executor/create-executor.ts";
import { defineTool, withToolOptions } from "./define-tool.ts";

describe("withToolOptions", () => {
  const search = defineTool({
    name: "search",
    description: "Search",
    input: z.object({ q: z.string() }),
    concurrency: 4,
    execute: ({ q }) => `found ${q}`,
  });

  it("gives a tool new limits, retries, cache and approval, and leaves the tool itself alone", async () => {
    const tuned = withToolOptions(search, {
      concurrency: 1,
      timeoutMs: 500,
      retry: { attempts: 2 },
      cache: { ttlMs: 1000 },
      needsApproval: true,
    });
    expect(tuned).toMatchObject({
      name: "search",
      description: "Search",
      concurrency: 1,
      timeoutMs: 500,
      retry: { attempts: 2 },
      cache: { ttlMs: 1000, maxEntries: 1000 },
      needsApproval: true,
    });
    expect(search).toMatchObject({ concurrency: 4, timeoutMs: undefined, needsApproval: false });
    // Its input schema still checks arguments, and it still runs.
    const { results } = await createExecutor({ tools: [withToolOptions(search, { concurrency: 2 })] }).run([
      { name: "search", args: { q: "tides" } },
      { name: "search", args: { q: 3 } },
    ]);
    expect(results.map((result) => result.output ?? result.error?.type)).toEqual(["found tides", "invalid_arguments"]);
  });

  it("checks what it is given, as defineTool does", () => {
    expect(() => withToolOptions(search, { concurency: 1 } as never)).toThrow(
      'withToolOptions("search"): unknown option `concurency`; did you mean `concurrency`?',
    );
    expect(() => withToolOptions(search, { concurrency: 0 })).toThrow(
      'defineTool("search"): expected `concurrency` to be an integer from 1 and up, or Infinity, got 0 (number)',
    );
  });
});

describe("defineTool with another framework's names", () => {
  it("points each familiar name at Volley's", () => {
    const execute = () => "done";
    expect(() => defineTool({ name: "t", inputSchema: {}, execute } as never)).toThrow(
      'defineTool("t"): unknown option `inputSchema`; did you mean `input`?',
    );
    expect(() => defineTool({ name: "t", parameters: {}, execute } as never)).toThrow("did you mean `input`?");
    expect(() => defineTool({ name: "t", schema: {}, execute } as never)).toThrow("did you mean `input`?");
    expect(() => defineTool({ name: "t", handler: execute } as never)).toThrow("did you mean `execute`?");
  });
});
