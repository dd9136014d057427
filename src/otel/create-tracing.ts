import {
  context,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Histogram,
  type MeterProvider,
  type Span,
  type TracerProvider,
} from "@opentelemetry/api";
import { invalidOption } from "../errors/volley-error.ts";
import type {
  AgentInstrumentation,
  CallInfo,
  Instrumentation,
  RunInstrumentation,
  TurnInstrumentation,
} from "../run/instrumentation.ts";
import type { RunResult, ToolResult } from "../run/types.ts";

export interface TracingOptions {
  /** Where spans go. @default the global tracer provider, a no-op until an SDK registers one */
  tracerProvider?: TracerProvider;
  /** Where the `gen_ai.execute_tool.duration` histogram goes. @default the global meter provider */
  meterProvider?: MeterProvider;
  /** Put each call's arguments on its span (`gen_ai.tool.call.arguments`). They may hold private data. @default false */
  recordArguments?: boolean;
  /** Put each call's output on its span (`gen_ai.tool.call.result`). It may hold private data. @default false */
  recordResults?: boolean;
  /** Add OpenInference attributes too, so that Phoenix shows tool spans as TOOL spans. @default false */
  openInference?: boolean;
  /** The agent's name on its `invoke_agent` spans (`gen_ai.agent.name`). @default "volley" */
  agentName?: string;
}

const INSTRUMENTATION_NAME = "volley";
const INSTRUMENTATION_VERSION = "0.1.0";

/** JSON for an attribute; what JSON can't hold is described instead of throwing. */
function toJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch (error) {
    return `[not JSON: ${error instanceof Error ? error.message : String(error)}]`;
  }
}

/**
 * OpenTelemetry spans for Volley runs, following the GenAI semantic conventions for tool
 * execution: a span per run, a child of the caller's active span, and an `execute_tool {tool}`
 * span per call inside it. Each tool runs with its call's span active, so the spans it makes
 * nest beneath. Pass the result to `createExecutor({ instrumentation })`.
 *
 * Given to `createAgent({ instrumentation })` too, each turn is an `invoke_agent` span (one trace
 * per turn, unless the caller has a span active), with a `chat {model}` span per model call
 * (request and response model, finish reason, input and output tokens) and the step runs'
 * spans beneath.
 */
export function createTracing(options: TracingOptions = {}): Instrumentation & AgentInstrumentation {
  if (options === null || typeof options !== "object")
    invalidOption("createTracing", "options", "an options object", options);
  const { recordArguments = false, recordResults = false, openInference = false, agentName = "volley" } = options;
  if (typeof agentName !== "string" || agentName === "")
    invalidOption("createTracing", "agentName", "a non-empty string", agentName);
  for (const [name, value] of Object.entries({ recordArguments, recordResults, openInference })) {
    if (typeof value !== "boolean") invalidOption("createTracing", name, "a boolean", value);
  }
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(
    INSTRUMENTATION_NAME,
    INSTRUMENTATION_VERSION,
  );
  const durations: Histogram = meter.createHistogram("gen_ai.execute_tool.duration", {
    unit: "s",
    description: "Duration of tool executions, retries included",
  });

  const toolAttributes = (call: CallInfo): Attributes => {
    const attributes: Attributes = {
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": call.name,
      "gen_ai.tool.call.id": call.callId,
      "gen_ai.tool.type": "function",
      "volley.run.id": call.runId,
    };
    if (call.description !== undefined) attributes["gen_ai.tool.description"] = call.description;
    if (call.dependsOn.length > 0) attributes["volley.dependencies"] = [...call.dependsOn];
    if (recordArguments) attributes["gen_ai.tool.call.arguments"] = toJson(call.args);
    if (openInference) {
      attributes["openinference.span.kind"] = "TOOL";
      attributes["tool.name"] = call.name;
      if (call.description !== undefined) attributes["tool.description"] = call.description;
      if (recordArguments) {
        attributes["input.value"] = toJson(call.args);
        attributes["input.mime_type"] = "application/json";
      }
    }
    return attributes;
  };

  const recordDuration = (call: CallInfo, result: ToolResult): void => {
    if (result.attempts === 0) return;
    const attributes: Attributes = { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": call.name };
    if (result.error) attributes["error.type"] = result.error.type;
    durations.record(result.durationMs / 1000, attributes);
  };

  const tracer = () =>
    (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);

  /** Marks a span failed, with the error's type. */
  const failed = (span: Span, error: unknown): void => {
    span.setAttribute("error.type", error instanceof Error ? error.name : "error");
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  };

  return {
    turnStart({ conversationId, model, mode }): TurnInstrumentation {
      const turnTracer = tracer();
      const parent = context.active();
      const turnSpan = turnTracer.startSpan(
        `invoke_agent ${agentName}`,
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": agentName,
            "volley.agent.mode": mode,
            ...(conversationId !== undefined ? { "gen_ai.conversation.id": conversationId } : {}),
            ...(model !== undefined ? { "gen_ai.request.model": model } : {}),
          },
        },
        parent,
      );
      const turnContext = trace.setSpan(parent, turnSpan);
      return {
        within: (work) => context.with(turnContext, work),
        modelCall({ model: requestModel, step }) {
          const chat = turnTracer.startSpan(
            requestModel === undefined ? "chat" : `chat ${requestModel}`,
            {
              kind: SpanKind.CLIENT,
              attributes: {
                "gen_ai.operation.name": "chat",
                "volley.agent.step": step,
                ...(requestModel !== undefined ? { "gen_ai.request.model": requestModel } : {}),
              },
            },
            turnContext,
          );
          return {
            end({ finishReason, usage, responseModel, error }) {
              if (finishReason !== undefined) chat.setAttribute("gen_ai.response.finish_reasons", [finishReason]);
              if (responseModel !== undefined) chat.setAttribute("gen_ai.response.model", responseModel);
              if (usage !== undefined)
                chat.setAttributes({
                  "gen_ai.usage.input_tokens": usage.inputTokens,
                  "gen_ai.usage.output_tokens": usage.outputTokens,
                });
              if (error !== undefined) failed(chat, error);
              chat.end();
            },
          };
        },
        turnEnd({ finish, usage, steps, error }) {
          turnSpan.setAttributes({
            "gen_ai.usage.input_tokens": usage.inputTokens,
            "gen_ai.usage.output_tokens": usage.outputTokens,
            "volley.agent.steps": steps,
            ...(finish !== undefined ? { "volley.agent.finish": finish } : {}),
          });
          if (error !== undefined) failed(turnSpan, error);
          turnSpan.end();
        },
      };
    },

    runStart({ runId }): RunInstrumentation {
      const runTracer = tracer();
      const parent = context.active();
      const runSpan = runTracer.startSpan(
        "volley.run",
        { kind: SpanKind.INTERNAL, attributes: { "volley.run.id": runId } },
        parent,
      );
      // With no SDK recording spans, do no per-call span work at all: only the histogram.
      if (!runSpan.isRecording()) return { callEnd: recordDuration };

      const runContext = trace.setSpan(parent, runSpan);
      const callSpans = new Map<string, Span>();
      const startCallSpan = (call: CallInfo): Span =>
        runTracer.startSpan(
          `execute_tool ${call.name}`,
          { kind: SpanKind.INTERNAL, attributes: toolAttributes(call) },
          runContext,
        );

      return {
        attempt(call, launch) {
          let span = callSpans.get(call.callId);
          if (span === undefined) {
            span = startCallSpan(call);
            callSpans.set(call.callId, span);
          } else {
            span.addEvent("volley.retry", { "volley.attempt": call.attempt });
          }
          context.with(trace.setSpan(runContext, span), launch);
        },

        callEnd(call, result) {
          // Calls answered without running (bad arguments, a failed dependency) get a span too.
          const span = callSpans.get(call.callId) ?? startCallSpan(call);
          callSpans.delete(call.callId);
          span.setAttributes({
            "volley.attempts": result.attempts,
            "volley.queued_ms": result.queuedMs,
            "volley.cached": result.cached,
          });
          if (result.error) {
            span.setAttribute("error.type", result.error.type);
            span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.message });
          } else if (recordResults) {
            span.setAttribute("gen_ai.tool.call.result", toJson(result.output));
            if (openInference) span.setAttribute("output.value", toJson(result.output));
          }
          span.end();
          recordDuration(call, result);
        },

        runEnd(result: RunResult) {
          const { stats } = result;
          runSpan.setAttributes({
            "volley.run.status": result.status,
            "volley.run.calls": stats.calls,
            "volley.run.failed": stats.failed,
            "volley.run.wall_ms": stats.wallMs,
            "volley.run.sum_ms": stats.sumMs,
            ...(stats.speedup === null ? {} : { "volley.run.speedup": stats.speedup }),
            "volley.run.critical_path_ms": stats.criticalPathMs,
            "volley.run.max_in_flight": stats.maxInFlight,
          });
          if (result.status === "timed_out") {
            runSpan.setAttribute("error.type", "timeout");
            runSpan.setStatus({ code: SpanStatusCode.ERROR, message: "The run's time limit was reached" });
          }
          runSpan.end();
        },
      };
    },
  };
}
