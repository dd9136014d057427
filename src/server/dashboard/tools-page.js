// @ts-check
import { getJson } from "./api.js";
import { barChart, lineChart } from "./charts.js";
import { formatMs, formatSpeedup, h, show } from "./dom.js";

/**
 * A tool's setting as words: what `null` means is the executor's default, or none.
 * @param {any} tool
 */
function settingsOf(tool) {
  return [
    tool.concurrency ?? "∞",
    tool.rateLimit ? `${tool.rateLimit.limit} per ${formatMs(tool.rateLimit.intervalMs)}` : "–",
    tool.timeoutMs === null ? "executor's" : formatMs(tool.timeoutMs),
    tool.retry === null ? "executor's" : tool.retry.attempts <= 1 ? "none" : `${tool.retry.attempts} attempts`,
    tool.cache === null ? "–" : `${formatMs(tool.cache.ttlMs)}, ${tool.cache.maxEntries} entries`,
    tool.resources ? "by arguments" : "–",
    tool.approval,
    tool.idempotent ? "yes" : "no",
    tool.runsIn,
  ];
}

/**
 * Per tool: its whole configuration; calls, failures and duration percentiles from the history;
 * and the speedup of runs over time.
 * @param {HTMLElement} view
 * @returns {() => void}
 */
export function mountToolsPage(view) {
  show(view, h("h1", {}, "Tools"), h("p", { class: "muted" }, "Loading…"));
  let stopped = false;
  void (async () => {
    try {
      const [{ tools }, { runs }] = await Promise.all([getJson("/api/tools"), getJson("/api/speedup")]);
      if (stopped) return;
      const measured = tools.filter((/** @type {any} */ tool) => tool.stats !== null);
      show(
        view,
        h("h1", {}, "Tools"),
        h("h2", {}, "Configuration"),
        h(
          "table",
          { class: "tool-settings" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              [
                "Tool",
                "Concurrency",
                "Rate limit",
                "Timeout",
                "Retries",
                "Cache",
                "Resource locks",
                "Approval",
                "Idempotent",
                "Runs in",
              ].map((title) => h("th", {}, title)),
            ),
          ),
          h(
            "tbody",
            {},
            tools.map((/** @type {any} */ tool) =>
              h(
                "tr",
                { "data-tool-settings": tool.name },
                h("td", { title: tool.description ?? "" }, tool.name),
                settingsOf(tool).map((value) => h("td", {}, value)),
              ),
            ),
          ),
        ),
        h("h2", {}, "Calls in the history"),
        h(
          "table",
          { class: "tools" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Tool", "Calls", "Failure rate", "Retries", "Cache hits", "p50", "p95", "p99"].map((title) =>
                h("th", {}, title),
              ),
            ),
          ),
          h(
            "tbody",
            {},
            tools.map((/** @type {any} */ tool) =>
              h(
                "tr",
                { "data-tool": tool.name },
                h("td", { title: tool.description ?? "" }, tool.name),
                h("td", { class: "number" }, tool.stats?.calls ?? 0),
                h(
                  "td",
                  { class: "number" },
                  tool.stats ? `${((tool.stats.failures / tool.stats.calls) * 100).toFixed(1)}%` : "–",
                ),
                h("td", { class: "number" }, tool.stats?.retries ?? 0),
                h("td", { class: "number" }, tool.stats?.cached ?? 0),
                h("td", { class: "number" }, formatMs(tool.stats?.p50Ms)),
                h("td", { class: "number" }, formatMs(tool.stats?.p95Ms)),
                h("td", { class: "number" }, formatMs(tool.stats?.p99Ms)),
              ),
            ),
          ),
        ),
        h("h2", {}, "Duration percentiles"),
        measured.length === 0
          ? h("p", { class: "muted" }, "No calls in the history yet.")
          : barChart(
              measured.map((/** @type {any} */ tool) => ({
                label: tool.name,
                values: [tool.stats.p50Ms, tool.stats.p95Ms, tool.stats.p99Ms],
              })),
              { series: ["p50", "p95", "p99"], format: formatMs, axis: "duration of a call" },
            ),
        h("h2", {}, "Failure rate"),
        measured.length === 0
          ? h("p", { class: "muted" }, "No calls in the history yet.")
          : barChart(
              measured.map((/** @type {any} */ tool) => ({
                label: tool.name,
                values: [(tool.stats.failures / tool.stats.calls) * 100],
              })),
              { series: [""], format: (value) => `${value.toFixed(1)}%`, axis: "calls that failed", max: 100 },
            ),
        h("h2", {}, "Speedup of each run, oldest first"),
        h(
          "div",
          { "data-chart": "speedup" },
          lineChart(
            runs.map((/** @type {any} */ run) => run.speedup),
            { format: formatSpeedup, xAxis: "runs, oldest to newest", yAxis: "speedup" },
          ),
        ),
      );
    } catch (error) {
      if (!stopped)
        show(
          view,
          h("h1", {}, "Tools"),
          h("p", { class: "error" }, error instanceof Error ? error.message : String(error)),
        );
    }
  })();
  return () => {
    stopped = true;
  };
}
