import pLimit from "p-limit";
import PQueue from "p-queue";
import { createExecutor, defineTool, type RunResult, type ToolResult } from "volley";
import { median } from "./random.ts";

export interface SingleCallFigures {
  /** Median µs to await the tool's execute directly. */
  directMicros: number;
  /** Median µs for `executor.run([call])`: the whole run, result and stats included. */
  volleyMicros: number;
}

/** What one call costs through Volley, against calling the tool yourself. */
export async function measureSingleCall(iterations: number, rounds: number): Promise<SingleCallFigures> {
  const executor = createExecutor({ tools: [defineTool({ name: "noop", execute: noop })] });
  const calls = [{ id: "only", name: "noop" }];
  const direct: number[] = [];
  const volley: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let started = performance.now();
    for (let i = 0; i < iterations; i++) await noop();
    direct.push(((performance.now() - started) * 1000) / iterations);
    started = performance.now();
    for (let i = 0; i < iterations; i++) await executor.run(calls);
    volley.push(((performance.now() - started) * 1000) / iterations);
  }
  return { directMicros: median(direct.slice(1)), volleyMicros: median(volley.slice(1)) };
}

export interface OverheadFigures {
  calls: number;
  limit: number;
  /** Median µs per call over the measured rounds. */
  microsPerCall: {
    promiseAll: number;
    recordFloor: number;
    /** The record floor on given ids: duplicates refused, each record carrying its id. */
    recordFloorWithIds: number;
    pLimit: number;
    /** p-limit on calls whose arguments come as JSON text: each parsed, as its user must. */
    pLimitParsing: number;
    pQueue: number;
    volley: number;
  };
  /**
   * Volley on calls shaped as users send them (median µs per call, and ÷ `Promise.all`):
   * `{ id, name, args }` objects, args as JSON text (as a model writes them), and
   * `{ id, name, args }` with an `onEvent` listener (as the agent and `aiSdkTools` attach one).
   * `overPLimit` is against p-limit doing the same work: for JSON text, parsing it.
   */
  shapes: Record<CallShape, { micros: number; overPromiseAll: number; overPLimit: number }>;
  /** Volley's per-call time divided by each baseline's. */
  volleyRatio: { promiseAll: number; recordFloor: number; pLimit: number; pQueue: number };
  /** The record floor's per-call time divided by `Promise.all`'s: what keeping the records costs before any scheduling. */
  recordFloorOverPromiseAll: number;
  /** The same on given ids: the least `{ id, name, args }` can cost over `Promise.all`, before reading any arguments. */
  recordFloorWithIdsOverPromiseAll: number;
  rounds: number;
  /** Rounds run before the measured ones, for at least the warm-up time. */
  warmupRounds: number;
}

const clockOrigin = performance.timeOrigin;

/**
 * The least a limited runner can cost while keeping what the overhead target asks of Volley:
 * a timed `ToolResult` per call. `limit` slots are refilled as each call ends, and one clock
 * read both ends a call and starts the next, as Volley does; there are no ids to check, no
 * arguments, graph, validation, statistics or events. What Volley costs above this is its
 * scheduling; what this costs above `Promise.all` is the records themselves. Given `ids`, each
 * record carries its call's id, and the ids are first checked for duplicates, as every runner
 * that answers calls by id must: the floor for calls as models send them.
 */
function runWithRecordFloor(calls: number, limit: number, ids?: readonly string[]): Promise<ToolResult[]> {
  // Given ids must be told apart: the cheapest check in plain JavaScript is a Set.
  if (ids !== undefined) {
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) throw new Error(`duplicate id ${id}`);
      seen.add(id);
    }
  }
  return new Promise((resolve) => {
    const results = new Array<ToolResult>(calls);
    const addedAt = clockOrigin + performance.now();
    let next = 0;
    let ended = 0;
    const start = (startedAt: number): void => {
      const index = next++;
      void noop().then((output) => {
        const endedAt = clockOrigin + performance.now();
        const durationMs = endedAt - startedAt;
        results[index] = {
          id: ids?.[index] ?? `call_${index}`,
          name: "noop",
          ok: true,
          output,
          attempts: 1,
          startedAt,
          endedAt,
          durationMs,
          queuedMs: startedAt - addedAt,
          cached: false,
        };
        if (++ended === calls) resolve(results);
        else if (next < calls) start(endedAt);
      });
    };
    for (let slot = 0; slot < limit && slot < calls; slot++) start(clockOrigin + performance.now());
  });
}

export type CallShape = "idNameArgs" | "argsAsJsonText" | "withListener";

/** Calls as a model's tool calls arrive: an id the provider gave, a name, arguments. */
function shapedCalls(
  calls: number,
  shape: CallShape,
): { id: string; name: string; args: Record<string, unknown> | string }[] {
  return Array.from({ length: calls }, (_, index) => ({
    id: `toolu_${index.toString(36).padStart(8, "0")}`,
    name: "noop",
    args: shape === "argsAsJsonText" ? `{"query":"item ${index}","limit":5}` : { query: `item ${index}`, limit: 5 },
  }));
}

/** An already-settled promise: a tool that does nothing, asynchronously, as tools are. */
const noop = (_args?: unknown): Promise<undefined> => Promise.resolve(undefined);

/**
 * Per-call overhead of running no-op calls under a limit of 16: Volley (which keeps a timed
 * record and status per call) against Promise.all (no limit: the floor), the record floor (the
 * same records, no scheduling), p-limit and p-queue.
 * Rounds are interleaved so that drift on a shared machine hits every contender alike, and a
 * minor collection before each sample clears the previous contender's garbage. A full
 * collection is not forced: V8 sizes its heap differently right after one, which no real
 * program does before each batch.
 * Warm-up lasts `warmupMs` (whole rounds, at least two) rather than a number of rounds. Until
 * V8 has run its first full collections, every page it promotes records into comes fresh from
 * the operating system: in a process that young, the same code measured up to four times
 * slower for the contenders that keep records (Volley and the record floor), from one
 * process to the next. A long-running agent is past that point, and so is this measure.
 */
export async function measureOverhead(calls: number, rounds: number, warmupMs: number): Promise<OverheadFigures> {
  const limit = 16;
  const executor = createExecutor({ tools: [defineTool({ name: "noop", execute: noop })], maxConcurrency: limit });
  const volleyCalls = Array.from({ length: calls }, () => ({ name: "noop" }));
  const idNameArgs = shapedCalls(calls, "idNameArgs");
  const argsAsJsonText = shapedCalls(calls, "argsAsJsonText");
  let heard = 0;
  const listened = createExecutor({
    tools: [defineTool({ name: "noop", execute: noop })],
    maxConcurrency: limit,
    onEvent: () => void heard++,
  });
  const givenIds = idNameArgs.map((call) => call.id);
  const argumentTexts = argsAsJsonText.map((call) => call.args as string);
  const contenders = {
    promiseAll: () => Promise.all(Array.from({ length: calls }, () => noop())),
    recordFloor: () => runWithRecordFloor(calls, limit),
    recordFloorWithIds: () => runWithRecordFloor(calls, limit, givenIds),
    pLimit: () => {
      const limited = pLimit(limit);
      return Promise.all(Array.from({ length: calls }, () => limited(noop)));
    },
    pLimitParsing: () => {
      const limited = pLimit(limit);
      return Promise.all(argumentTexts.map((text) => limited(() => noop(JSON.parse(text)))));
    },
    pQueue: () => {
      const queue = new PQueue({ concurrency: limit });
      return Promise.all(Array.from({ length: calls }, () => queue.add(noop)));
    },
    volley: () => executor.run(volleyCalls),
    idNameArgs: () => executor.run(idNameArgs),
    argsAsJsonText: () => executor.run(argsAsJsonText),
    withListener: () => listened.run(idNameArgs),
  };
  const samples: Record<keyof typeof contenders, number[]> = {
    promiseAll: [],
    recordFloor: [],
    recordFloorWithIds: [],
    pLimit: [],
    pLimitParsing: [],
    pQueue: [],
    volley: [],
    idNameArgs: [],
    argsAsJsonText: [],
    withListener: [],
  };
  const entries = Object.entries(contenders) as [keyof typeof contenders, () => Promise<unknown>][];
  const runRound = async (round: number, measured: boolean): Promise<void> => {
    // Rotate who goes first, so that each contender follows each other one equally often.
    const order = [...entries.slice(round % entries.length), ...entries.slice(0, round % entries.length)];
    for (const [name, run] of order) {
      // Clear the young generation, so that no contender pays for the last one's garbage.
      globalThis.gc?.({ type: "minor" });
      const started = performance.now();
      const outcome = await run();
      const elapsed = performance.now() - started;
      // Checked after the clock stops: the check is the benchmark's work, not Volley's.
      if (name === "volley" || name === "idNameArgs" || name === "argsAsJsonText" || name === "withListener")
        assertAllAnswered(outcome as RunResult, calls);
      if (measured) samples[name].push((elapsed * 1000) / calls);
    }
  };
  let round = 0;
  for (const warmUntil = performance.now() + warmupMs; round < 2 || performance.now() < warmUntil; round++)
    await runRound(round, false);
  const warmupRounds = round;
  for (let measured = 0; measured < rounds; measured++) await runRound(round++, true);
  const micros = {
    promiseAll: median(samples.promiseAll),
    recordFloor: median(samples.recordFloor),
    recordFloorWithIds: median(samples.recordFloorWithIds),
    pLimit: median(samples.pLimit),
    pLimitParsing: median(samples.pLimitParsing),
    pQueue: median(samples.pQueue),
    volley: median(samples.volley),
  };
  const shaped = (name: CallShape) => {
    const shapeMicros = median(samples[name]);
    return {
      micros: shapeMicros,
      overPromiseAll: shapeMicros / micros.promiseAll,
      overPLimit: shapeMicros / (name === "argsAsJsonText" ? micros.pLimitParsing : micros.pLimit),
    };
  };
  return {
    calls,
    limit,
    microsPerCall: micros,
    volleyRatio: {
      promiseAll: micros.volley / micros.promiseAll,
      recordFloor: micros.volley / micros.recordFloor,
      pLimit: micros.volley / micros.pLimit,
      pQueue: micros.volley / micros.pQueue,
    },
    recordFloorOverPromiseAll: micros.recordFloor / micros.promiseAll,
    recordFloorWithIdsOverPromiseAll: micros.recordFloorWithIds / micros.promiseAll,
    shapes: {
      idNameArgs: shaped("idNameArgs"),
      argsAsJsonText: shaped("argsAsJsonText"),
      withListener: shaped("withListener"),
    },
    rounds,
    warmupRounds,
  };
}

function assertAllAnswered({ results }: RunResult, calls: number): void {
  if (results.length !== calls || !results.every((result) => result.ok))
    throw new Error("Volley lost or failed a call");
}
