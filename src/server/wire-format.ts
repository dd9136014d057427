import type { RunEvent, ToolResult } from "../run/types.ts";
import { toStoredJson, truncateStoredJson } from "../store/stored-json.ts";
import type { LiveRunEntry } from "./live-runs.ts";

/** Outputs longer than this (as JSON text) reach clients cut, marked `outputTruncated`. */
export const MAX_WIRE_OUTPUT_CHARS = 64 * 1024;

/** A result as JSON can carry it: any output in stored form (see `toStoredJson`), long ones cut. */
export function wireResult(result: ToolResult): ToolResult & { outputTruncated?: true } {
  if (!result.ok) return result;
  const { json, truncated } = truncateStoredJson(toStoredJson(result.output), MAX_WIRE_OUTPUT_CHARS);
  return { ...result, output: JSON.parse(json) as unknown, ...(truncated ? { outputTruncated: true as const } : {}) };
}

/**
 * An event as the server sends it: a `call-add` carries the call's arguments as submitted, so
 * that a client can show them before the call ends; results carry outputs in wire form.
 */
export function wireEvent(event: RunEvent, entry: LiveRunEntry): string {
  switch (event.type) {
    case "call-add": {
      const args = entry.calls.get(event.callId)?.args;
      return toStoredJson(args === undefined ? event : { ...event, args });
    }
    case "call-end":
      return JSON.stringify({ ...event, result: wireResult(event.result) });
    case "run-end":
      return JSON.stringify({ ...event, result: { ...event.result, results: event.result.results.map(wireResult) } });
    default:
      return toStoredJson(event);
  }
}
