// @ts-check
import { getJson, postJson } from "./api.js";
import { formatMs, formatSpeedup, formatTime, h, show } from "./dom.js";

const REFRESH_MS = 1500;

/** Statuses a run can have, as the filter offers them. */
const STATUSES = ["running", "completed", "cancelled", "timed_out", "interrupted"];

/**
 * What the runs list shows, read from the address (`#/?status=completed&tool=search&q=report`),
 * so that a filtered list can be shared by its link.
 * @returns {{ status: string, tool: string, q: string }}
 */
function filtersInAddress() {
  const query = new URLSearchParams(location.hash.replace(/^#\/?\??/, ""));
  return { status: query.get("status") ?? "", tool: query.get("tool") ?? "", q: query.get("q") ?? "" };
}

/** @param {{ status: string, tool: string, q: string }} filters */
function addressOf(filters) {
  const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== ""));
  const text = query.toString();
  return text === "" ? "#/" : `#/?${text}`;
}

/**
 * Every run, newest first, refreshed while open (runs of other processes appear as the history
 * gets them), filtered by status, by a tool they called, and by text in their id or name.
 * @param {HTMLElement} view
 * @returns {() => void} stops refreshing
 */
export function mountRunsPage(view) {
  const filters = filtersInAddress();
  const table = h("tbody");
  const approvals = h("section", { class: "approvals" });
  const status = h(
    "select",
    { name: "status", "aria-label": "Status" },
    h("option", { value: "" }, "Any status"),
    STATUSES.map((value) => h("option", { value, selected: value === filters.status }, value.replace("_", " "))),
  );
  const tool = h("select", { name: "tool", "aria-label": "Tool" }, h("option", { value: "" }, "Any tool"));
  const text = h("input", {
    type: "search",
    name: "q",
    placeholder: "Run id or name",
    "aria-label": "Search runs",
    value: filters.q,
  });
  const applyFilters = () => {
    const next = { status: status.value, tool: tool.value, q: text.value.trim() };
    // The address keeps the filters (for a link to this view) without reloading the page.
    history.replaceState(null, "", addressOf(next));
    Object.assign(filters, next);
    void refreshNow();
  };
  status.addEventListener("change", applyFilters);
  tool.addEventListener("change", applyFilters);
  text.addEventListener("input", applyFilters);
  show(
    view,
    approvals,
    h("h1", {}, "Runs"),
    h("form", { class: "filters", role: "search", onSubmit: (event) => event.preventDefault() }, status, tool, text),
    h(
      "table",
      { class: "runs" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Run", "Status", "Calls", "Failed", "Wall time", "Sum of durations", "Speedup", "Started"].map((title) =>
            h("th", {}, title),
          ),
        ),
      ),
      table,
    ),
  );
  // The tool filter offers the tools this server has and the ones its history knows.
  void getJson("/api/tools").then(({ tools, otherTools }) => {
    const names = [...tools.map((/** @type {any} */ each) => each.name), ...Object.keys(otherTools)].sort();
    tool.append(...names.map((name) => h("option", { value: name, selected: name === filters.tool }, name)));
  });
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const refresh = async () => {
    try {
      const query = new URLSearchParams({ limit: "100" });
      if (filters.status !== "") query.set("status", filters.status);
      if (filters.tool !== "") query.set("tool", filters.tool);
      const [{ runs }, waiting] = await Promise.all([
        getJson(`/api/runs?${query.toString()}`),
        getJson("/api/approvals?pending=true"),
      ]);
      if (stopped) return;
      const needle = filters.q.toLowerCase();
      const shown = runs.filter(
        (/** @type {any} */ run) =>
          needle === "" || `${run.runId} ${run.options?.name ?? ""}`.toLowerCase().includes(needle),
      );
      const filtered = filters.status !== "" || filters.tool !== "" || needle !== "";
      show(
        approvals,
        waitingList(waiting.approvals, () => void refreshNow()),
      );
      show(
        table,
        shown.length === 0
          ? h(
              "tr",
              {},
              h(
                "td",
                { colspan: 8, class: "muted" },
                filtered ? "No runs match." : "No runs yet. Start one with POST /api/runs or `volley run`.",
              ),
            )
          : null,
        shown.map((/** @type {any} */ run) =>
          h(
            "tr",
            { "data-run-id": run.runId, "data-status": run.status, "data-outcome": outcomeOf(run) },
            h(
              "td",
              {},
              h("a", { href: `#/runs/${encodeURIComponent(run.runId)}` }, run.runId),
              typeof run.options?.name === "string" ? h("div", { class: "run-name" }, run.options.name) : null,
            ),
            h("td", {}, h("span", { class: `status status-${run.status} outcome-${outcomeOf(run)}` }, statusText(run))),
            h("td", { class: "number" }, run.stats?.calls ?? run.calls),
            h("td", { class: "number" }, run.stats === undefined ? "–" : String(run.stats.failed)),
            h("td", { class: "number" }, formatMs(run.stats?.wallMs)),
            h("td", { class: "number" }, formatMs(run.stats?.sumMs)),
            h("td", { class: "number" }, formatSpeedup(run.stats?.speedup)),
            h("td", {}, formatTime(run.startedAt)),
          ),
        ),
      );
    } finally {
      if (!stopped) timer = setTimeout(refresh, REFRESH_MS);
    }
  };
  const refreshNow = () => {
    clearTimeout(timer);
    return refresh();
  };
  void refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * How a run went, beyond its status: a run that completed with failed calls did not go well.
 * @param {any} run
 * @returns {"ok" | "partial" | "failed" | "unknown"}
 */
function outcomeOf(run) {
  const stats = run.stats;
  if (stats === undefined || stats === null) return "unknown";
  if (stats.failed === 0) return "ok";
  return stats.failed >= stats.calls ? "failed" : "partial";
}

/**
 * The status as words, with the failures of a run that completed.
 * @param {any} run
 */
function statusText(run) {
  const words = String(run.status).replace("_", " ");
  const failed = run.stats?.failed ?? 0;
  if (run.status !== "completed" || failed === 0) return words;
  return failed >= run.stats.calls ? `completed, all ${failed} failed` : `completed, ${failed} failed`;
}

/**
 * Calls waiting for a person, each linked to its run, where it can be approved or denied. A call
 * of another process is decided here through the history: a live process applies the decision
 * within a second, and one that stopped finds it when its conversation resumes.
 * @param {any[]} waiting
 * @param {() => void} decided
 */
function waitingList(waiting, decided) {
  /** @param {any} approval @param {boolean} approved */
  const decide = async (approval, approved) => {
    await postJson(
      `/api/runs/${encodeURIComponent(approval.runId)}/calls/${encodeURIComponent(approval.callId)}/approval`,
      { approved },
    );
    decided();
  };
  if (waiting.length === 0) return null;
  return [
    h("h2", {}, `Waiting for approval (${waiting.length})`),
    h(
      "ul",
      {},
      waiting.map((approval) =>
        h(
          "li",
          { "data-approval": `${approval.runId}/${approval.callId}` },
          h("a", { href: `#/runs/${encodeURIComponent(approval.runId)}` }, `${approval.name} · ${approval.callId}`),
          " ",
          h("code", {}, JSON.stringify(approval.args).slice(0, 120)),
          approval.live
            ? null
            : [
                h(
                  "span",
                  { class: "muted" },
                  approval.runStatus === "running"
                    ? " (waiting in another process: the decision reaches it there) "
                    : ` (run ${approval.runStatus.replace("_", " ")}: the decision is kept for when its conversation resumes) `,
                ),
                h(
                  "button",
                  { type: "button", "data-action": "approve", onClick: () => void decide(approval, true) },
                  "Approve",
                ),
                h(
                  "button",
                  { type: "button", class: "deny", "data-action": "deny", onClick: () => void decide(approval, false) },
                  "Deny",
                ),
              ],
        ),
      ),
    ),
  ];
}
