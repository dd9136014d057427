// @ts-check
import { getJson } from "./api.js";
import { barChart, lineChart } from "./charts.js";
import { formatMs, formatSpeedup, h, show } from "./dom.js";

/**
 * Per tool: limits, duration percentiles and failure rates from the history; and the speedup of runs over time.
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
        h(
          "table",
          { class: "tools" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Tool", "Concurrency", "Calls", "Failure rate", "Retries", "Cache hits", "p50", "p95", "p99"].map(
                (title) => h("th", {}, title),
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
                h("td", { class: "number" }, tool.concurrency ?? "∞"),
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
              { series: ["p50", "p95", "p99"], format: formatMs },
            ),
        h("h2", {}, "Failure rate"),
        measured.length === 0
          ? h("p", { class: "muted" }, "No calls in the history yet.")
          : barChart(
              measured.map((/** @type {any} */ tool) => ({
                label: tool.name,
                values: [(tool.stats.failures / tool.stats.calls) * 100],
              })),
              { series: [""], format: (value) => `${value.toFixed(1)}%` },
            ),
        h("h2", {}, "Speedup of each run, oldest first"),
        h(
          "div",
          { "data-chart": "speedup" },
          lineChart(
            runs.map((/** @type {any} */ run) => run.speedup),
            { format: formatSpeedup },
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
