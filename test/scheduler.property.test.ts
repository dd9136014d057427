import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createExecutor,
  defineTool,
  ToolError,
  type ResourceClaim,
  type RunEvent,
  type RunResult,
  type Tool,
  type ToolCall,
} from "../src/index.ts";
import { useFakeTime } from "../src/executor/executor.fixture.ts";

/**
 * Random call graphs and random tool behaviour, checked against the scheduler's promises:
 * exactly one result per call, in call order; no limit ever exceeded (counted by the tools
 * themselves, until their work really settles); no call starting before its dependencies end.
 */

type Behaviour = "fast" | "slow" | "throw" | "throw-retryable" | "hang-ignoring-abort" | "hang-until-aborted";

interface ToolSpec {
  /** Needs nothing decided call by call (no sharing, cache or resources): its independent calls wait in line as ranges. */
  plain: boolean;
  concurrency: number;
  rateLimit: { limit: number; intervalMs: number } | undefined;
  idempotent: boolean;
  cached: boolean;
  attempts: number;
  timeoutMs: number;
}

interface CallSpec {
  tool: number;
  behaviour: Behaviour;
  latencyMs: number;
  dependsOn: number[];
  viaReference: boolean;
  resources: { key: string; mode: "read" | "write" }[];
  priority: number;
  /** Repeat the previous call exactly (other id), so that sharing and the cache get exercised. */
  repeatsPrevious: boolean;
}

const toolSpec: fc.Arbitrary<ToolSpec> = fc.record({
  plain: fc.boolean(),
  concurrency: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 3 })),
  rateLimit: fc.option(
    fc.record({ limit: fc.integer({ min: 1, max: 3 }), intervalMs: fc.integer({ min: 5, max: 50 }) }),
    { nil: undefined },
  ),
  idempotent: fc.boolean(),
  cached: fc.boolean(),
  attempts: fc.integer({ min: 1, max: 3 }),
  timeoutMs: fc.integer({ min: 30, max: 200 }),
});

const callSpec = (tools: number, index: number, calls: number): fc.Arbitrary<CallSpec> =>
  fc.record({
    tool: fc.integer({ min: 0, max: tools - 1 }),
    behaviour: fc.constantFrom<Behaviour>(
      "fast",
      "fast",
      "fast",
      "fast",
      "slow",
      "slow",
      "throw",
      "throw-retryable",
      "hang-ignoring-abort",
      "hang-until-aborted",
    ),
    latencyMs: fc.integer({ min: 0, max: 120 }),
    // Mostly earlier calls; now and then a later one or itself, which makes forward references and cycles.
    dependsOn: fc.uniqueArray(
      fc.oneof(
        { weight: 15, arbitrary: fc.integer({ min: 0, max: Math.max(0, index - 1) }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: calls - 1 }) },
      ),
      { maxLength: index === 0 ? 1 : 2 },
    ),
    viaReference: fc.boolean(),
    resources: fc.uniqueArray(
      fc.record({
        key: fc.constantFrom("db", "file", "cache"),
        mode: fc.constantFrom<"read" | "write">("read", "write"),
      }),
      { maxLength: 2, selector: (claim) => claim.key },
    ),
    priority: fc.constantFrom(0, 0, 0, 1, 5),
    repeatsPrevious: fc.integer({ min: 0, max: 4 }).map((draw) => draw === 0 && index > 0),
  });

/** A call that repeats the previous one takes its whole spec: same tool, arguments and dependencies. */
function resolveRepeats(specs: CallSpec[]): CallSpec[] {
  const resolved: CallSpec[] = [];
  for (const spec of specs)
    resolved.push(spec.repeatsPrevious ? { ...(resolved.at(-1) as CallSpec), repeatsPrevious: true } : spec);
  return resolved;
}

/** A value in about one scenario out of six, undefined otherwise. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

const scenario = fc
  .record({ tools: fc.array(toolSpec, { minLength: 1, maxLength: 4 }), callCount: fc.integer({ min: 1, max: 24 }) })
  .chain(({ tools, callCount }) =>
    fc.record({
      tools: fc.constant(tools),
      calls: fc
        .tuple(...Array.from({ length: callCount }, (_, index) => callSpec(tools.length, index, callCount)))
        .map(resolveRepeats),
      maxConcurrency: fc.integer({ min: 1, max: 5 }),
      parallel: fc.boolean(),
      // How the calls arrive, and what may cut the run short.
      streamed: fc.boolean(),
      // Without a listener, calls that start from a range run without state until they need it.
      listened: fc.boolean(),
      cancelAfterMs: sometimes(fc.integer({ min: 0, max: 300 })),
      runTimeoutMs: sometimes(fc.integer({ min: 1, max: 300 })),
    }),
  );

/** What the tools saw, counted from inside them. */
class Observed {
  active = 0;
  maxActive = 0;
  readonly activeByTool = new Map<string, number>();
  readonly startsByTool = new Map<string, number[]>();
  readonly holders = new Map<string, { readers: number; writers: number }>();
  readonly violations: string[] = [];
  /** When each call's tool first began and last finished, by call id, in one sequence. */
  readonly began = new Map<string, number>();
  readonly finished = new Map<string, number>();
  #sequence = 0;

  begin(callId: string, tool: string, claims: readonly ResourceClaim[], limit: number, now: number): void {
    if (!this.began.has(callId)) this.began.set(callId, this.#sequence++);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const active = (this.activeByTool.get(tool) ?? 0) + 1;
    this.activeByTool.set(tool, active);
    if (active > limit) this.violations.push(`${tool} ran ${active} at once, limit ${limit}`);
    this.startsByTool.set(tool, [...(this.startsByTool.get(tool) ?? []), now]);
    for (const claim of claims) {
      const holder = this.holders.get(claim.key) ?? { readers: 0, writers: 0 };
      if (claim.mode === "write" ? holder.readers + holder.writers > 0 : holder.writers > 0) {
        this.violations.push(
          `${claim.mode} of ${claim.key} overlapped ${holder.writers} writers and ${holder.readers} readers`,
        );
      }
      if (claim.mode === "write") holder.writers++;
      else holder.readers++;
      this.holders.set(claim.key, holder);
    }
  }

  end(callId: string, tool: string, claims: readonly ResourceClaim[]): void {
    this.finished.set(callId, this.#sequence++);
    this.active--;
    this.activeByTool.set(tool, (this.activeByTool.get(tool) ?? 1) - 1);
    for (const claim of claims) {
      const holder = this.holders.get(claim.key) as { readers: number; writers: number };
      if (claim.mode === "write") holder.writers--;
      else holder.readers--;
    }
  }
}

function buildTools(specs: readonly ToolSpec[], observed: Observed): Tool[] {
  return specs.map((spec, index) => {
    const name = `tool${index}`;
    return defineTool({
      name,
      concurrency: spec.concurrency,
      ...(spec.rateLimit ? { rateLimit: spec.rateLimit } : {}),
      idempotent: spec.idempotent && !spec.plain,
      ...(spec.cached && !spec.plain ? { cache: { ttlMs: 50 } } : {}),
      retry: { attempts: spec.attempts, initialDelayMs: 5, maxDelayMs: 20 },
      timeoutMs: spec.timeoutMs,
      ...(spec.plain ? {} : { resources: (args: Record<string, unknown>) => args.resources as ResourceClaim[] }),
      execute: (args: Record<string, unknown>, context) => {
        const claims = spec.plain ? [] : (args.resources as ResourceClaim[]);
        const behaviour = args.behaviour as Behaviour;
        const latencyMs = args.latencyMs as number;
        observed.begin(context.callId, name, claims, spec.concurrency, Date.now());
        const finish = (): void => observed.end(context.callId, name, claims);
        return new Promise((resolve, reject) => {
          const succeed = (value: unknown): void => {
            finish();
            resolve(value);
          };
          const fail = (error: Error): void => {
            finish();
            reject(error);
          };
          switch (behaviour) {
            case "fast":
            case "slow":
              setTimeout(() => succeed({ call: context.callId }), behaviour === "fast" ? latencyMs % 5 : latencyMs);
              break;
            case "throw":
            case "throw-retryable":
              setTimeout(
                () => fail(new ToolError("broken", { retryable: behaviour === "throw-retryable" })),
                latencyMs % 10,
              );
              break;
            case "hang-ignoring-abort":
              setTimeout(() => succeed("late"), 400 + latencyMs);
              break;
            case "hang-until-aborted":
              context.signal.addEventListener("abort", () => fail(context.signal.reason as Error), { once: true });
              break;
          }
        });
      },
    });
  });
}

function toCalls(specs: readonly CallSpec[]): ToolCall[] {
  return specs.map((spec, index) => {
    const refs = spec.viaReference
      ? Object.fromEntries(spec.dependsOn.map((dependency) => [`from${dependency}`, { $ref: `c${dependency}` }]))
      : {};
    return {
      id: `c${index}`,
      name: `tool${spec.tool}`,
      // Identical arguments now and then, so that sharing and the cache get exercised.
      args: { behaviour: spec.behaviour, latencyMs: spec.latencyMs, resources: spec.resources, ...refs },
      ...(spec.viaReference ? {} : { dependsOn: spec.dependsOn.map((dependency) => `c${dependency}`) }),
      priority: spec.priority,
    };
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("scheduler invariants over random graphs and tool behaviour", () => {
  it("gives exactly one result per call, in order, within every limit, after its dependencies", async () => {
    await fc.assert(
      fc.asyncProperty(
        scenario,
        async ({
          tools: toolSpecs,
          calls: callSpecs,
          maxConcurrency,
          parallel,
          streamed,
          listened,
          cancelAfterMs,
          runTimeoutMs,
        }) => {
          const clock = useFakeTime();
          const observed = new Observed();
          const events: RunEvent[] = [];
          const onEvent = listened ? { onEvent: (event: RunEvent) => events.push(event) } : {};
          const executor = createExecutor({
            tools: buildTools(toolSpecs, observed),
            maxConcurrency,
            parallel,
            clock,
            ...onEvent,
          });
          const calls = toCalls(callSpecs);
          const options = runTimeoutMs === undefined ? {} : { timeoutMs: runTimeoutMs };
          let running: Promise<RunResult>;
          let cancel: () => void;
          if (streamed) {
            // As a model streams: one call at a time, a little apart.
            const live = executor.start(options);
            cancel = () => live.cancel("stopped by the test");
            for (const call of calls) {
              try {
                live.add(call);
              } catch {
                break; // cancelled or timed out while streaming: later calls are never added
              }
              await vi.advanceTimersByTimeAsync(3);
            }
            live.end();
            running = live.result;
          } else {
            const controller = new AbortController();
            cancel = () => controller.abort("stopped by the test");
            running = executor.run(calls, { ...options, signal: controller.signal });
          }
          if (cancelAfterMs !== undefined) setTimeout(cancel, cancelAfterMs);
          await vi.runAllTimersAsync();
          const { results, stats, status } = await running;
          vi.useRealTimers();
          const added = results.length;
          if (!streamed || status === "completed") expect(added).toBe(calls.length);

          // Exactly one result per call added, in call order, and exactly one call-end event each.
          const addedIds = calls.slice(0, added).map((call) => call.id);
          expect(results.map((result) => result.id)).toEqual(addedIds);
          if (listened) {
            const ends = events.filter(
              (event): event is Extract<RunEvent, { type: "call-end" }> => event.type === "call-end",
            );
            expect(ends.map((event) => event.callId).sort()).toEqual([...addedIds].sort());
          }
          // A run is cut short only by what was asked of it, and a complete one cancelled nothing.
          if (status === "cancelled") expect(cancelAfterMs).toBeDefined();
          if (status === "timed_out") expect(runTimeoutMs).toBeDefined();
          if (status === "completed")
            expect(results.filter((result) => result.error?.type === "cancelled")).toEqual([]);
          results.forEach((result, index) => {
            expect(result.ok).toBe(result.error === undefined);
            if (!result.ok) expect(result.error?.message.length).toBeGreaterThan(0);
            expect(result.durationMs).toBe(result.endedAt - result.startedAt);
            expect(result.queuedMs).toBeGreaterThanOrEqual(0);
            // The tool answers with the id its context gave it: the call's own, unless it shared another's run.
            const spec = callSpecs[index] as CallSpec;
            if (
              result.ok &&
              (spec.behaviour === "fast" || spec.behaviour === "slow") &&
              (toolSpecs[spec.tool] as ToolSpec).plain
            ) {
              expect(result.output).toEqual({ call: result.id });
            }
          });
          expect(stats.calls).toBe(added);
          expect(stats.succeeded).toBe(results.filter((result) => result.ok).length);

          // No limit ever exceeded, counted by the tools themselves.
          expect(observed.violations).toEqual([]);
          expect(observed.maxActive).toBeLessThanOrEqual(parallel ? maxConcurrency : 1);
          expect(stats.maxInFlight).toBeLessThanOrEqual(parallel ? maxConcurrency : 1);
          toolSpecs.forEach((spec, index) => {
            if (!spec.rateLimit) return;
            const starts = observed.startsByTool.get(`tool${index}`) ?? [];
            for (const start of starts) {
              const inWindow = starts.filter(
                (other) => other >= start && other < start + (spec.rateLimit as { intervalMs: number }).intervalMs,
              );
              expect(inWindow.length).toBeLessThanOrEqual((spec.rateLimit as { limit: number }).limit);
            }
          });

          // No tool begins a call before the tools of its dependencies have finished, and succeeded
          // (seen from the tools' side, listened to or not); failures spread to dependents.
          callSpecs.slice(0, added).forEach((spec, index) => {
            const began = observed.began.get(`c${index}`);
            for (const dependency of spec.dependsOn) {
              if (dependency >= added) {
                // Referred to a call that was never added: it must not have run.
                expect(results[index]?.ok).toBe(false);
                expect(began).toBeUndefined();
                continue;
              }
              const finished = observed.finished.get(`c${dependency}`);
              if (began !== undefined) {
                if (finished !== undefined) expect(finished).toBeLessThan(began);
                expect(results[dependency]?.ok).toBe(true);
              }
              if (!results[dependency]?.ok && dependency !== index) expect(results[index]?.ok).toBe(false);
            }
          });
          if (!listened) return;

          // No call starts before each of its dependencies has ended, as the events tell it.
          const position = new Map<string, number>();
          events.forEach((event, index) => {
            if (event.type === "call-end") position.set(`end:${event.callId}`, index);
            if (event.type === "call-start" && !position.has(`start:${event.callId}`))
              position.set(`start:${event.callId}`, index);
          });
          // One at a time means in input order: a call starts only when no earlier call that could
          // have started is still waiting. (A rate limit may hold an earlier call back, and a call
          // that shares an identical call's execution never starts: such calls are not checked.)
          if (!parallel) {
            const before = (key: string, at: number): boolean => (position.get(key) ?? Infinity) < at;
            callSpecs.slice(0, added).forEach((_, index) => {
              const startedAt = position.get(`start:c${index}`);
              if (startedAt === undefined) return;
              for (let earlier = 0; earlier < index; earlier++) {
                const spec = callSpecs[earlier] as CallSpec;
                const tool = toolSpecs[spec.tool] as ToolSpec;
                if (before(`start:c${earlier}`, startedAt) || before(`end:c${earlier}`, startedAt)) continue;
                if (tool.rateLimit !== undefined || (!tool.plain && (tool.idempotent || tool.cached))) continue;
                const ready = spec.dependsOn.every(
                  (dependency) => dependency < added && before(`end:c${dependency}`, startedAt),
                );
                expect(ready, `c${earlier} was ready and waiting when c${index} started`).toBe(false);
              }
            });
          }
          callSpecs.slice(0, added).forEach((spec, index) => {
            const startedAt = position.get(`start:c${index}`);
            if (startedAt === undefined) return;
            for (const dependency of spec.dependsOn) {
              if (dependency < added) expect(position.get(`end:c${dependency}`)).toBeLessThan(startedAt);
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
