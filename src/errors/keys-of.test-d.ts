import { describe, it } from "vitest";
import { keysOf } from "./volley-error.ts";

interface Options {
  limit?: number;
  name: string;
}

// Run by the suite's type check: a list of option keys can't drift from its type.
describe("keysOf", () => {
  it("takes every key of the type, once", () => {
    keysOf<Options>({ limit: true, name: true });
  });

  it("refuses a list with a key missing", () => {
    // @ts-expect-error `name` is missing
    keysOf<Options>({ limit: true });
  });

  it("refuses a key the type does not have", () => {
    // @ts-expect-error `limits` is not a key of Options
    keysOf<Options>({ limit: true, name: true, limits: true });
  });

  it("takes the keys of every member of a union", () => {
    keysOf<{ command: string } | { url: string }>({ command: true, url: true });
    // @ts-expect-error `url` is a key of one member
    keysOf<{ command: string } | { url: string }>({ command: true });
  });
});
