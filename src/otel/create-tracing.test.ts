import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider, MetricReader, type HistogramMetricData } from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createExecutor, defineTool } from "../index.ts";
import { fakeTool } from "../testing/index.ts";
import { createTracing } from "./index.ts";

/** Reads metrics on demand, as a test wants them. */
class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});
beforeEach(() => {
  exporter.reset();
});

const search = fakeTool({
  name: "search",
  description: "Search the web",
  latencyMs: 30,
  output: (args) => [`result for ${String(args.query)}`],
});
const broken = defineTool({
  name: "broken",
  execute: () => {
    throw new Error("upstream is down");
  },
});

function spanNamed(spans: readonly ReadableSpan[], name: string, callId?: string): ReadableSpan {
  const span = spans.find(
    (candidate) =>
      candidate.name === name && (callId === undefined || candidate.attributes["gen_ai.tool.call.id"] === callId),
  );
  if (!span)
    throw new Error(`no span "${name}" ${callId ?? ""} among ${spans.map((candidate) => candidate.name).join(", ")}`);
  return span;
}

const startMs = (span: ReadableSpan): number => span.startTime[0] * 1e3 + span.startTime[1] / 1e6;
const endMs = (span: ReadableSpan): number => span.endTime[0] * 1e3 + span.endTime[1] / 1e6;

describe("createTracing", () => {
  it("makes a run span under the caller's span and an execute_tool span per call, by the GenAI conventions", async () => {
    const executor = createExecutor({ tools: [search, broken], instrumentation: createTracing({ tracerProvider }) });
    const caller = tracerProvider.getTracer("agent");
    await caller.startActiveSpan("agent turn", async (turn) => {
      await executor.run(
        [
          { id: "a", name: "search", args: { query: "volcanoes" } },
          { id: "b", name: "search", args: { query: { $ref: "a", path: "/0" } } },
          { id: "c", name: "broken" },
          { id: "d", name: "search", dependsOn: ["c"] },
        ],
        { runId: "run-1" },
      );
      turn.end();
    });
    const spans = exporter.getFinishedSpans();
    const turn = spanNamed(spans, "agent turn");
    const run = spanNamed(spans, "volley.run");
    expect(run.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
    expect(run.spanContext().traceId).toBe(turn.spanContext().traceId);
    expect(run.attributes).toMatchObject({
      "volley.run.id": "run-1",
      "volley.run.calls": 4,
      "volley.run.failed": 2,
      "volley.run.status": "completed",
    });

    const a = spanNamed(spans, "execute_tool search", "a");
    expect(a.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    expect(a.attributes).toMatchObject({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "search",
      "gen_ai.tool.call.id": "a",
      "gen_ai.tool.description": "Search the web",
      "gen_ai.tool.type": "function",
      "volley.attempts": 1,
      "volley.cached": false,
    });
    expect(a.attributes["gen_ai.tool.call.arguments"]).toBeUndefined();
    expect(a.attributes["gen_ai.tool.call.result"]).toBeUndefined();
    expect(spanNamed(spans, "execute_tool search", "b").attributes["volley.dependencies"]).toEqual(["a"]);

    const c = spanNamed(spans, "execute_tool broken", "c");
    expect(c.attributes["error.type"]).toBe("tool_error");
    expect(c.status).toEqual({ code: 2, message: "upstream is down" });
    const d = spanNamed(spans, "execute_tool search", "d");
    expect(d.attributes).toMatchObject({ "error.type": "dependency_failed", "volley.attempts": 0 });
  });

  it("runs each tool with its call's span active, so the tool's own spans nest beneath", async () => {
    const fetcher = defineTool({
      name: "fetch_page",
      execute: () =>
        tracerProvider.getTracer("http").startActiveSpan("GET /page", async (span) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          span.end();
          return "ok";
        }),
    });
    const executor = createExecutor({ tools: [fetcher], instrumentation: createTracing({ tracerProvider }) });
    await executor.run([{ id: "p", name: "fetch_page" }]);
    const spans = exporter.getFinishedSpans();
    expect(spanNamed(spans, "GET /page").parentSpanContext?.spanId).toBe(
      spanNamed(spans, "execute_tool fetch_page").spanContext().spanId,
    );
  });

  it("traces calls that run in worker threads like any other", async () => {
    const { createWorkerPool } = await import("../worker/worker-pool.ts");
    const { describeCall } = await import("../worker/worker-tools.fixture.ts");
    const workers = createWorkerPool({ maxThreads: 1 });
    const executor = createExecutor({
      tools: [describeCall],
      workers,
      instrumentation: createTracing({ tracerProvider }),
    });
    const { results } = await executor.run([{ id: "w", name: "describe_call" }]);
    await workers.close();
    expect(results[0]?.output).toMatchObject({ mainThread: false });
    const span = spanNamed(exporter.getFinishedSpans(), "execute_tool describe_call", "w");
    expect(span.parentSpanContext?.spanId).toBe(
      spanNamed(exporter.getFinishedSpans(), "volley.run").spanContext().spanId,
    );
  });

  it("shows calls that ran in parallel as overlapping siblings", async () => {
    const executor = createExecutor({ tools: [search], instrumentation: createTracing({ tracerProvider }) });
    await executor.run([
      { id: "x", name: "search", args: { query: "x" } },
      { id: "y", name: "search", args: { query: "y" } },
    ]);
    const spans = exporter.getFinishedSpans();
    const [x, y] = [spanNamed(spans, "execute_tool search", "x"), spanNamed(spans, "execute_tool search", "y")];
    expect(x.parentSpanContext?.spanId).toBe(y.parentSpanContext?.spanId);
    expect(startMs(x)).toBeLessThan(endMs(y));
    expect(startMs(y)).toBeLessThan(endMs(x));
  });

  it("records arguments and results, and OpenInference attributes, only when asked", async () => {
    const executor = createExecutor({
      tools: [search],
      instrumentation: createTracing({
        tracerProvider,
        recordArguments: true,
        recordResults: true,
        openInference: true,
      }),
    });
    await executor.run([{ id: "q", name: "search", args: { query: "tides" } }]);
    expect(spanNamed(exporter.getFinishedSpans(), "execute_tool search").attributes).toMatchObject({
      "gen_ai.tool.call.arguments": '{"query":"tides"}',
      "gen_ai.tool.call.result": '["result for tides"]',
      "openinference.span.kind": "TOOL",
      "tool.name": "search",
      "input.value": '{"query":"tides"}',
      "output.value": '["result for tides"]',
    });
  });

  it("records the gen_ai.execute_tool.duration histogram when a meter is registered", async () => {
    const reader = new CollectingReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const executor = createExecutor({
      tools: [search, broken],
      instrumentation: createTracing({ tracerProvider, meterProvider }),
    });
    await executor.run([
      { name: "search", args: { query: "a" } },
      { name: "search", args: { query: "b" } },
      { name: "broken" },
    ]);
    const { resourceMetrics } = await reader.collect();
    const histogram = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((metric) => metric.descriptor.name === "gen_ai.execute_tool.duration") as HistogramMetricData;
    expect(histogram.descriptor.unit).toBe("s");
    const byTool = Object.fromEntries(
      histogram.dataPoints.map((point) => [
        `${String(point.attributes["gen_ai.tool.name"])}/${String(point.attributes["error.type"] ?? "ok")}`,
        point.value.count,
      ]),
    );
    expect(byTool).toEqual({ "search/ok": 2, "broken/tool_error": 1 });
  });

  it("does no span work for calls when no SDK records spans", () => {
    const instrument = createTracing().runStart({ runId: "r" });
    expect(instrument !== undefined && "attempt" in instrument).toBe(false);
    expect(trace.getTracerProvider().getTracer("any").startSpan("x").isRecording()).toBe(false);
  });

  it("checks its options", () => {
    expect(() => createTracing({ recordArguments: "yes" as never })).toThrow(
      'createTracing: expected `recordArguments` to be a boolean, got "yes" (string)',
    );
  });
});
