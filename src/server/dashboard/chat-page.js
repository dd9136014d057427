// @ts-check
// The chat page: ask the served agent, watch its answer stream and each step's tool calls on a
// live timeline beside it, decide approvals inline, and reopen past conversations.
import { ApiError, followConversation, getJson, postJson, sendMessage } from "./api.js";
import { ConversationView } from "./chat-turn.js";
import { formatTime, h, show } from "./dom.js";
import { RunModel } from "./run-model.js";
import { drawTimeline } from "./timeline.js";

/** A new conversation's id: unique enough for one history. */
function newConversationId() {
  return `chat-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * @param {HTMLElement} view
 * @param {string | undefined} conversationId undefined: a new conversation
 * @returns {() => void} stops following
 */
export function mountChatPage(view, conversationId) {
  const controller = new AbortController();
  const id = conversationId ?? newConversationId();
  const list = h("ul", { class: "conversation-list" });
  const messages = h("ol", { class: "messages", "data-conversation": id });
  const input = h("textarea", { name: "message", rows: 3, placeholder: "Ask a question", required: true });
  const send = h("button", { type: "submit" }, "Send");
  const problem = h("p", { class: "error", role: "alert" });
  const timelines = h("div", { class: "chat-timelines" });
  const form = h(
    "form",
    {
      class: "composer",
      onSubmit: (event) => {
        event.preventDefault();
        const content = input.value.trim();
        if (content === "" || conversation.running) return;
        input.value = "";
        // The address names the conversation once it has a message, so that it can be reopened.
        if (conversationId === undefined) history.replaceState(null, "", `#/chat/${encodeURIComponent(id)}`);
        void follow(sendMessage(id, content, controller.signal));
      },
    },
    input,
    send,
  );
  show(
    view,
    h(
      "div",
      { class: "chat" },
      h("aside", { class: "conversations" }, h("a", { href: "#/chat", class: "new-chat" }, "New conversation"), list),
      h("section", { class: "conversation" }, h("h1", {}, "Chat"), messages, problem, form),
      h("section", { class: "chat-side" }, h("h2", {}, "Tool calls"), timelines),
    ),
  );

  const decide = (/** @type {string} */ callId, /** @type {boolean} */ approved) => {
    postJson(`/api/conversations/${encodeURIComponent(id)}/calls/${encodeURIComponent(callId)}/approval`, {
      approved,
    }).catch((error) => (problem.textContent = error instanceof Error ? error.message : String(error)));
  };
  const conversation = new ConversationView(messages, {
    approve: (callId) => decide(callId, true),
    deny: (callId) => decide(callId, false),
  });

  let frame = 0;
  const render = () => {
    frame = 0;
    send.disabled = conversation.running;
    const width = Math.max(timelines.clientWidth, 280);
    show(
      timelines,
      [...conversation.timelines.entries()]
        .filter(([, entry]) => entry.model.calls.size > 0)
        .map(([key, entry]) =>
          h(
            "div",
            { class: "timeline-box", "data-step": key },
            h("h3", {}, entry.title),
            drawTimeline(entry.model, { now: Date.now(), width, selectedId: undefined, onSelect: () => {} }),
          ),
        ),
    );
  };
  const scheduleRender = () => {
    if (frame === 0) frame = requestAnimationFrame(render);
  };
  // Running bars grow with the clock, not only when an event arrives.
  const ticker = setInterval(() => {
    if (conversation.running) scheduleRender();
  }, 100);

  /** @param {AsyncGenerator<any>} events */
  const follow = async (events) => {
    problem.textContent = "";
    conversation.running = true;
    scheduleRender();
    try {
      for await (const event of events) {
        conversation.apply(event);
        scheduleRender();
      }
    } catch (error) {
      if (!controller.signal.aborted) problem.textContent = error instanceof Error ? error.message : String(error);
    } finally {
      conversation.running = false;
      scheduleRender();
      void loadList();
    }
  };

  const loadList = async () => {
    try {
      const { conversations } = await getJson("/api/conversations?limit=100");
      show(
        list,
        conversations.map((/** @type {any} */ item) =>
          h(
            "li",
            { class: item.conversationId === id ? "current" : undefined },
            h(
              "a",
              { href: `#/chat/${encodeURIComponent(item.conversationId)}`, "data-conversation": item.conversationId },
              item.title ?? item.conversationId,
            ),
            h("span", { class: "muted" }, ` ${formatTime(item.updatedAt)}${item.busy ? " · answering" : ""}`),
          ),
        ),
      );
    } catch (error) {
      show(list, h("li", { class: "error" }, error instanceof Error ? error.message : String(error)));
    }
  };

  const load = async () => {
    void loadList();
    if (conversationId === undefined) return;
    let record;
    try {
      record = await getJson(`/api/conversations/${encodeURIComponent(conversationId)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return; // a conversation yet to start
      problem.textContent = error instanceof Error ? error.message : String(error);
      return;
    }
    // A turn running here is followed from its start; the history shows what came before it.
    const running = record.turn?.running === true;
    const earlier = running
      ? record.messages.filter((/** @type {any} */ item) => item.at < record.turn.startedAt)
      : record.messages;
    conversation.showHistory(earlier);
    for (const run of record.runs) {
      const stored = await getJson(`/api/runs/${encodeURIComponent(run.runId)}`).catch(() => undefined);
      if (stored !== undefined)
        conversation.timelines.set(run.runId, {
          title: typeof run.options?.name === "string" ? run.options.name : run.runId,
          model: RunModel.fromRecord(stored),
        });
    }
    scheduleRender();
    if (running) await follow(followConversation(conversationId, controller.signal));
  };
  void load();

  return () => {
    controller.abort();
    clearInterval(ticker);
    if (frame !== 0) cancelAnimationFrame(frame);
  };
}
