// @ts-check
// The centre of the dashboard: one bar per call on a shared time axis, so parallelism is seen.
import { formatMs, s } from "./dom.js";

const ROW_HEIGHT = 24;
const BAR_HEIGHT = 14;
const LABEL_WIDTH = 200;
const AXIS_HEIGHT = 24;

/**
 * @typedef {import("./run-model.js").RunModel} RunModel
 * @typedef {import("./run-model.js").CallView} CallView
 */

/**
 * Draws the run as an SVG: queued time faint, then the call's bar coloured by its state, retry
 * marks where attempts failed. The selected call's dependencies and dependents are joined to it.
 * @param {RunModel} model
 * @param {{ now: number, width: number, selectedId: string | undefined, onSelect: (callId: string) => void }} view
 */
export function drawTimeline(model, { now, width, selectedId, onSelect }) {
  const calls = model.ordered();
  // Folds, not Math.min(...spread): a spread of a 200,000-call run overflows the stack.
  const start = model.startedAt ?? calls.reduce((earliest, call) => Math.min(earliest, call.addedAt), now);
  const end = calls.reduce(
    (latest, call) => Math.max(latest, call.endedAt ?? now),
    Math.max(model.endedAt ?? now, start + 1),
  );
  // On a narrow screen the labels give up room to the bars, down to a third of the width.
  const labelWidth = Math.min(LABEL_WIDTH, Math.round(width / 3));
  const chartWidth = Math.max(width - labelWidth - 16, 100);
  const x = (/** @type {number} */ at) => labelWidth + ((at - start) / (end - start)) * chartWidth;
  const height = AXIS_HEIGHT + calls.length * ROW_HEIGHT + 8;
  const rowOf = new Map(calls.map((call, row) => [call.id, row]));
  const barY = (/** @type {number} */ row) => AXIS_HEIGHT + row * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2;

  const selected = selectedId === undefined ? undefined : model.calls.get(selectedId);
  const related = new Set(
    selected === undefined ? [] : [...selected.dependsOn, ...model.dependentsOf(selected.id).map((call) => call.id)],
  );

  const rows = calls.map((call, row) => {
    const y = barY(row);
    const queuedEnd = call.startedAt ?? call.endedAt ?? now;
    const barStart = call.startedAt ?? queuedEnd;
    const barEnd = call.endedAt ?? now;
    const classes = ["row", call.id === selectedId ? "selected" : "", related.has(call.id) ? "related" : ""]
      .join(" ")
      .trim();
    return s(
      "g",
      { class: classes, "data-call-id": call.id, "data-state": call.state, onClick: () => onSelect(call.id) },
      s("rect", {
        class: "row-hit",
        x: 0,
        y: AXIS_HEIGHT + row * ROW_HEIGHT,
        width: labelWidth + chartWidth,
        height: ROW_HEIGHT,
      }),
      s(
        "text",
        { class: "label", x: 8, y: y + BAR_HEIGHT - 3 },
        truncate(`${call.name} · ${call.id}`, Math.floor(labelWidth / 6.5)),
      ),
      queuedEnd > call.addedAt
        ? s("rect", {
            class: "queued",
            x: x(call.addedAt),
            y: y + 4,
            width: Math.max(x(queuedEnd) - x(call.addedAt), 0),
            height: BAR_HEIGHT - 8,
          })
        : null,
      call.approvalWait
        ? s("rect", {
            class: "awaiting-approval",
            x: x(call.approvalWait.from),
            y: y + 2,
            width: Math.max(x(call.approvalWait.to ?? call.endedAt ?? now) - x(call.approvalWait.from), 2),
            height: BAR_HEIGHT - 4,
          })
        : null,
      call.state === "queued" || call.state === "approval"
        ? null
        : s("rect", {
            class: `bar state-${call.state}`,
            x: x(barStart),
            y,
            width: Math.max(x(barEnd) - x(barStart), 2),
            height: BAR_HEIGHT,
            rx: 2,
          }),
      call.retries.map((retry) =>
        s("line", { class: "retry-mark", x1: x(retry.at), x2: x(retry.at), y1: y - 2, y2: y + BAR_HEIGHT + 2 }),
      ),
      s(
        "title",
        {},
        `${call.name} (${call.id}): ${call.state}${call.endedAt !== undefined && call.startedAt !== undefined ? `, ${formatMs(call.endedAt - call.startedAt)}` : ""}`,
      ),
    );
  });

  // Arrows from each dependency's end to the selected call's start, and from it to its dependents.
  const links = [];
  if (selected !== undefined) {
    const pairs = [
      ...selected.dependsOn.map((id) => [model.calls.get(id), selected]),
      ...model.dependentsOf(selected.id).map((dependent) => [selected, dependent]),
    ];
    for (const [from, to] of pairs) {
      if (from === undefined || to === undefined) continue;
      const fromRow = rowOf.get(from.id) ?? 0;
      const toRow = rowOf.get(to.id) ?? 0;
      const x1 = x(from.endedAt ?? now);
      const x2 = x(to.startedAt ?? to.endedAt ?? now);
      links.push(
        s("path", {
          class: "dependency",
          d: `M ${x1} ${barY(fromRow) + BAR_HEIGHT / 2} C ${x1 + 12} ${barY(fromRow) + BAR_HEIGHT / 2}, ${x2 - 12} ${barY(toRow) + BAR_HEIGHT / 2}, ${x2} ${barY(toRow) + BAR_HEIGHT / 2}`,
        }),
      );
    }
  }

  return s(
    "svg",
    {
      class: "timeline",
      width: labelWidth + chartWidth + 16,
      height,
      viewBox: `0 0 ${labelWidth + chartWidth + 16} ${height}`,
      role: "img",
      "aria-label": `Timeline of ${calls.length} calls`,
    },
    axis(start, end, x, height),
    rows,
    links,
  );
}

/**
 * @param {number} start
 * @param {number} end
 * @param {(at: number) => number} x
 * @param {number} height
 */
function axis(start, end, x, height) {
  const span = end - start;
  const step = niceStep(span / 8);
  const ticks = [];
  for (let offset = 0; offset <= span; offset += step) {
    ticks.push(
      s("line", { class: "tick", x1: x(start + offset), x2: x(start + offset), y1: AXIS_HEIGHT - 4, y2: height }),
      s("text", { class: "tick-label", x: x(start + offset) + 3, y: AXIS_HEIGHT - 8 }, formatMs(offset)),
    );
  }
  return s("g", { class: "axis" }, ticks);
}

/** @param {number} rough */
function niceStep(rough) {
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 0.001)));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= rough) return factor * power;
  return 10 * power;
}

/**
 * @param {string} text
 * @param {number} max
 */
function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
