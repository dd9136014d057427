// Trace context across Redis. @opentelemetry/api is an optional peer: without it, or without an
// SDK registered in the process, jobs carry no context and the worker makes no spans.
import type * as OpenTelemetryApi from "@opentelemetry/api";

type OpenTelemetry = typeof OpenTelemetryApi;

let loading: Promise<OpenTelemetry | undefined> | undefined;

/** The OpenTelemetry API if it is installed; loaded once per process. */
export function loadOpenTelemetry(): Promise<OpenTelemetry | undefined> {
  loading ??= import("@opentelemetry/api").catch(() => undefined);
  return loading;
}

/** The active context, written with the globally registered propagator (W3C Trace Context under the OpenTelemetry SDK). */
export function injectTraceContext(otel: OpenTelemetry | undefined): Record<string, string> | undefined {
  if (otel === undefined) return undefined;
  const carrier: Record<string, string> = {};
  otel.propagation.inject(otel.context.active(), carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}
