import { describe, expect, it } from "vitest";
import { outputsOf, resolveReferences, scanArguments } from "./call-arguments.ts";

describe("scanArguments", () => {
  it("finds every reference with where it sits", () => {
    const scanned = scanArguments({ a: { $ref: "x" }, list: [1, { deep: { $ref: "y", path: "/0/name" } }] });
    expect(
      scanned.ok && scanned.references.map(({ location, callId, pointer }) => ({ location, callId, pointer })),
    ).toEqual([
      { location: ["a"], callId: "x", pointer: "" },
      { location: ["list", 1, "deep"], callId: "y", pointer: "/0/name" },
    ]);
  });

  it("reads document references as data, and takes a $literal as it is", () => {
    // JSON Schema's and OpenAPI's references have a # or a ://; call ids have neither.
    const schema = {
      type: "object",
      properties: {
        user: { $ref: "#/definitions/user" },
        pet: { $ref: "common.yaml#/Pet" },
        remote: { $ref: "https://example.org/s.json" },
      },
    };
    expect(scanArguments({ schema })).toEqual({ ok: true, args: { schema }, references: [] });
    const mixed = scanArguments({ input: { $ref: "a", path: "/x" }, example: { $literal: { $ref: "b" } } });
    expect(mixed.ok && mixed.args).toEqual({ input: { $ref: "a", path: "/x" }, example: { $ref: "b" } });
    expect(mixed.ok && mixed.references.map((reference) => reference.callId)).toEqual(["a"]);
    expect(scanArguments({ $literal: { $ref: "c" } })).toEqual({ ok: true, args: { $ref: "c" }, references: [] });
    expect(scanArguments({ $literal: 3 })).toEqual({
      ok: false,
      message: 'Arguments must be a JSON object, got number in "$literal"',
    });
    // A literal is still checked for keys that could pollute a prototype.
    expect(scanArguments('{"x":{"$literal":{"__proto__":{}}}}').ok).toBe(false);
    // A tool that takes documents reads no references at all.
    expect(scanArguments({ link: { $ref: "users" } }, { references: false })).toEqual({
      ok: true,
      args: { link: { $ref: "users" } },
      references: [],
    });
  });

  it("treats an object with other keys than $ref and path as plain data", () => {
    const scanned = scanArguments({ schema: { $ref: "#/defs/a", type: "object" } });
    expect(scanned.ok && scanned.references).toEqual([]);
  });

  it("explains what is wrong", () => {
    expect(scanArguments('{"a":').ok).toBe(false);
    expect(scanArguments("42")).toEqual({ ok: false, message: "Arguments must be a JSON object, got number" });
    expect(scanArguments("null")).toEqual({ ok: false, message: "Arguments must be a JSON object, got null" });
    expect(scanArguments({ v: { $ref: "a", path: "no-slash" } })).toEqual({
      ok: false,
      message: '"path" "no-slash" at /v is not a JSON Pointer (it must start with "/")',
    });
    expect(scanArguments('{"list":[{"__proto__":{}}]}')).toEqual({
      ok: false,
      message: 'The key "__proto__" at /list/0 is not allowed in arguments',
    });
  });
});

describe("resolveReferences", () => {
  it("copies only the containers on the way to a reference and leaves the input alone", () => {
    const shared = { untouched: true };
    const args = { keep: shared, list: [{ v: { $ref: "a", path: "/n" } }] };
    const scanned = scanArguments(args);
    if (!scanned.ok) throw new Error(scanned.message);
    const resolved = resolveReferences(scanned.args, scanned.references, () => ({ n: 5 }));
    expect(resolved).toEqual({ ok: true, args: { keep: shared, list: [{ v: 5 }] } });
    expect(resolved.ok && resolved.args.keep).toBe(shared);
    expect(args.list[0]?.v).toEqual({ $ref: "a", path: "/n" });
  });

  it("makes the whole arguments the referenced value when the reference is at the top", () => {
    const scanned = scanArguments({ $ref: "a" });
    if (!scanned.ok) throw new Error(scanned.message);
    expect(resolveReferences(scanned.args, scanned.references, () => ({ q: 1 }))).toEqual({ ok: true, args: { q: 1 } });
  });
});

describe("outputsOf", () => {
  it("finds each of thousands of dependencies' outputs in work linear in them (a fan-in's references)", () => {
    let reads = 0;
    const dependencies = Array.from(
      { length: 4000 },
      (_, index) =>
        new Proxy(
          { id: `d${index}`, result: { output: index } },
          { get: (target, key): unknown => (key === "id" && reads++, Reflect.get(target, key)) },
        ),
    );
    const outputOf = outputsOf(dependencies);
    const outputs = dependencies.map((_, index) => outputOf(`d${index}`));
    expect(outputs).toEqual(dependencies.map((_, index) => index));
    expect(reads).toBeLessThanOrEqual(4000);
    expect(outputOf("missing")).toBeUndefined();
  });
});
