import type { CallError } from "../run/types.ts";
import { closestName } from "../shared/closest-name.ts";

/**
 * The errors a call can be answered with, in words a model can act on. Kept in one place so
 * that the wording stays consistent and the scheduler stays about scheduling.
 */
export const callErrors = {
  unknownTool(name: unknown, available: readonly string[]): CallError {
    const shown = available.slice(0, 20).join(", ");
    const more = available.length > 20 ? `, and ${available.length - 20} more` : "";
    const what = typeof name === "string" && name !== "" ? `Unknown tool "${name}".` : "The call names no tool.";
    const meant = typeof name === "string" && name !== "" ? closestName(name, available) : undefined;
    const suggestion = meant === undefined ? "" : ` Did you mean "${meant}"?`;
    return {
      type: "unknown_tool",
      message: `${what}${suggestion} Available tools: ${shown || "none"}${more}.`,
      retryable: false,
    };
  },

  invalidArguments(name: string, detail: string): CallError {
    return { type: "invalid_arguments", message: `Invalid call to "${name}": ${detail}`, retryable: false };
  },

  schemaMismatch(name: string, detail: string): CallError {
    return {
      type: "invalid_arguments",
      message: `Arguments for "${name}" do not match its input schema: ${detail}`,
      retryable: false,
    };
  },

  duplicateId(id: string): CallError {
    return {
      type: "invalid_arguments",
      message: `Another call in this run already has the id "${id}"; ids must be unique, so this call was not run.`,
      retryable: false,
      callIds: [id],
    };
  },

  missingCall(id: string): CallError {
    return {
      type: "invalid_reference",
      message: `Not run: it refers to call "${id}", which is not in this run.`,
      retryable: false,
      callIds: [id],
    };
  },

  missingPath(detail: string, id: string): CallError {
    return { type: "invalid_reference", message: `Not run: ${detail}.`, retryable: false, callIds: [id] };
  },

  dependencyFailed(dependency: { id: string; name: string }, reason: CallError): CallError {
    return {
      type: "dependency_failed",
      message: `Not run: it depends on call "${dependency.id}" (${dependency.name}), which failed (${reason.type}).`,
      retryable: false,
      callIds: [dependency.id],
    };
  },

  denied(name: string, reason: string | undefined): CallError {
    return {
      type: "denied",
      message: `Not run: the user did not approve this call to "${name}"${reason ? ` (${reason})` : ""}. Do not try it again unless the user asks.`,
      retryable: false,
    };
  },

  cycle(ids: readonly string[]): CallError {
    const quoted = ids.map((id) => `"${id}"`);
    const list =
      quoted.length === 1
        ? `${quoted[0]} depends on itself`
        : `${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)} depend on each other in a cycle`;
    return { type: "cycle", message: `Not run: calls ${list}.`, retryable: false, callIds: [...ids] };
  },

  toolFailed(error: unknown): CallError & { retryAfterMs?: number } {
    try {
      return readFailure(error);
    } catch {
      // A thrown Proxy or getter that throws: nothing of it can be read, but the call still gets its answer.
      return { type: "tool_error", message: "The tool threw a value that could not be read.", retryable: false };
    }
  },

  notJson(name: string, why: string): CallError {
    return {
      type: "tool_error",
      message: `"${name}" returned an output that is not JSON-serialisable: ${why}.`,
      retryable: false,
    };
  },

  /** `what` completes `"<tool>" …`: "timed out after 5000 ms". */
  timeout(name: string, what: string, stopped: boolean): CallError {
    const after = stopped
      ? " and stopped."
      : ". It did not stop when asked, so it may still be running and its side effects may still happen.";
    return { type: "timeout", message: `"${name}" ${what}${after}`, retryable: true };
  },

  cancelled(reason: string, wasRunning: boolean, stopped: boolean): CallError {
    if (!wasRunning) return { type: "cancelled", message: `Not started: ${reason}.`, retryable: false };
    const after = stopped
      ? "The tool stopped."
      : "The tool did not stop when asked, so it may still be running and its side effects may still happen.";
    return { type: "cancelled", message: `Cancelled while running: ${reason}. ${after}`, retryable: false };
  },
};

/** What a tool's thrown value says about itself; may throw if the value is hostile. */
function readFailure(error: unknown): CallError & { retryAfterMs?: number } {
  const fields = (error ?? {}) as { retryable?: unknown; retryAfterMs?: unknown; code?: unknown };
  const retryAfterMs =
    typeof fields.retryAfterMs === "number" && fields.retryAfterMs >= 0 ? fields.retryAfterMs : undefined;
  // A worker thread stopped for going over its memory or CPU limit says so with its code.
  const type = fields.code === "resource_exhausted" ? "resource_exhausted" : "tool_error";
  const failure: CallError & { retryAfterMs?: number } = {
    type,
    message: describeThrown(error),
    retryable: fields.retryable === true,
  };
  if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  return failure;
}

export function describeThrown(error: unknown): string {
  if (error instanceof Error) {
    const message = String(error.message || "(no message)");
    // A ToolError is how a tool speaks to the model: its message goes through as it is.
    const plain = error.name === "Error" || error.name === "ToolError" || !error.name;
    return plain ? message : `${error.name}: ${message}`;
  }
  if (typeof error === "string") return error;
  try {
    return `Thrown value: ${JSON.stringify(error)}`;
  } catch {
    return `Thrown value: ${String(error)}`;
  }
}

/** Words for an abort reason: the message of an Error, a string as it is, otherwise a default. */
export function describeReason(reason: unknown, fallback: string): string {
  try {
    if (reason instanceof Error && reason.message) return String(reason.message);
  } catch {
    // A hostile value: its words can't be read.
  }
  if (typeof reason === "string" && reason !== "") return reason;
  return fallback;
}
