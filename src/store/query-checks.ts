import { invalidOption } from "../errors/volley-error.ts";
import type { ApprovalQuery, ConversationQuery, RunQuery, TimeWindow } from "./run-store.ts";

const STATUSES = new Set(["running", "completed", "cancelled", "timed_out", "interrupted"]);

/** Checks a run query as every store takes it, filling in the defaults. */
export function checkRunQuery(where: string, query: RunQuery): Required<Pick<RunQuery, "limit" | "offset">> & RunQuery {
  if (query === null || typeof query !== "object")
    invalidOption(where, "query", "{ limit?, offset?, status?, tool? }", query);
  const { limit = 50, offset = 0, status, tool } = query;
  if (!Number.isInteger(limit) || limit < 1) invalidOption(where, "limit", "an integer from 1 and up", limit);
  if (!Number.isInteger(offset) || offset < 0) invalidOption(where, "offset", "an integer from 0 and up", offset);
  if (status !== undefined && !STATUSES.has(status)) invalidOption(where, "status", [...STATUSES].join(", "), status);
  if (tool !== undefined && typeof tool !== "string") invalidOption(where, "tool", "a tool name", tool);
  return { ...query, limit, offset };
}

export function checkWindow(where: string, window: TimeWindow): { since: number; until: number } {
  if (window === null || typeof window !== "object") invalidOption(where, "window", "{ since?, until? }", window);
  const { since = -Infinity, until = Infinity } = window;
  if (typeof since !== "number" || Number.isNaN(since)) invalidOption(where, "since", "epoch milliseconds", since);
  if (typeof until !== "number" || Number.isNaN(until)) invalidOption(where, "until", "epoch milliseconds", until);
  return { since, until };
}

export function checkPruneRule(where: string, rule: { olderThan?: number; keepRuns?: number }): void {
  if (rule === null || typeof rule !== "object" || (rule.olderThan === undefined && rule.keepRuns === undefined)) {
    invalidOption(where, "rule", "{ olderThan } or { keepRuns }", rule);
  }
  if (rule.olderThan !== undefined && (typeof rule.olderThan !== "number" || Number.isNaN(rule.olderThan)))
    invalidOption(where, "olderThan", "epoch milliseconds", rule.olderThan);
  if (rule.keepRuns !== undefined && (!Number.isInteger(rule.keepRuns) || rule.keepRuns < 0))
    invalidOption(where, "keepRuns", "an integer from 0 and up", rule.keepRuns);
}

export function checkConversationId(where: string, conversationId: unknown): asserts conversationId is string {
  if (typeof conversationId !== "string" || conversationId === "")
    invalidOption(where, "conversationId", "a non-empty string", conversationId);
}

export function checkApprovalQuery(query: ApprovalQuery): void {
  if (query === null || typeof query !== "object") invalidOption("approvals", "query", "{ pending?, runId? }", query);
  if (query.pending !== undefined && typeof query.pending !== "boolean")
    invalidOption("approvals", "pending", "a boolean", query.pending);
  if (query.runId !== undefined && typeof query.runId !== "string")
    invalidOption("approvals", "runId", "a run id", query.runId);
}

export function checkConversationQuery(where: string, query: ConversationQuery): Required<ConversationQuery> {
  if (query === null || typeof query !== "object") invalidOption(where, "query", "{ limit?, offset? }", query);
  const { limit = 50, offset = 0 } = query;
  if (!Number.isInteger(limit) || limit < 1) invalidOption(where, "limit", "an integer from 1 and up", limit);
  if (!Number.isInteger(offset) || offset < 0) invalidOption(where, "offset", "an integer from 0 and up", offset);
  return { limit, offset };
}

export function checkClaimHolder(where: string, holder: unknown): asserts holder is string {
  if (typeof holder !== "string" || holder === "") invalidOption(where, "holder", "a non-empty string", holder);
}

/** What the list of conversations calls one: its first user message, cut short. */
export function conversationTitle(message: unknown): string | undefined {
  const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
  return role === "user" && typeof content === "string" ? content.slice(0, 200) : undefined;
}
