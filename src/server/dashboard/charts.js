// @ts-check
// Small SVG charts for the tools page.
import { s } from "./dom.js";

/**
 * Horizontal bars, one group per item, one bar per series.
 * @param {{ label: string, values: number[] }[]} items
 * @param {{ series: string[], format: (value: number) => string, width?: number }} options
 */
export function barChart(items, { series, format, width = 760 }) {
  const labelWidth = 260;
  const barHeight = 12;
  const groupHeight = series.length * (barHeight + 2) + 10;
  const max =
    items.reduce((most, item) => item.values.reduce((itemMost, value) => Math.max(itemMost, value), most), 0) || 1;
  const scale = (/** @type {number} */ value) => (value / max) * (width - labelWidth - 90);
  const height = items.length * groupHeight + 24;
  return s(
    "svg",
    { class: "chart", width, height, viewBox: `0 0 ${width} ${height}` },
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
 * A line over points in order, with its last value and range noted.
 * @param {number[]} values
 * @param {{ format: (value: number) => string, width?: number, height?: number }} options
 */
export function lineChart(values, { format, width = 640, height = 160 }) {
  if (values.length === 0)
    return s(
      "svg",
      { class: "chart", width, height: 24 },
      s("text", { class: "chart-label", x: 0, y: 16 }, "No runs yet."),
    );
  const left = 48;
  const max = values.reduce((most, value) => Math.max(most, value), 1);
  const x = (/** @type {number} */ index) =>
    left + (values.length === 1 ? 0 : (index / (values.length - 1)) * (width - left - 8));
  const y = (/** @type {number} */ value) => height - 20 - (value / max) * (height - 36);
  const points = values.map((value, index) => `${x(index)},${y(value)}`).join(" ");
  return s(
    "svg",
    { class: "chart", width, height, viewBox: `0 0 ${width} ${height}` },
    s("line", { class: "tick", x1: left, x2: width - 8, y1: y(1), y2: y(1) }),
    s("text", { class: "chart-value", x: 0, y: y(1) + 4 }, format(1)),
    s("text", { class: "chart-value", x: 0, y: y(max) + 4 }, format(max)),
    s("polyline", { class: "line", points }),
    values.map((value, index) =>
      s("circle", { class: "point", cx: x(index), cy: y(value), r: 3 }, s("title", {}, format(value))),
    ),
  );
}
