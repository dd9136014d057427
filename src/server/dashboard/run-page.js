// @ts-check
import { followRun, getJson, postJson } from "./api.js";
import { formatJson, formatMs, formatSpeedup, h, show } from "./dom.js";
import { RunModel } from "./run-model.js";
import { drawTimeline } from "./timeline.js";

const POLL_MS = 1000;

/**
 * One run: its figures, the timeline drawn while the run goes, and the selected call's details.
 * A run of this server is followed over its event stream; a run another process is still
 * writing to the history is re-read until it ends.
 * @param {HTMLElement} view
 * @param {string} runId
 * @returns {() => void} stops following
 */
export function mountRunPage(view, runId) {
  const controller = new AbortController();
  const summary = h("div", { class: "summary" });
  const timeline = h("div", { class: "timeline-box" });
  const name = h("p", { class: "run-name", "data-figure": "name" });
  const details = h(
    "aside",
    { class: "details" },
    h("p", { class: "muted" }, "Select a call to see its arguments, output and error."),
  );
  show(
    view,
    h("h1", {}, "Run ", h("code", {}, runId)),
    name,
    summary,
    h("div", { class: "legend" }, legend()),
    timeline,
    details,
  );

  /** @type {RunModel | undefined} */
  let model;
  /** @type {string | undefined} */
  let selectedId;
  let frame = 0;

  let live = false;
  /** @type {string | undefined} */
  let shownVersion;
  const decide = async (
    /** @type {string} */ callId,
    /** @type {boolean} */ approved,
    /** @type {string} */ reason,
  ) => {
    try {
      await postJson(`/api/runs/${encodeURIComponent(runId)}/calls/${encodeURIComponent(callId)}/approval`, {
        approved,
        ...(reason ? { reason } : {}),
      });
    } catch (error) {
      show(details, h("p", { class: "error" }, error instanceof Error ? error.message : String(error)));
    }
  };

  const render = () => {
    frame = 0;
    if (model === undefined) return;
    show(summary, summaryOf(model));
    show(
      timeline,
      drawTimeline(model, {
        now: Date.now(),
        width: Math.max(timeline.clientWidth, 320),
        selectedId,
        onSelect: select,
      }),
    );
    if (selectedId !== undefined) {
      const call = model.calls.get(selectedId);
      // Redrawn only when the call changed, so that text being selected or typed there survives.
      const version =
        call &&
        [call.id, call.state, call.attempts, call.endedAt, call.retries.length, call.progress?.progress, live].join(
          "|",
        );
      if (call !== undefined && version !== shownVersion) {
        shownVersion = version;
        show(details, detailsOf(call, live ? decide : undefined));
      }
    }
  };
  const scheduleRender = () => {
    if (frame === 0) frame = requestAnimationFrame(render);
  };
  const select = (/** @type {string} */ callId) => {
    selectedId = callId;
    scheduleRender();
  };
  // Running bars grow with the clock, not only when an event arrives.
  const ticker = setInterval(() => {
    if (model?.status === "running") scheduleRender();
  }, 100);

  const load = async () => {
    try {
      const record = await getJson(`/api/runs/${encodeURIComponent(runId)}`);
      show(name, typeof record.run.options?.name === "string" ? record.run.options.name : null);
      if (record.live && record.run.status === "running") {
        live = true;
        model = new RunModel(runId);
        await followRun(
          runId,
          (event) => {
            model?.apply(event);
            scheduleRender();
          },
          controller.signal,
        );
        live = false;
        scheduleRender();
        return;
      }
      model = RunModel.fromRecord(record);
      scheduleRender();
      if (record.run.status === "running" && !controller.signal.aborted) setTimeout(() => void load(), POLL_MS);
    } catch (error) {
      if (controller.signal.aborted) return;
      show(summary, h("p", { class: "error" }, error instanceof Error ? error.message : String(error)));
    }
  };
  void load();

  return () => {
    controller.abort();
    clearInterval(ticker);
    if (frame !== 0) cancelAnimationFrame(frame);
  };
}

/** @param {RunModel} model */
function summaryOf(model) {
  const stats = model.stats;
  const calls = model.ordered();
  const counts = { running: 0, queued: 0, done: 0 };
  for (const call of calls) {
    if (call.state === "running" || call.state === "retrying") counts.running++;
    else if (call.state === "queued" || call.state === "approval") counts.queued++;
    else counts.done++;
  }
  return h(
    "dl",
    { class: "figures" },
    figure("Status", model.status.replace("_", " "), "run-status"),
    model.resumes === undefined ? null : figure("Resumes", runLink(model.resumes), "resumes"),
    model.resumedBy.length === 0
      ? null
      : figure(
          "Finished in",
          model.resumedBy.flatMap((id, index) => (index === 0 ? [runLink(id)] : [", ", runLink(id)])),
          "resumed-by",
        ),
    figure(
      "Calls",
      stats
        ? `${stats.succeeded} ok, ${stats.failed} failed`
        : `${counts.done} done, ${counts.running} running, ${counts.queued} queued`,
    ),
    figure(
      "Wall time",
      formatMs(stats?.wallMs ?? (model.startedAt === undefined ? undefined : Date.now() - model.startedAt)),
    ),
    figure("Sum of durations", formatMs(stats?.sumMs)),
    figure("Speedup", formatSpeedup(stats?.speedup), "speedup"),
    figure("Critical path", formatMs(stats?.criticalPathMs)),
    figure("Most in flight", stats?.maxInFlight ?? "–"),
  );
}

/**
 * @param {string} term
 * @param {import("./dom.js").Children} value text, a number, or elements such as links
 * @param {string} [name]
 */
function figure(term, value, name) {
  return h("div", { "data-figure": name }, h("dt", {}, term), h("dd", {}, value));
}

/** @param {string} runId */
function runLink(runId) {
  return h("a", { href: `#/runs/${encodeURIComponent(runId)}`, "data-run-link": runId }, h("code", {}, runId));
}

function legend() {
  return ["queued", "approval", "running", "retrying", "ok", "cached", "failed"].map((state) =>
    h("span", { class: `key state-${state}` }, state),
  );
}

/**
 * @param {import("./run-model.js").CallView} call
 * @param {((callId: string, approved: boolean, reason: string) => Promise<void>) | undefined} decide present while the run is live here
 */
function detailsOf(call, decide) {
  return [
    h("h2", {}, call.name, " ", h("code", {}, call.id)),
    call.state === "approval" && decide ? approvalForm(call.id, decide) : null,
    call.approval
      ? h(
          "p",
          { "data-detail": "approval" },
          call.approval.approved ? "Approved" : `Denied${call.approval.reason ? `: ${call.approval.reason}` : ""}`,
        )
      : null,
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "State"),
      h("dd", { "data-detail": "state" }, call.state),
      h("dt", {}, "Attempts"),
      h("dd", {}, String(call.attempts)),
      h("dt", {}, "Waited"),
      h("dd", {}, formatMs(call.startedAt === undefined ? undefined : call.startedAt - call.addedAt)),
      h("dt", {}, "Took"),
      h(
        "dd",
        {},
        formatMs(
          call.endedAt === undefined || call.startedAt === undefined ? undefined : call.endedAt - call.startedAt,
        ),
      ),
      h("dt", {}, "Depends on"),
      h("dd", {}, call.dependsOn.length === 0 ? "nothing" : call.dependsOn.join(", ")),
    ),
    call.progress
      ? h(
          "p",
          {},
          `Progress: ${call.progress.progress}${call.progress.total ? ` of ${call.progress.total}` : ""} ${call.progress.message ?? ""}`,
        )
      : null,
    h("h3", {}, "Arguments"),
    h("pre", { "data-detail": "args" }, formatJson(call.args)),
    call.error
      ? [
          h("h3", {}, "Error"),
          h("pre", { class: "error", "data-detail": "error" }, `${call.error.type}: ${call.error.message}`),
        ]
      : null,
    call.state === "ok" || call.state === "cached"
      ? [
          h("h3", {}, call.outputTruncated ? "Output (cut)" : "Output"),
          h("pre", { "data-detail": "output" }, formatJson(call.output)),
        ]
      : null,
    call.retries.length > 0
      ? [
          h("h3", {}, "Retries"),
          h(
            "ul",
            {},
            call.retries.map((retry) =>
              h("li", {}, `after ${retry.error.type}: ${retry.error.message} (waited ${formatMs(retry.delayMs)})`),
            ),
          ),
        ]
      : null,
  ];
}

/**
 * Approve and deny buttons for a call that waits; a reason goes to the model with a denial.
 * @param {string} callId
 * @param {(callId: string, approved: boolean, reason: string) => Promise<void>} decide
 */
function approvalForm(callId, decide) {
  const reason = h("input", {
    type: "text",
    name: "reason",
    placeholder: "reason (optional, the model reads it)",
    autocomplete: "off",
  });
  const buttons = [
    h(
      "button",
      { type: "button", "data-action": "approve", onClick: () => void decide(callId, true, reason.value.trim()) },
      "Approve",
    ),
    h(
      "button",
      {
        type: "button",
        class: "deny",
        "data-action": "deny",
        onClick: () => void decide(callId, false, reason.value.trim()),
      },
      "Deny",
    ),
  ];
  return h(
    "div",
    { class: "approval" },
    h("p", {}, "This call waits for your approval. It holds no slot; the other calls go on."),
    h("div", { class: "actions" }, reason, buttons),
  );
}
