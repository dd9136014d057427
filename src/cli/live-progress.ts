import type { RunEvent } from "../run/types.ts";
import { fit, formatMs, paint } from "./format.ts";

type State = "queued" | "approval" | "running" | "retrying" | "ok" | "failed" | "cached";

interface CallLine {
  id: string;
  name: string;
  state: State;
  since: number;
  durationMs: number | undefined;
  note: string;
}

const SYMBOL: Record<State, string> = {
  queued: "·",
  approval: "?",
  running: "▶",
  retrying: "↻",
  ok: "✓",
  failed: "✗",
  cached: "≡",
};
const COLOUR: Record<State, Parameters<typeof paint>[0]> = {
  queued: "gray",
  approval: "magenta",
  running: "cyan",
  retrying: "yellow",
  ok: "green",
  failed: "red",
  cached: "blue",
};
const REDRAW_MS = 100;

/**
 * A line per call with its state and elapsed time, redrawn in place on a terminal while the
 * run goes. Runs larger than the screen show the calls that are running and a count of the rest.
 */
export class LiveProgress {
  readonly #stream: NodeJS.WriteStream;
  readonly #lines = new Map<string, CallLine>();
  #drawnRows = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
  }

  start(): void {
    this.#timer = setInterval(() => this.#draw(), REDRAW_MS);
  }

  apply(event: RunEvent): void {
    const now = Date.now();
    switch (event.type) {
      case "call-add":
        this.#lines.set(event.callId, {
          id: event.callId,
          name: event.name,
          state: "queued",
          since: now,
          durationMs: undefined,
          note: "",
        });
        break;
      case "call-start":
        this.#update(event.callId, (line) => {
          if (line.state === "queued") line.since = now;
          line.state = "running";
          line.note = event.attempt > 1 ? `attempt ${event.attempt}` : "";
        });
        break;
      case "approval-start":
        this.#update(event.callId, (line) => {
          line.state = "approval";
          line.note = "waits for approval";
        });
        break;
      case "approval-end":
        this.#update(event.callId, (line) => {
          line.note = event.approved ? "approved" : "denied";
          if (event.approved) line.state = "queued";
        });
        break;
      case "call-retry":
        this.#update(event.callId, (line) => {
          line.state = "retrying";
          line.note = `${event.error.type}, again in ${formatMs(event.delayMs)}`;
        });
        break;
      case "call-progress":
        this.#update(event.callId, (line) => {
          line.note = event.total ? `${event.progress}/${event.total}` : String(event.progress);
        });
        break;
      case "call-end":
        this.#update(event.callId, (line) => {
          line.state = event.result.ok ? (event.result.cached ? "cached" : "ok") : "failed";
          line.durationMs = event.result.durationMs;
          line.note = event.result.error ? `${event.result.error.type}` : "";
        });
        break;
      default:
        return;
    }
  }

  /** Stops redrawing and erases the lines, so that a question is asked where they were. */
  pause(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    // Back to the first row drawn, then everything below it cleared: the block appears once, after the answer.
    if (this.#drawnRows > 0) this.#stream.write(`\x1b[${this.#drawnRows}F\x1b[J`);
    this.#drawnRows = 0;
  }

  /** Redraws again, below whatever was written meanwhile. */
  resume(): void {
    this.#drawnRows = 0;
    this.start();
  }

  /** Draws the final state and stops redrawing. */
  stop(): void {
    clearInterval(this.#timer);
    this.#draw();
  }

  #update(callId: string, change: (line: CallLine) => void): void {
    const line = this.#lines.get(callId);
    if (line !== undefined) change(line);
  }

  #draw(): void {
    const stream = this.#stream;
    const width = stream.columns || 100;
    const room = Math.max((stream.rows || 24) - 3, 3);
    const all = [...this.#lines.values()];
    let shown = all;
    let hidden = "";
    if (all.length > room) {
      const active = all.filter((line) => line.state === "running" || line.state === "retrying");
      shown = active.slice(0, room - 1);
      const counts = new Map<State, number>();
      for (const line of all) counts.set(line.state, (counts.get(line.state) ?? 0) + 1);
      hidden = [...counts].map(([state, count]) => `${count} ${state}`).join(", ");
    }
    const now = Date.now();
    const rows = shown.map((line) => {
      const elapsed = line.durationMs ?? (line.state === "queued" ? undefined : now - line.since);
      const text = `${SYMBOL[line.state]} ${line.state.padEnd(8)} ${(elapsed === undefined ? "" : formatMs(elapsed)).padStart(9)}  ${line.id}  ${line.name}${line.note ? `  (${line.note})` : ""}`;
      return paint(COLOUR[line.state], fit(text, width - 1), stream);
    });
    if (hidden) rows.push(paint("gray", fit(`${all.length} calls: ${hidden}`, width - 1), stream));
    // Back to the first row drawn last time, then each row cleared and rewritten.
    let output = this.#drawnRows > 0 ? `\x1b[${this.#drawnRows}F` : "";
    for (const row of rows) output += `\x1b[2K${row}\n`;
    for (let extra = rows.length; extra < this.#drawnRows; extra++) output += "\x1b[2K\n";
    stream.write(output);
    this.#drawnRows = Math.max(rows.length, this.#drawnRows);
  }
}
