import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createExecutor, defineTool, type RunResult, type ToolCall } from "../src/index.ts";

/**
 * What an adversary (or a careless tool, or a confused model) can throw at a run, drawn at
 * random and checked against Volley's promises: exactly one result per call, in order; `run()`
 * never rejects and never hangs; no slot is leaked (the next run goes through under a limit of
 * one); no prototype is polluted.
 */

const explode = (): never => {
  throw new Error("trap exploded");
};

/** What a tool does with its call. Each is hostile in its own way, or plain. */
const BEHAVIOURS = {
  plain: () => ({ x: 1 }),
  async: async () => ({ x: 2 }),
  throws: () => {
    throw new Error("tool failed");
  },
  "throws a Proxy": () => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- a thrown value that is no Error, and hostile
    throw new Proxy({}, { get: explode, getPrototypeOf: explode, ownKeys: explode });
  },
  "then throws": () => ({ then: explode }),
  "then getter throws": () => Object.defineProperty({}, "then", { get: explode }),
  "answers twice": () => ({
    then(resolve: (value: unknown) => void, reject: (error: unknown) => void) {
      resolve({ x: 3 });
      reject(new Error("and fails too"));
      resolve({ x: 4 });
    },
  }),
  "Proxy output": () =>
    new Proxy({ x: 5 }, { get: explode, getPrototypeOf: explode, ownKeys: explode, getOwnPropertyDescriptor: explode }),
  "deep output": () => JSON.parse(`${'{"x":'.repeat(6000)}1${"}".repeat(6000)}`) as unknown,
  "not JSON": () => ({ x: 10n }),
  "polluting output": () => JSON.parse('{"__proto__":{"polluted":"by output"},"x":6}') as unknown,
  "hangs until aborted": (_args: unknown, { signal }: { signal: AbortSignal }) =>
    new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true })),
  // Ignores its signal, but does end: a slot it holds is freed then.
  "ignores abort": () => new Promise((resolve) => setTimeout(resolve, 40, { x: 7 })),
} as const;
type Behaviour = keyof typeof BEHAVIOURS;

const tools = Object.entries(BEHAVIOURS).map(([name, execute]) =>
  defineTool({ name: name.replaceAll(" ", "_"), timeoutMs: 25, execute: execute }),
);
const toolName = (behaviour: Behaviour): string => behaviour.replaceAll(" ", "_");

/** Arguments as a model or a caller might hand them over. */
type ArgumentsKind =
  | "object"
  | "text"
  | "deep text"
  | "deep object"
  | "polluting text"
  | "constructor prototype"
  | "self-containing"
  | "reference";

interface CallDraw {
  behaviour: Behaviour;
  args: ArgumentsKind;
  /** For a reference: which earlier call (modulo the index), and where in its output. */
  refersTo: number;
  /** An explicit id, shared with another call now and then. */
  id: string | undefined;
  /** A listener adds another call, with this call's id (a duplicate) or a new one, as it hears of this one. */
  reentrant: "none" | "same id" | "new id";
}

const callDraw: fc.Arbitrary<CallDraw> = fc.record({
  behaviour: fc.constantFrom(...(Object.keys(BEHAVIOURS) as Behaviour[])),
  args: fc.constantFrom<ArgumentsKind>(
    "object",
    "object",
    "text",
    "deep text",
    "deep object",
    "polluting text",
    "constructor prototype",
    "self-containing",
    "reference",
    "reference",
  ),
  refersTo: fc.nat(),
  id: fc.option(fc.constantFrom("a", "b", "c", "d", "e", "f"), { nil: undefined }),
  reentrant: fc.constantFrom("none", "none", "none", "same id", "new id"),
});

const scenario = fc.record({
  calls: fc.array(callDraw, { minLength: 1, maxLength: 16 }),
  live: fc.boolean(),
  cancelAfterMs: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
  runTimeoutMs: fc.option(fc.integer({ min: 5, max: 60 }), { nil: undefined }),
  maxConcurrency: fc.integer({ min: 1, max: 4 }),
});

function argumentsOf(draw: CallDraw, index: number, ids: readonly string[]): NonNullable<ToolCall["args"]> {
  switch (draw.args) {
    case "object":
      return { n: index };
    case "text":
      return `{"n":${index}}`;
    case "deep text":
      return `${'{"a":'.repeat(5000)}1${"}".repeat(5000)}`;
    case "deep object":
      return JSON.parse(`${'{"a":'.repeat(5000)}1${"}".repeat(5000)}`) as Record<string, unknown>;
    case "polluting text":
      return '{"__proto__":{"polluted":"by arguments"}}';
    case "constructor prototype":
      return { constructor: { prototype: { polluted: "by constructor" } } };
    case "self-containing": {
      const looped: Record<string, unknown> = { n: index };
      looped.self = looped;
      return looped;
    }
    case "reference":
      return ids.length === 0
        ? { n: index }
        : { value: { $ref: ids[draw.refersTo % ids.length] as string, path: draw.refersTo % 2 === 0 ? "/x" : "" } };
  }
}

/** Settles with the run's result, or says it hung. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe("a run under hostile tools, arguments and listeners", () => {
  it("answers every call exactly once, never rejects or hangs, leaks no slot and pollutes no prototype", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ calls, live, cancelAfterMs, runTimeoutMs, maxConcurrency }) => {
        const executor = createExecutor({ tools, maxConcurrency });
        const ids: string[] = [];
        const calls_: ToolCall[] = calls.map((draw, index) => {
          const call: ToolCall = {
            ...(draw.id === undefined ? {} : { id: draw.id }),
            name: toolName(draw.behaviour),
            args: argumentsOf(draw, index, ids),
          };
          ids.push(draw.id ?? `call_${index}`);
          return call;
        });
        let result: RunResult;
        let added = calls_.length;
        if (!live) {
          const controller = new AbortController();
          if (cancelAfterMs !== undefined) setTimeout(() => controller.abort("fuzz cancel"), cancelAfterMs);
          result = await within(
            executor.run(calls_, {
              signal: controller.signal,
              ...(runTimeoutMs === undefined ? {} : { timeoutMs: runTimeoutMs }),
            }),
            5000,
            "run()",
          );
        } else {
          const reentrantFor = new Map(calls.map((draw, index) => [index, draw.reentrant]));
          let heard = 0;
          const run = executor.start({
            ...(runTimeoutMs === undefined ? {} : { timeoutMs: runTimeoutMs }),
            onEvent: (event) => {
              if (event.type !== "call-add" || heard >= calls.length) return;
              const kind = reentrantFor.get(heard++);
              if (kind === "same id") run.add({ id: event.callId, name: "plain" });
              else if (kind === "new id") run.add({ name: "async" });
              else return;
              added++;
            },
          });
          if (cancelAfterMs !== undefined) setTimeout(() => run.cancel("fuzz cancel"), cancelAfterMs);
          for (const call of calls_) {
            try {
              run.add(call);
            } catch (error) {
              // Only a run already cancelled may refuse a call.
              expect((error as { code?: string }).code).toBe("run_closed");
              added--;
            }
          }
          run.end();
          result = await within(run.result, 5000, "a live run");
        }
        expect(result.results).toHaveLength(added);
        for (const item of result.results) {
          expect(typeof item.id).toBe("string");
          expect(item.ok ? "output" in item : typeof item.error?.message).toBe(item.ok ? true : "string");
        }
        if (!live)
          expect(result.results.map((item) => item.id)).toEqual(
            calls_.map((call, index) => call.id ?? `call_${index}`),
          );
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        // Tools that ignored their signal have ended by now; every slot they held is free again.
        await new Promise((resolve) => setTimeout(resolve, 60));
        const probe = createExecutor({ tools, maxConcurrency: 1 });
        expect((await within(probe.run([{ name: "plain" }]), 2000, "a probe run")).results[0]?.ok).toBe(true);
        const after = await within(
          executor.run(Array.from({ length: maxConcurrency + 1 }, () => ({ name: "plain" }))),
          2000,
          "the next run on the same executor",
        );
        expect(after.results.every((item) => item.ok)).toBe(true);
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
