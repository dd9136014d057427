/** What a run is made of and what it reports: calls, results, events, figures, and hooks into it. */
export type {
  ApprovalDecision,
  ApprovalRequest,
  CallError,
  CallErrorType,
  RunEvent,
  RunEventType,
  RunResult,
  RunStats,
  RunStatus,
  ToolCall,
  ToolFailure,
  ToolResult,
  ToolSuccess,
} from "./types.ts";
export type { ExecutorStats, ToolStats } from "./executor-stats.ts";
export type { CallInfo, Instrumentation, RunInstrumentation } from "./instrumentation.ts";
