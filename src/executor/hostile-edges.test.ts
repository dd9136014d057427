import { describe, expect, it } from "vitest";
import { createExecutor, defineTool, MAX_ARGUMENT_DEPTH, type ToolResult } from "../index.ts";

/** `{"a":{"a":…}}` nested `depth` levels, as a model that loops on brackets writes it. */
const nestedJson = (depth: number): string => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

const echo = defineTool({ name: "echo", execute: (args: Record<string, unknown>) => args });
const plain = defineTool({ name: "plain", execute: () => "fine" });

/** A thenable whose `then` throws, one whose `then` getter throws, and Proxies whose traps throw. */
const hostileOutputs: Record<string, () => unknown> = {
  "a then that throws": () => ({
    then() {
      throw new Error("then exploded");
    },
  }),
  "a then getter that throws": () =>
    Object.defineProperty({}, "then", {
      get() {
        throw new Error("then getter exploded");
      },
    }),
  "a Proxy whose every trap throws": () =>
    new Proxy(
      {},
      {
        get() {
          throw new Error("get trap exploded");
        },
        getPrototypeOf() {
          throw new Error("prototype trap exploded");
        },
        ownKeys() {
          throw new Error("ownKeys trap exploded");
        },
      },
    ),
  "a thenable that answers, then throws": () => ({
    then(resolve: (value: unknown) => void) {
      resolve("answered first");
      throw new Error("then threw after answering");
    },
  }),
};

describe("deeply nested arguments", () => {
  it("are answered invalid_arguments past MAX_ARGUMENT_DEPTH, never thrown, and the sibling calls keep their results", async () => {
    const executor = createExecutor({ tools: [echo, plain] });
    const { results, status } = await executor.run([
      { id: "sibling", name: "plain" },
      { id: "deep", name: "echo", args: nestedJson(4000) },
      { id: "deep-object", name: "echo", args: JSON.parse(nestedJson(4000)) as Record<string, unknown> },
      { id: "at-limit", name: "echo", args: nestedJson(MAX_ARGUMENT_DEPTH) },
    ]);
    expect(status).toBe("completed");
    expect(results.map((result) => [result.id, result.ok])).toEqual([
      ["sibling", true],
      ["deep", false],
      ["deep-object", false],
      ["at-limit", true],
    ]);
    expect(results[1]?.error).toMatchObject({
      type: "invalid_arguments",
      message: `Invalid call to "echo": Arguments are nested more than ${MAX_ARGUMENT_DEPTH} levels deep (or contain themselves); flatten them`,
    });
  });

  it("are answered the same way when added to a live run, and when they contain themselves", async () => {
    const executor = createExecutor({ tools: [echo] });
    const run = executor.start();
    const looped: Record<string, unknown> = {};
    looped.self = looped;
    expect(run.add({ id: "deep", name: "echo", args: nestedJson(100_000) })).toBe("deep");
    expect(run.add({ id: "looped", name: "echo", args: looped })).toBe("looped");
    run.end();
    const { results } = await run.result;
    expect(results.map((result) => result.error?.type)).toEqual(["invalid_arguments", "invalid_arguments"]);
  });
});

describe("whatever a tool returns or throws becomes that call's result", () => {
  for (const [what, make] of Object.entries(hostileOutputs)) {
    it(`${what}, as the first call or after a dependency, and the slot is freed`, async () => {
      const hostile = defineTool({ name: "hostile", execute: make });
      const first = defineTool({ name: "first", execute: async () => ({ n: 1 }) });
      const executor = createExecutor({ tools: [hostile, first, plain], maxConcurrency: 1 });
      const { results } = await executor.run([
        { id: "alone", name: "hostile" },
        { id: "before", name: "first" },
        { id: "after", name: "hostile", dependsOn: ["before"] },
        { id: "reads", name: "plain", args: { value: { $ref: "alone", path: "/x" } } },
      ]);
      expect(results).toHaveLength(4);
      for (const result of [results[0], results[2]] as ToolResult[]) {
        // Either the tool's output could be read (a thenable that answered first) or its failure is the call's.
        if (result.ok) expect(result.output).toBe("answered first");
        else expect(result.error?.type).toBe("tool_error");
      }
      if (!results[0]?.ok) expect(results[3]?.error?.type).toBe("dependency_failed");
      // The one slot was freed: the next run goes through.
      const next = await executor.run([{ name: "plain" }]);
      expect(next.results[0]?.ok).toBe(true);
    });
  }

  it("a thrown Proxy, and an output a $ref cannot read", async () => {
    const trap = (): never => {
      throw new Error("trap exploded");
    };
    const throwsProxy = defineTool({
      name: "throws_proxy",
      execute: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point: a thrown value that is no Error, and hostile
        throw new Proxy({}, { get: trap, getPrototypeOf: trap });
      },
    });
    // JSON.stringify reads the output once; a later read by a $ref throws.
    let reads = 0;
    const flaky = defineTool({
      name: "flaky",
      execute: () =>
        Object.defineProperty({}, "x", {
          enumerable: true,
          get() {
            if (++reads > 1) throw new Error("read twice");
            return 1;
          },
        }),
    });
    const executor = createExecutor({ tools: [throwsProxy, flaky, plain] });
    const { results } = await executor.run([
      { id: "thrown", name: "throws_proxy" },
      { id: "flaky", name: "flaky" },
      { id: "reads", name: "plain", args: { x: { $ref: "flaky", path: "/x" } } },
    ]);
    expect(results[0]?.error).toMatchObject({
      type: "tool_error",
      message: "The tool threw a value that could not be read.",
    });
    expect(results[1]?.ok).toBe(true);
    expect(results[2]?.error).toMatchObject({
      type: "invalid_reference",
      message: 'Not run: the output of call "flaky" could not be read: read twice.',
    });
  });
});

describe("a call list with a bad entry", () => {
  it("is refused before any call of it runs, and leaves no run behind", async () => {
    let sent = 0;
    const sendEmail = defineTool({ name: "send_email", execute: () => ++sent });
    const executor = createExecutor({ tools: [sendEmail] });
    await expect(executor.run([{ name: "send_email" }, null as never])).rejects.toThrow(
      "executor.run: expected a tool call object ({ name, args?, id? }) at index 1, got null; no call was run",
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toBe(0);
    expect(executor.stats().runs).toBe(0);
  });
});

describe("a listener that adds a call with the same id as the call it hears of", () => {
  it("gets a duplicate: only the first call of that id runs, and an approval never hides", async () => {
    const ran: string[] = [];
    const sendEmail = defineTool({
      name: "send_email",
      needsApproval: true,
      execute: (args: { to?: string }) => ran.push(String(args.to)),
    });
    const executor = createExecutor({ tools: [sendEmail], approve: () => true });
    let added = false;
    const run = executor.start({
      onEvent: (event) => {
        if (event.type !== "call-add" || added) return;
        added = true;
        run.add({ id: "mail", name: "send_email", args: { to: "again" } });
      },
    });
    run.add({ id: "mail", name: "send_email", args: { to: "first" } });
    run.end();
    const { results } = await run.result;
    expect(ran).toEqual(["first"]);
    expect(results.map((result) => [result.id, result.ok, result.error?.type])).toEqual([
      ["mail", true, undefined],
      ["mail", false, "invalid_arguments"],
    ]);
  });
});
