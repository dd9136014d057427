import { describe, expect, it } from "vitest";
import { parseJsonPointer, readJsonPointer } from "./json-pointer.ts";

describe("JSON Pointer", () => {
  it("parses RFC 6901 pointers, with ~1 for / and ~0 for ~", () => {
    expect(parseJsonPointer("")).toEqual([]);
    expect(parseJsonPointer("/a/0/b")).toEqual(["a", "0", "b"]);
    expect(parseJsonPointer("/a~1b/c~0d/~01")).toEqual(["a/b", "c~d", "~1"]);
    expect(parseJsonPointer("a/b")).toBeUndefined();
    expect(parseJsonPointer("/bad~2escape")).toBeUndefined();
  });

  it("reads values, reports where a path ends, and never follows a prototype", () => {
    const document = { items: [{ title: "first" }], "a/b": 1, empty: null };
    expect(readJsonPointer(document, ["items", "0", "title"])).toEqual({ found: true, value: "first" });
    expect(readJsonPointer(document, ["a/b"])).toEqual({ found: true, value: 1 });
    expect(readJsonPointer(document, ["empty"])).toEqual({ found: true, value: null });
    expect(readJsonPointer(document, ["items", "1", "title"])).toEqual({ found: false, at: "/items/1" });
    expect(readJsonPointer(document, ["items", "01"])).toEqual({ found: false, at: "/items/01" });
    expect(readJsonPointer(document, ["constructor"])).toEqual({ found: false, at: "/constructor" });
    expect(readJsonPointer(document, ["items", "length"])).toEqual({ found: false, at: "/items/length" });
  });
});
