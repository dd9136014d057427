import { describe, expect, it } from "vitest";
import { createExecutor, type Backend, type RunEvent, type ToolContext } from "../index.ts";
import { MemoryRunStore } from "../store/index.ts";
import { describeCall, flaky, refuse, wait } from "../worker/worker-tools.fixture.ts";

function context(signal = new AbortController().signal, progress: ToolContext["progress"] = () => {}): ToolContext {
  return {
    signal,
    abortSignal: signal,
    callId: "c1",
    toolCallId: "c1",
    runId: "r1",
    name: "describe_call",
    attempt: 1,
    progress,
  };
}

/** The promises every Backend keeps, run against each implementation. */
export function backendContract(name: string, open: () => Backend): void {
  describe(`Backend contract: ${name}`, () => {
    it("runs a tool with its arguments and context, and reports its progress", async () => {
      const backend = open();
      const updates: unknown[] = [];
      const output = (await backend.execute(
        describeCall,
        { city: "Oslo", list: [1, 2] },
        context(undefined, (update) => updates.push(update)),
      )) as Record<string, unknown>;
      expect(output).toMatchObject({
        args: { city: "Oslo", list: [1, 2] },
        callId: "c1",
        runId: "r1",
        attempt: 1,
        name: "describe_call",
      });
      expect(updates).toEqual([
        { progress: 1, total: 2, message: "half" },
        { progress: 2, total: 2 },
      ]);
      await backend.close();
    });

    it("fails with the tool's message, and what the scheduler reads from it (retryable, retryAfterMs)", async () => {
      const backend = open();
      // A backend may throw synchronously or reject: both are the call failing.
      const failure = await (async () => backend.execute(refuse, {}, context()))().catch((error: unknown) => error);
      expect(failure).toMatchObject({ message: "the upstream said no", retryable: true, retryAfterMs: 250 });
      await backend.close();
    });

    it("stops a call when its signal aborts", async () => {
      const backend = open();
      const controller = new AbortController();
      const running = (async () => backend.execute(wait, { ms: 60_000 }, context(controller.signal)))();
      setTimeout(() => controller.abort(new Error("stop now")), 20);
      await expect(running).rejects.toThrow("stop now");
      await backend.close();
    });

    it("runs under the executor as in process: $ref data flow, retries, events and history", async () => {
      const backend = open();
      const history = new MemoryRunStore();
      const events: RunEvent[] = [];
      const executor = createExecutor({
        tools: [describeCall, flaky],
        backend,
        history,
        onEvent: (event) => events.push(event),
      });
      const { runId, results } = await executor.run([
        { id: "first", name: "describe_call", args: { n: 1 } },
        { id: "second", name: "describe_call", args: { from: { $ref: "first", path: "/args/n" } } },
        { id: "retried", name: "flaky" },
      ]);
      expect(results.map((result) => result.ok)).toEqual([true, true, true]);
      expect(results[1]?.output).toMatchObject({ args: { from: 1 } });
      expect(results[2]).toMatchObject({ attempts: 2, output: "second time lucky" });
      expect(events.filter((event) => event.type === "call-progress")).toHaveLength(4);
      expect(events.filter((event) => event.type === "call-retry")).toHaveLength(1);
      await executor.flush();
      expect((await history.getRun(runId))?.calls).toHaveLength(3);
      await backend.close();
    });
  });
}
