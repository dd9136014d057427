import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { RunEvent, ToolResult } from "../run/types.ts";
import { LiveProgress } from "./live-progress.ts";

function terminal(rows = 30) {
  const writes: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        writes.push(chunk.toString());
        done();
      },
    }),
    { isTTY: true, columns: 100, rows, hasColors: () => false },
  ) as unknown as NodeJS.WriteStream;
  // What the screen shows after the last redraw: the rows of the last write, without the escapes.
  const screen = () =>
    (writes.at(-1) ?? "")
      .split("\n")
      .map((row) => row.replace(ESCAPE_SEQUENCE, ""))
      .filter((row) => row !== "");
  return { stream, writes, screen };
}

const ESC = "\u001b";
const ESCAPE_SEQUENCE = new RegExp(`${ESC}\\[\\d*[A-Za-z]`, "g");
const base = { runId: "r", at: 0 };
const result = (id: string, ok: boolean, extra: Partial<ToolResult> = {}): ToolResult =>
  ({
    id,
    name: "fetch",
    ok,
    attempts: 1,
    startedAt: 0,
    endedAt: 250,
    durationMs: 250,
    queuedMs: 0,
    cached: false,
    ...(ok ? { output: 1 } : { error: { type: "timeout", message: "late", retryable: true } }),
    ...extra,
  }) as ToolResult;

describe("LiveProgress", () => {
  it("shows a line per call with its state, redrawn in place", () => {
    const { stream, writes, screen } = terminal();
    const progress = new LiveProgress(stream);
    const events: RunEvent[] = [
      { ...base, type: "call-add", callId: "a", name: "fetch", dependsOn: [] },
      { ...base, type: "call-add", callId: "b", name: "fetch", dependsOn: [] },
      { ...base, type: "call-add", callId: "c", name: "fetch", dependsOn: ["a"] },
      { ...base, type: "call-start", callId: "a", name: "fetch", attempt: 1 },
      { ...base, type: "call-start", callId: "b", name: "fetch", attempt: 1 },
      { ...base, type: "call-end", callId: "a", name: "fetch", result: result("a", true) },
      {
        ...base,
        type: "call-retry",
        callId: "b",
        name: "fetch",
        attempt: 1,
        delayMs: 100,
        error: { type: "timeout", message: "late", retryable: true },
      },
    ];
    for (const event of events) progress.apply(event);
    progress.stop();
    expect(screen()).toEqual([
      expect.stringMatching(/^✓ ok\s+250 ms {2}a {2}fetch$/),
      expect.stringMatching(/^↻ retrying\s+\d+ ms {2}b {2}fetch {2}\(timeout, again in 100 ms\)$/),
      expect.stringMatching(/^· queued\s+ {2}c {2}fetch$/),
    ]);
    progress.apply({ ...base, type: "call-end", callId: "b", name: "fetch", result: result("b", false) });
    progress.stop();
    // The second drawing starts by moving back up over the three rows of the first.
    expect(writes.at(-1)).toMatch(new RegExp(`^${ESC}\\[3F`));
    expect(screen()[1]).toMatch(/^✗ failed\s+250 ms {2}b {2}fetch {2}\(timeout\)$/);
  });

  it("shows the running calls and a count of the rest when the run is larger than the screen", () => {
    const { stream, screen } = terminal(8);
    const progress = new LiveProgress(stream);
    for (let index = 0; index < 20; index++)
      progress.apply({ ...base, type: "call-add", callId: `c${index}`, name: "fetch", dependsOn: [] });
    for (let index = 0; index < 2; index++)
      progress.apply({ ...base, type: "call-start", callId: `c${index}`, name: "fetch", attempt: 1 });
    progress.stop();
    expect(screen()).toEqual([
      expect.stringMatching(/running.* c0 /),
      expect.stringMatching(/running.* c1 /),
      "20 calls: 2 running, 18 queued",
    ]);
  });

  it("erases its lines while a question is asked, and draws them once more below the answer", () => {
    const { stream, writes } = terminal();
    const progress = new LiveProgress(stream);
    progress.apply({ ...base, type: "call-add", callId: "a", name: "fetch", dependsOn: [] });
    progress.apply({ ...base, type: "call-add", callId: "b", name: "send_email", dependsOn: [] });
    progress.stop();
    progress.pause();
    // Up over the two rows drawn, and the screen cleared from there: the question takes their place.
    expect(writes.at(-1)).toBe(`${ESC}[2F${ESC}[J`);
    stream.write("? Approve send_email b  y\n");
    progress.resume();
    progress.stop();
    // Drawn afresh below the answer, not over it.
    expect(writes.at(-1)).not.toMatch(new RegExp(`^${ESC}\\[\\d+F`));
    expect(
      writes
        .at(-1)
        ?.split("\n")
        .filter((row) => row !== ""),
    ).toHaveLength(2);
  });
});
