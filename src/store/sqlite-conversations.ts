import type { StatementSync } from "node:sqlite";
import { invalidOption } from "../errors/volley-error.ts";
import { isProcessAlive } from "../shared/process-alive.ts";
import { checkClaimHolder, checkConversationId, checkConversationQuery, conversationTitle } from "./query-checks.ts";
import type { ConversationMessage, ConversationQuery, StoredConversation } from "./run-store.ts";
import type { Row } from "./sqlite-schema.ts";
import { toStoredJson } from "./stored-json.ts";

/**
 * A `SqliteRunStore`'s conversation memory: messages, the list of conversations, each one's
 * claim for a turn and its step in progress. It shares the store's database and statements.
 */
export class SqliteConversations {
  readonly #statement: (sql: string) => StatementSync;
  readonly #transaction: <T>(work: () => T) => T;
  readonly #host: string;

  constructor(parts: {
    statement: (sql: string) => StatementSync;
    transaction: <T>(work: () => T) => T;
    host: string;
  }) {
    this.#statement = parts.statement;
    this.#transaction = parts.transaction;
    this.#host = parts.host;
  }

  appendMessages(conversationId: string, messages: readonly unknown[], at = Date.now()): void {
    checkConversationId("appendMessages", conversationId);
    if (!Array.isArray(messages)) invalidOption("appendMessages", "messages", "an array", messages);
    this.#transaction(() => {
      const next = (
        this.#statement("SELECT COALESCE(MAX(seq) + 1, 0) AS next FROM messages WHERE conversation_id = ?").get(
          conversationId,
        ) as { next: number }
      ).next;
      const insert = this.#statement("INSERT INTO messages (conversation_id, seq, at, message) VALUES (?, ?, ?, ?)");
      messages.forEach((message, offset) => insert.run(conversationId, next + offset, at, toStoredJson(message)));
    });
  }

  messages(conversationId: string, limit?: number): ConversationMessage[] {
    checkConversationId("messages", conversationId);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
      invalidOption("messages", "limit", "an integer from 1 and up", limit);
    const rows = (
      limit === undefined
        ? this.#statement("SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq").all(conversationId)
        : this.#statement(
            "SELECT * FROM (SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
          ).all(conversationId, limit)
    ) as Row[];
    return rows.map((row) => ({
      conversationId,
      seq: row.seq as number,
      at: row.at as number,
      message: JSON.parse(row.message as string) as unknown,
    }));
  }

  list(query: ConversationQuery = {}): StoredConversation[] {
    const { limit, offset } = checkConversationQuery("conversations", query);
    const rows = this.#statement(
      `SELECT conversation_id, MIN(at) AS started_at, MAX(at) AS updated_at, COUNT(*) AS messages,
         (SELECT first.message FROM messages AS first
           WHERE first.conversation_id = messages.conversation_id AND json_extract(first.message, '$.role') = 'user'
           ORDER BY first.seq LIMIT 1) AS first_question,
         claims.pid AS claim_pid, claims.host AS claim_host
       FROM messages LEFT JOIN conversation_claims AS claims USING (conversation_id)
       GROUP BY conversation_id ORDER BY updated_at DESC, conversation_id LIMIT ? OFFSET ?`,
    ).all(limit, offset) as Row[];
    return rows.map((row) => ({
      conversationId: row.conversation_id as string,
      startedAt: row.started_at as number,
      updatedAt: row.updated_at as number,
      messages: row.messages as number,
      title:
        typeof row.first_question === "string"
          ? conversationTitle(JSON.parse(row.first_question) as unknown)
          : undefined,
      busy:
        row.claim_pid !== null &&
        this.#claimLive({ pid: row.claim_pid as number, host: row.claim_host as string, holder: "" }, undefined),
    }));
  }

  claim(conversationId: string, holder: string): boolean {
    checkConversationId("claimConversation", conversationId);
    checkClaimHolder("claimConversation", holder);
    return this.#transaction(() => {
      const claim = this.#statement("SELECT holder, pid, host FROM conversation_claims WHERE conversation_id = ?").get(
        conversationId,
      ) as { holder: string; pid: number; host: string } | undefined;
      if (claim !== undefined && this.#claimLive(claim, holder)) return false;
      this.#statement(
        "INSERT OR REPLACE INTO conversation_claims (conversation_id, holder, pid, host, claimed_at) VALUES (?, ?, ?, ?, ?)",
      ).run(conversationId, holder, process.pid, this.#host, Date.now());
      return true;
    });
  }

  release(conversationId: string, holder: string): void {
    checkConversationId("releaseConversation", conversationId);
    checkClaimHolder("releaseConversation", holder);
    this.#statement("DELETE FROM conversation_claims WHERE conversation_id = ? AND holder = ?").run(
      conversationId,
      holder,
    );
  }

  setStepInProgress(conversationId: string, message: unknown): void {
    checkConversationId("setStepInProgress", conversationId);
    if (message === undefined)
      this.#statement("DELETE FROM steps_in_progress WHERE conversation_id = ?").run(conversationId);
    else
      this.#statement("INSERT OR REPLACE INTO steps_in_progress (conversation_id, message) VALUES (?, ?)").run(
        conversationId,
        toStoredJson(message),
      );
  }

  stepInProgress(conversationId: string): unknown {
    checkConversationId("stepInProgress", conversationId);
    const row = this.#statement("SELECT message FROM steps_in_progress WHERE conversation_id = ?").get(
      conversationId,
    ) as { message: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.message) as unknown);
  }

  /**
   * Whether a claim still stands against `holder`: it is someone else's, and its process may be
   * alive. A process on another host can't be checked, so its claim stands until it gives it back.
   */
  #claimLive(claim: { holder: string; pid: number; host: string }, holder: string | undefined): boolean {
    if (claim.holder === holder) return false;
    if (claim.host !== this.#host || claim.pid === process.pid) return true;
    return isProcessAlive(claim.pid);
  }
}
