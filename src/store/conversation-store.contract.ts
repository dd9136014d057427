import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunStore } from "./index.ts";

/** What every RunStore keeps for agents: conversations, their claims for a turn, the step in progress. */
export function conversationStoreContract(name: string, open: () => RunStore | Promise<RunStore>): void {
  describe(`RunStore contract, conversations: ${name}`, () => {
    let store: RunStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it("keeps conversation memory in order, per conversation", async () => {
      await store.appendMessages(
        "c1",
        [
          { role: "user", content: "hi" },
          { role: "assistant", content: "hello" },
        ],
        10,
      );
      await store.appendMessages("c2", [{ role: "user", content: "other" }], 11);
      await store.appendMessages("c1", [{ role: "user", content: "again" }], 12);
      expect(
        (await store.messages("c1")).map((item) => [item.seq, (item.message as { content: string }).content]),
      ).toEqual([
        [0, "hi"],
        [1, "hello"],
        [2, "again"],
      ]);
      expect((await store.messages("c1", 2)).map((item) => (item.message as { content: string }).content)).toEqual([
        "hello",
        "again",
      ]);
      expect(await store.messages("nobody")).toEqual([]);
    });

    it("lists conversations, the most recently updated first, with their first question", async () => {
      await store.appendMessages("older", [{ role: "user", content: "What is <b>bold</b>?" }], 10);
      await store.appendMessages(
        "newer",
        [
          { role: "system", content: "be brief" },
          { role: "user", content: "x".repeat(300) },
        ],
        20,
      );
      await store.appendMessages("older", [{ role: "assistant", content: "a tag" }], 30);
      const listed = await store.conversations();
      expect(listed.map((item) => [item.conversationId, item.startedAt, item.updatedAt, item.messages])).toEqual([
        ["older", 10, 30, 2],
        ["newer", 20, 20, 2],
      ]);
      expect(listed[0]?.title).toBe("What is <b>bold</b>?");
      expect(listed[1]?.title).toBe("x".repeat(200));
      expect((await store.conversations({ limit: 1, offset: 1 })).map((item) => item.conversationId)).toEqual([
        "newer",
      ]);
      await expect(store.conversations({ limit: 0 })).rejects.toThrow(
        "conversations: expected `limit` to be an integer from 1 and up, got 0 (number)",
      );
    });

    it("lets one holder at a time claim a conversation for a turn", async () => {
      await store.appendMessages("talk", [{ role: "user", content: "hi" }], 1);
      expect(await store.claimConversation("talk", "turn-1")).toBe(true);
      expect(await store.claimConversation("talk", "turn-1")).toBe(true);
      expect(await store.claimConversation("talk", "turn-2")).toBe(false);
      expect(await store.claimConversation("other", "turn-2")).toBe(true);
      expect((await store.conversations()).find((item) => item.conversationId === "talk")?.busy).toBe(true);
      // Only its holder gives a claim back.
      await store.releaseConversation("talk", "turn-2");
      expect(await store.claimConversation("talk", "turn-2")).toBe(false);
      await store.releaseConversation("talk", "turn-1");
      expect((await store.conversations()).find((item) => item.conversationId === "talk")?.busy).toBe(false);
      expect(await store.claimConversation("talk", "turn-2")).toBe(true);
      await expect(store.claimConversation("talk", "")).rejects.toThrow(
        "claimConversation: expected `holder` to be a non-empty string",
      );
    });

    it("keeps one step in progress per conversation, replaced as it grows, until cleared", async () => {
      expect(await store.stepInProgress("c")).toBeUndefined();
      await store.setStepInProgress("c", { role: "assistant", tool_calls: [{ id: "a" }], volley_run_id: "r1" });
      await store.setStepInProgress("c", {
        role: "assistant",
        tool_calls: [{ id: "a" }, { id: "b" }],
        volley_run_id: "r1",
      });
      await store.setStepInProgress("other", { role: "assistant", volley_run_id: "r2" });
      expect(await store.stepInProgress("c")).toEqual({
        role: "assistant",
        tool_calls: [{ id: "a" }, { id: "b" }],
        volley_run_id: "r1",
      });
      await store.setStepInProgress("c", undefined);
      expect(await store.stepInProgress("c")).toBeUndefined();
      expect(await store.stepInProgress("other")).toEqual({ role: "assistant", volley_run_id: "r2" });
      // The transcript is untouched by it.
      expect(await store.messages("c")).toEqual([]);
    });

    it("rejects a conversation id that is not a non-empty string", async () => {
      await expect(store.messages("")).rejects.toThrow("messages: expected `conversationId` to be a non-empty string");
    });
  });
}
