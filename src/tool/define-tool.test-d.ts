import { type } from "arktype";
import * as v from "valibot";
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { defineTool, type Tool } from "../index.ts";

// Run by the suite's type check: how `defineTool` types `execute`'s arguments, from each kind of `input`.
describe("defineTool infers its arguments", () => {
  it("from a zod schema, its output type (defaults applied)", () => {
    defineTool({
      name: "forecast",
      input: z.object({ city: z.string(), days: z.number().default(3), units: z.enum(["c", "f"]).optional() }),
      execute: (args) => {
        expectTypeOf(args).toEqualTypeOf<{ city: string; days: number; units?: "c" | "f" | undefined }>();
        // @ts-expect-error the schema has no such key
        void args.country;
      },
    });
  });

  it("from a valibot schema", () => {
    defineTool({
      name: "forecast",
      input: v.object({ city: v.string(), days: v.optional(v.number()) }),
      execute: (args) => expectTypeOf(args).toEqualTypeOf<{ city: string; days?: number | undefined }>(),
    });
  });

  it("from an arktype schema", () => {
    defineTool({
      name: "forecast",
      input: type({ city: "string", "days?": "number" }),
      execute: (args) => expectTypeOf(args).toEqualTypeOf<{ city: string; days?: number }>(),
    });
  });

  it("as a plain record from a JSON Schema object, or with no input at all", () => {
    defineTool({
      name: "forecast",
      input: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      execute: (args) => expectTypeOf(args).toEqualTypeOf<Record<string, unknown>>(),
    });
    defineTool({ name: "now", execute: (args) => expectTypeOf(args).toEqualTypeOf<Record<string, unknown>>() });
  });

  it("and its output from what execute returns, awaited", () => {
    expectTypeOf(defineTool({ name: "sync", execute: () => ({ ok: 1 }) })).toEqualTypeOf<Tool<{ ok: number }>>();
    expectTypeOf(defineTool({ name: "async", execute: () => Promise.resolve("text") })).toEqualTypeOf<Tool<string>>();
  });

  it("refuses an execute that reads arguments of the wrong type", () => {
    defineTool({
      name: "forecast",
      input: z.object({ days: z.number() }),
      // @ts-expect-error days is a number, not a string
      execute: (args: { days: string }) => args.days,
    });
  });
});
