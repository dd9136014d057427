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
import { createAgent, type ChatModel } from "../agent/index.ts";
import { createExecutor, defineTool } from "../index.ts";
import { MemoryRunStore } from "../store/index.ts";
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

describe("createTracing for an agent", () => {
  /** Two steps: two searches, then the answer; usage and the answering model as a provider gives them. */
  const model: ChatModel = {
    model: "mock-model",
    async *stream({ messages }) {
      if (messages.at(-1)?.role === "user") {
        yield { type: "tool-call", id: "s1", name: "search", arguments: '{"query":"oslo"}' };
        yield { type: "tool-call", id: "s2", name: "search", arguments: '{"query":"rome"}' };
        yield {
          type: "finish",
          reason: "tool_calls",
          usage: { inputTokens: 30, outputTokens: 12 },
          model: "mock-model-1",
        };
      } else {
        yield { type: "text-delta", text: "Both found." };
        yield { type: "finish", reason: "stop", usage: { inputTokens: 50, outputTokens: 3 }, model: "mock-model-1" };
      }
    },
  };

  it("makes one trace per turn: invoke_agent, a chat span per model call, the step's run and its tools beneath", async () => {
    const tracing = createTracing({ tracerProvider, agentName: "travel" });
    const executor = createExecutor({ tools: [search], instrumentation: tracing });
    const agent = createAgent({ model, executor, store: new MemoryRunStore(), instrumentation: tracing });
    await agent.run("Find Oslo and Rome", { conversationId: "trip" });
    const spans = exporter.getFinishedSpans();
    const turn = spanNamed(spans, "invoke_agent travel");
    expect(turn.parentSpanContext).toBeUndefined();
    expect(turn.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "travel",
      "gen_ai.conversation.id": "trip",
      "gen_ai.request.model": "mock-model",
      "gen_ai.usage.input_tokens": 80,
      "gen_ai.usage.output_tokens": 15,
      "volley.agent.steps": 2,
      "volley.agent.finish": "answer",
    });
    const chats = spans.filter((span) => span.name === "chat mock-model");
    expect(chats).toHaveLength(2);
    for (const chat of chats) expect(chat.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
    expect(chats[0]?.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "mock-model",
      "gen_ai.response.model": "mock-model-1",
      "gen_ai.response.finish_reasons": ["tool_calls"],
      "gen_ai.usage.input_tokens": 30,
      "gen_ai.usage.output_tokens": 12,
    });
    // The step that called tools has its run under the turn, and the tools under the run; the answer step has none.
    const runs = spans.filter((span) => span.name === "volley.run");
    expect(runs).toHaveLength(1);
    expect(runs[0]?.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
    expect(spanNamed(spans, "execute_tool search", "s2").parentSpanContext?.spanId).toBe(runs[0]?.spanContext().spanId);
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(1);
  });

  it("marks a turn whose model failed, and the model call that failed", async () => {
    const tracing = createTracing({ tracerProvider });
    const failing: ChatModel = {
      model: "flaky-model",
      // eslint-disable-next-line require-yield
      async *stream() {
        throw new TypeError("the endpoint is down");
      },
    };
    await expect(createAgent({ model: failing, tools: [search], instrumentation: tracing }).run("?")).rejects.toThrow(
      "the endpoint is down",
    );
    const spans = exporter.getFinishedSpans();
    for (const name of ["invoke_agent volley", "chat flaky-model"]) {
      const span = spanNamed(spans, name);
      expect(span.status).toMatchObject({ code: 2, message: "the endpoint is down" });
      expect(span.attributes["error.type"]).toBe("TypeError");
    }
  });
});
