import { describe, expect, expectTypeOf, it } from "vitest";
import { createExecutor, defineTool, type CallError, type ToolResult } from "../index.ts";

// Type-checked by `npm run typecheck`: a result narrows on `ok`, with no `?.` and no cast.
describe("ToolResult", () => {
  it("narrows on ok: a success has its output, a failure its error", async () => {
    const { results } = await createExecutor({ tools: [defineTool({ name: "echo", execute: () => "hi" })] }).run([
      { name: "echo" },
      { name: "missing" },
    ]);
    const [success, failure] = results as [ToolResult, ToolResult];
    if (success.ok) expectTypeOf(success.output).toEqualTypeOf<unknown>();
    if (!failure.ok) {
      expectTypeOf(failure.error).toEqualTypeOf<CallError>();
      expect(failure.error.type).toBe("unknown_tool");
    }
    // Either kind can still be read without narrowing.
    expectTypeOf(success.error).toEqualTypeOf<CallError | undefined>();
    expect([success.ok, success.output, failure.ok, failure.output]).toEqual([true, "hi", false, undefined]);
  });
});
