// @ts-check
// One conversation as the chat page shows it: messages, each step's text and tool calls, and a
// run model per step for its timeline. Built from a turn's live events or from the history.
import { formatJson, formatMs, formatSpeedup, h } from "./dom.js";
import { RunModel } from "./run-model.js";

/**
 * @typedef {{ approve: (callId: string) => void, deny: (callId: string) => void }} Decide
 * @typedef {{ item: HTMLLIElement, status: HTMLElement, decision: HTMLElement }} CallItem
 * @typedef {{ box: HTMLLIElement, text: HTMLElement, plan: HTMLOListElement, calls: HTMLUListElement, figures: HTMLElement }} StepView
 */

/** What a call's status line says for each state. */
const STATE_WORDS = /** @type {Record<string, string>} */ ({
  queued: "queued",
  approval: "waiting for approval",
  running: "running",
  ok: "done",
  cached: "cached",
  failed: "failed",
});

export class ConversationView {
  /**
   * @param {HTMLOListElement} messages where messages go
   * @param {Decide} decide asks the server to approve or deny a call
   */
  constructor(messages, decide) {
    this.messages = messages;
    this.decide = decide;
    /** Each step's run, for its timeline, in step order. @type {Map<string, { title: string, model: RunModel }>} */
    this.timelines = new Map();
    /** @type {Map<string, CallItem>} */
    this.callItems = new Map();
    /** @type {StepView | undefined} */
    this.step = undefined;
    /** Steps of the turn being shown, for keys of its timelines. */
    this.turnKey = "";
    this.stepNumber = 0;
    this.running = false;
  }

  /** @param {string} content */
  userMessage(content) {
    this.messages.append(h("li", { class: "message user", "data-role": "user" }, h("p", {}, content)));
    this.step = undefined;
  }

  /** The assistant's box for the current step, made on first use. */
  currentStep() {
    if (this.step !== undefined) return this.step;
    const text = h("p", { class: "assistant-text" });
    const plan = h("ol", { class: "plan" });
    const calls = h("ul", { class: "calls" });
    const figures = h("p", { class: "muted step-figures" });
    const box = h("li", { class: "message assistant", "data-role": "assistant" }, text, plan, calls, figures);
    this.messages.append(box);
    this.step = { box, text, plan, calls, figures };
    return this.step;
  }

  /**
   * The timeline model of the step being shown.
   * @param {number} at when its first event came
   */
  currentModel(at) {
    const key = `${this.turnKey}/${this.stepNumber + 1}`;
    let entry = this.timelines.get(key);
    if (entry === undefined) {
      const model = new RunModel(key);
      model.startedAt = at;
      entry = { title: `Step ${this.stepNumber + 1}`, model };
      this.timelines.set(key, entry);
    }
    return entry.model;
  }

  /**
   * The step's timeline model, with the call on it (added now if it was not).
   * @param {number} at
   * @param {string} callId
   * @param {string} name
   * @param {unknown} args
   */
  modelWith(at, callId, name, args) {
    const model = this.currentModel(at);
    if (!model.calls.has(callId)) model.apply({ type: "call-add", callId, name, args, dependsOn: [], at });
    return model;
  }

  /**
   * A call's line in the step, made on first use.
   * @param {string} callId
   * @param {string} name
   * @param {unknown} args
   */
  callItem(callId, name, args) {
    const key = `${this.turnKey}/${callId}`;
    let found = this.callItems.get(key);
    if (found === undefined) {
      const status = h("span", { class: "call-status", "data-state": "queued" }, "queued");
      const decision = h("span", { class: "call-decision" });
      const item = h(
        "li",
        { class: "call", "data-call-id": callId },
        h("strong", {}, name),
        " ",
        h("code", { class: "call-args" }, formatJson(args).slice(0, 400)),
        " ",
        status,
        decision,
      );
      this.currentStep().calls.append(item);
      found = { item, status, decision };
      this.callItems.set(key, found);
    }
    return found;
  }

  /**
   * @param {CallItem} call
   * @param {string} state
   * @param {string} [detail]
   */
  setState(call, state, detail) {
    call.status.dataset.state = state;
    call.status.textContent =
      detail === undefined ? (STATE_WORDS[state] ?? state) : `${STATE_WORDS[state] ?? state} · ${detail}`;
  }

  /**
   * Applies one event of a served turn (see ConversationEvent in the server).
   * @param {any} event
   */
  apply(event) {
    const at = typeof event.at === "number" ? event.at : Date.now();
    switch (event.type) {
      case "turn-start":
        this.turnKey = String(event.turnId);
        this.stepNumber = 0;
        this.running = true;
        this.userMessage(String(event.content));
        break;
      case "text-delta":
        this.currentStep().text.append(String(event.text));
        break;
      case "plan-task": {
        const step = this.currentStep();
        step.plan.append(
          h(
            "li",
            { "data-task": event.callId },
            h("strong", {}, event.name),
            " ",
            h("code", {}, formatJson(event.args)),
          ),
        );
        this.modelWith(at, event.callId, event.name, event.args);
        break;
      }
      case "plan-problem":
        this.currentStep().plan.append(h("li", { class: "error" }, `${event.line}: ${event.reason}`));
        break;
      case "tool-call-start": {
        const call = this.callItem(event.callId, event.name, event.args);
        this.setState(call, "running", event.attempt > 1 ? `attempt ${event.attempt}` : undefined);
        this.modelWith(at, event.callId, event.name, event.args).apply({
          type: "call-start",
          callId: event.callId,
          attempt: event.attempt,
          at,
        });
        break;
      }
      case "tool-approval-start": {
        const call = this.callItem(event.callId, event.name, event.args);
        this.setState(call, "approval");
        call.decision.replaceChildren(
          h(
            "button",
            { type: "button", "data-action": "approve", onClick: () => this.decide.approve(event.callId) },
            "Approve",
          ),
          h("button", { type: "button", "data-action": "deny", onClick: () => this.decide.deny(event.callId) }, "Deny"),
        );
        this.modelWith(at, event.callId, event.name, event.args).apply({
          type: "approval-start",
          callId: event.callId,
          at,
        });
        break;
      }
      case "tool-approval-end": {
        const call = this.callItems.get(`${this.turnKey}/${event.callId}`);
        call?.decision.replaceChildren(
          h(
            "span",
            { class: "muted" },
            `${event.approved ? "approved" : "denied"}${event.reason ? `: ${event.reason}` : ""}`,
          ),
        );
        this.currentModel(at).apply({
          type: "approval-end",
          callId: event.callId,
          approved: event.approved,
          reason: event.reason,
          at,
        });
        break;
      }
      case "tool-call-end": {
        const result = event.result;
        const call = this.callItem(result.id, result.name, undefined);
        this.setState(
          call,
          result.ok ? (result.cached ? "cached" : "ok") : "failed",
          result.ok ? formatMs(result.durationMs) : `${result.error?.type}: ${result.error?.message ?? ""}`,
        );
        this.modelWith(at, result.id, result.name, {}).apply({ type: "call-end", callId: result.id, result, at });
        break;
      }
      case "step-end": {
        const step = this.currentStep();
        const figures = event.figures;
        step.figures.replaceChildren(
          `step ${event.step} · ${formatMs(event.durationMs)}`,
          figures
            ? ` · ${event.calls} calls: tools busy ${formatMs(figures.toolsBusyMs)} for ${formatMs(figures.toolsSumMs)} of work (${formatSpeedup(figures.toolsSpeedup)}), ${formatMs(figures.overlapMs)} while the model wrote, ${formatMs(figures.savedMs)} saved · `
            : "",
          event.runId ? h("a", { href: `#/runs/${encodeURIComponent(event.runId)}` }, "run") : "",
        );
        const entry = this.timelines.get(`${this.turnKey}/${this.stepNumber + 1}`);
        if (entry !== undefined) {
          entry.model.endedAt = at;
          entry.model.status = "completed";
          if (event.runId) entry.title = `Step ${event.step}`;
        }
        this.stepNumber++;
        this.step = undefined;
        break;
      }
      case "answer":
        this.running = false;
        if (event.finish !== "answer")
          this.messages.append(
            h(
              "li",
              { class: "message notice" },
              `Stopped: ${event.finish === "timeout" ? "out of time" : "at the step limit"}.`,
            ),
          );
        break;
      case "error":
        this.running = false;
        this.messages.append(h("li", { class: "message error", "data-role": "error" }, String(event.message)));
        break;
    }
  }

  /**
   * Shows a conversation as the history keeps it: its messages, each call with its result.
   * @param {any[]} stored `{ message }` items, oldest first
   */
  showHistory(stored) {
    for (const [index, { message }] of stored.entries()) {
      if (message?.role === "user") {
        // Provider call ids repeat across turns: each turn's calls are told apart by where it starts.
        this.turnKey = `history-${index}`;
        this.userMessage(String(message.content ?? ""));
      } else if (message?.role === "assistant") {
        const step = this.currentStep();
        if (typeof message.content === "string") step.text.append(message.content);
        for (const call of message.tool_calls ?? []) {
          let args = call.function?.arguments;
          try {
            args = JSON.parse(args);
          } catch {
            // Kept as the model wrote it.
          }
          this.setState(this.callItem(call.id, call.function?.name ?? "?", args), "queued", "no result kept");
        }
        if (!message.tool_calls) this.step = undefined;
      } else if (message?.role === "tool") {
        const call = this.callItems.get(`${this.turnKey}/${message.tool_call_id}`);
        const text = String(message.content ?? "");
        if (call !== undefined) this.setState(call, /^Error \(/.test(text) ? "failed" : "ok", text.slice(0, 200));
        this.step = undefined;
      }
    }
  }
}
