export type {
  ApprovalQuery,
  ConversationMessage,
  HistoryWrite,
  RunQuery,
  RunStore,
  StoredCall,
  StoredApproval,
  StoredEvent,
  StoredRun,
  StoredRunEvent,
  StoredRunStatus,
  StoredToolStats,
  TimeWindow,
} from "./run-store.ts";
export { MemoryRunStore, type MemoryRunStoreOptions } from "./memory-run-store.ts";
export { DEFAULT_DATABASE_PATH, SqliteRunStore, type SqliteRunStoreOptions } from "./sqlite-run-store.ts";
export { toStoredJson } from "./stored-json.ts";
export { isStoredEvent } from "./run-store.ts";
