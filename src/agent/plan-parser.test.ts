import { describe, expect, it } from "vitest";
import { LineSplitter, parsePlanLine } from "./plan-parser.ts";

describe("parsePlanLine", () => {
  it("reads tasks, whole-value references, and join()", () => {
    expect(parsePlanLine('1. search({"query": "volcanoes"})')).toEqual({
      kind: "task",
      task: 1,
      call: { id: "task1", name: "search", args: { query: "volcanoes" } },
    });
    expect(parsePlanLine('3) summarize({"texts": ["$1", "$2"], "words": 50})')).toEqual({
      kind: "task",
      task: 3,
      call: { id: "task3", name: "summarize", args: { texts: [{ $ref: "task1" }, { $ref: "task2" }], words: 50 } },
    });
    expect(parsePlanLine("4. now()")).toMatchObject({ kind: "task", call: { name: "now", args: {} } });
    expect(parsePlanLine('5. search({"query": "about $2"})')).toMatchObject({
      call: { args: { query: "about $2" }, dependsOn: ["task2"] },
    });
    expect(parsePlanLine("6. join()")).toEqual({ kind: "join" });
    expect(parsePlanLine("join()")).toEqual({ kind: "join" });
  });

  it("reads a reference to a field inside a task's output, as a dotted path or a JSON Pointer", () => {
    expect(
      parsePlanLine(
        '3. add({"a": "$1.count", "b": "$2.items[0].n", "c": "$2/items/0/n", "d": "$1/a~1b", "e": "$1.größe"})',
      ),
    ).toEqual({
      kind: "task",
      task: 3,
      call: {
        id: "task3",
        name: "add",
        args: {
          a: { $ref: "task1", path: "/count" },
          b: { $ref: "task2", path: "/items/0/n" },
          c: { $ref: "task2", path: "/items/0/n" },
          d: { $ref: "task1", path: "/a~1b" },
          e: { $ref: "task1", path: "/größe" },
        },
      },
    });
    // Not a whole reference: it stays text, and the task still waits for task 1.
    expect(parsePlanLine('4. say({"text": "$1.count items"})')).toMatchObject({
      call: { args: { text: "$1.count items" }, dependsOn: ["task1"] },
    });
  });

  it("says why a task line can't be read, and ignores prose", () => {
    expect(parsePlanLine('2. search({"query": )')).toMatchObject({
      kind: "invalid",
      reason: expect.stringMatching(/^the arguments are not a JSON object/) as unknown,
    });
    expect(parsePlanLine("2. search([1, 2])")).toMatchObject({
      kind: "invalid",
      reason: "the arguments must be a JSON object",
    });
    expect(parsePlanLine("2. look things up")).toMatchObject({
      kind: "invalid",
      reason: "expected `n. tool_name({json arguments})`",
    });
    expect(parsePlanLine("Here is my plan:")).toEqual({ kind: "other" });
  });
});

describe("LineSplitter", () => {
  it("hands out lines as they complete", () => {
    const splitter = new LineSplitter();
    expect(splitter.push("1. a({})\n2. b(")).toEqual(["1. a({})"]);
    expect(splitter.push("{})")).toEqual([]);
    expect(splitter.push("\njoin")).toEqual(["2. b({})"]);
    expect(splitter.flush()).toEqual(["join"]);
  });
});
