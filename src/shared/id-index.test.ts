import { describe, expect, it } from "vitest";
import { IdIndex } from "./id-index.ts";

describe("IdIndex", () => {
  it("finds every id it was given, as a Map would, through growth and replacement", () => {
    const index = new IdIndex();
    const reference = new Map<string, number>();
    // Ids of many shapes: provider ids, short ones, long ones, ones differing only at the start or end.
    const ids = Array.from(
      { length: 5000 },
      (_, n) => [`toolu_${n.toString(36)}`, `${n}`, `call_${n}_x`, `${"a".repeat(n % 50)}${n}`][n % 4] as string,
    );
    ids.forEach((id, position) => {
      index.set(id, position);
      reference.set(id, position);
    });
    // Replacing keeps one entry per id.
    index.set("toolu_0", 99);
    reference.set("toolu_0", 99);
    expect(index.size).toBe(reference.size);
    for (const [id, position] of reference) expect(index.get(id)).toBe(position);
    expect(index.get("missing")).toBeUndefined();
    expect(index.has("missing")).toBe(false);
    expect(index.has("toolu_1")).toBe(false);
    expect(index.has(ids[1] as string)).toBe(true);
  });

  it("answers for an empty index, and keeps what it holds when room is reserved", () => {
    const index = new IdIndex();
    expect(index.get("a")).toBeUndefined();
    index.set("a", 1);
    index.reserve(10_000);
    expect(index.get("a")).toBe(1);
    expect(index.size).toBe(1);
  });
});
