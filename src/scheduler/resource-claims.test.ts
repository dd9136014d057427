import { describe, expect, it } from "vitest";
import { toClaims } from "./resource-claims.ts";

describe("toClaims", () => {
  it("reads strings as writes and keeps one claim per key, the stronger mode winning", () => {
    expect(
      toClaims(["a", { key: "b", mode: "read" }, { key: "a", mode: "read" }, { key: "b", mode: "write" }]),
    ).toEqual({
      ok: true,
      claims: [
        { key: "a", mode: "write" },
        { key: "b", mode: "write" },
      ],
    });
    expect(toClaims("solo")).toEqual({ ok: true, claims: [{ key: "solo", mode: "write" }] });
    expect(toClaims([])).toEqual({ ok: true, claims: [] });
  });

  it("says what it expected when a claim is malformed", () => {
    expect(toClaims([{ key: "a", mode: "append" }])).toEqual({
      ok: false,
      message: 'expected keys or { key, mode: "read" | "write" }, got an object',
    });
    expect(toClaims([42])).toEqual({
      ok: false,
      message: 'expected keys or { key, mode: "read" | "write" }, got 42 (number)',
    });
  });
});
