import { styleText } from "node:util";

/** Milliseconds as a person reads them: `420 ms`, `1.62 s`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Text cut to `width` characters, an ellipsis marking the cut. */
export function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(width - 1, 0))}…` : text;
}

/** One line of a value (as JSON unless it is text), cut to `width` characters. */
export function oneLine(value: unknown, width: number): string {
  return fit(
    (typeof value === "string" ? value : (JSON.stringify(value) ?? String(value))).replace(/\s+/g, " "),
    width,
  );
}

type Style = Parameters<typeof styleText>[0];

/** Text styled for `stream` when it is a terminal that wants colour (NO_COLOR and FORCE_COLOR are honoured). */
export function paint(style: Style, text: string, stream: NodeJS.WriteStream): string {
  return styleText(style, text, { stream, validateStream: true });
}

/** "1 call", "3 calls": a count with its noun, in the plural where it needs one (`nouns` for an irregular one). */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count.toLocaleString("en-US")} ${count === 1 ? noun : nouns}`;
}
