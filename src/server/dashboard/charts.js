// @ts-check
// Small SVG charts for the tools page.
import { s } from "./dom.js";
import { ticksUpTo } from "./scale.js";

/**
 * Horizontal bars, one group per item, one bar per series, over an axis with its ticks and label.
 * @param {{ label: string, values: number[] }[]} items
 * @param {{ series: string[], format: (value: number) => string, axis: string, max?: number, width?: number }} options
 */
export function barChart(items, { series, format, axis, max: fixedMax, width = 760 }) {
  const labelWidth = 260;
  const barHeight = 12;
  const groupHeight = series.length * (barHeight + 2) + 10;
  const highest = items.reduce(
    (most, item) => item.values.reduce((itemMost, value) => Math.max(itemMost, value), most),
    0,
  );
  const ticks = ticksUpTo(fixedMax ?? (highest || 1));
  const max = ticks.at(-1) ?? 1;
  const plotWidth = width - labelWidth - 90;
  const scale = (/** @type {number} */ value) => (value / max) * plotWidth;
  const plotHeight = items.length * groupHeight;
  const height = plotHeight + 44;
  return s(
    "svg",
    { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": axis },
    ticks.map((tick) =>
      s(
        "g",
        { class: "axis" },
        s("line", { class: "tick", x1: labelWidth + scale(tick), x2: labelWidth + scale(tick), y1: 0, y2: plotHeight }),
        s(
          "text",
          { class: "tick-label", x: labelWidth + scale(tick), y: plotHeight + 14, "text-anchor": "middle" },
          format(tick),
        ),
      ),
    ),
    s(
      "text",
      { class: "axis-label", x: labelWidth + plotWidth / 2, y: plotHeight + 34, "text-anchor": "middle" },
      axis,
    ),
    items.map((item, index) => {
      const top = index * groupHeight;
      return s(
        "g",
        {},
        s(
          "text",
          { class: "chart-label", x: 4, y: top + barHeight },
          item.label.length > 40 ? `${item.label.slice(0, 39)}…` : item.label,
        ),
        item.values.map((value, seriesIndex) => {
          const y = top + seriesIndex * (barHeight + 2);
          return s(
            "g",
            {},
            s("rect", {
              class: `series-${seriesIndex}`,
              x: labelWidth,
              y,
              width: Math.max(scale(value), 1),
              height: barHeight,
            }),
            s(
              "text",
              { class: "chart-value", x: labelWidth + Math.max(scale(value), 1) + 4, y: y + barHeight - 2 },
              `${series[seriesIndex] ?? ""} ${format(value)}`,
            ),
          );
        }),
      );
    }),
  );
}

/**
 * A line over points in order, over a y axis with ticks and both axes labelled.
 * @param {number[]} values
 * @param {{ format: (value: number) => string, xAxis: string, yAxis: string, width?: number, height?: number }} options
 */
export function lineChart(values, { format, xAxis, yAxis, width = 640, height = 180 }) {
  if (values.length === 0)
    return s(
      "svg",
      { class: "chart", width, height: 24 },
      s("text", { class: "chart-label", x: 0, y: 16 }, "No runs yet."),
    );
  const left = 64;
  const bottom = 36;
  const ticks = ticksUpTo(values.reduce((most, value) => Math.max(most, value), 1));
  const max = ticks.at(-1) ?? 1;
  const x = (/** @type {number} */ index) =>
    left + (values.length === 1 ? 0 : (index / (values.length - 1)) * (width - left - 8));
  const y = (/** @type {number} */ value) => height - bottom - (value / max) * (height - bottom - 12);
  const points = values.map((value, index) => `${x(index)},${y(value)}`).join(" ");
  return s(
    "svg",
    {
      class: "chart",
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": `${yAxis} by ${xAxis}`,
    },
    ticks.map((tick) =>
      s(
        "g",
        { class: "axis" },
        s("line", { class: "tick", x1: left, x2: width - 8, y1: y(tick), y2: y(tick) }),
        s("text", { class: "tick-label", x: left - 6, y: y(tick) + 4, "text-anchor": "end" }, format(tick)),
      ),
    ),
    s("text", { class: "axis-label", x: left + (width - left) / 2, y: height - 8, "text-anchor": "middle" }, xAxis),
    s(
      "text",
      {
        class: "axis-label",
        x: 12,
        y: (height - bottom) / 2,
        transform: `rotate(-90 12 ${(height - bottom) / 2})`,
        "text-anchor": "middle",
      },
      yAxis,
    ),
    s("polyline", { class: "line", points }),
    values.map((value, index) =>
      s("circle", { class: "point", cx: x(index), cy: y(value), r: 3 }, s("title", {}, format(value))),
    ),
  );
}
