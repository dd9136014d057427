import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createExecutor, defineTool } from "volley";
import { SqliteRunStore, type HistoryWrite, type RunStore } from "volley/store";
import { median } from "./random.ts";

export interface HistoryFigures {
  calls: number;
  /** Median ms of the run alone. */
  withoutHistoryMs: number;
  withHistoryMs: number;
  /** With history, until every record is in the file (`executor.flush()`). */
  withHistoryWrittenMs: number;
  /** `withHistoryMs / withoutHistoryMs`: what recording costs the run itself. */
  runRatio: number;
  /** `withHistoryWrittenMs / withoutHistoryMs`: the same, counting the writing too. */
  writtenRatio: number;
  /** Records per run: the run, its calls and its events. */
  recordsPerRun: number;
  /** Records the SQLite store writes per second of its own time. */
  recordsPerSecond: number;
}

/** Makes a store time its own writes and count what it writes. */
function timeWrites(store: RunStore): { spentMs: () => number; records: () => number } {
  let spentMs = 0;
  let records = 0;
  const write = store.write.bind(store);
  store.write = async (batch: readonly HistoryWrite[]) => {
    const started = performance.now();
    await write(batch);
    spentMs += performance.now() - started;
    records += batch.length;
  };
  return { spentMs: () => spentMs, records: () => records };
}

/** A 10k-call run with SQLite history on, against the same run with it off. */
export async function measureHistory(calls: number, rounds: number): Promise<HistoryFigures> {
  const folder = mkdtempSync(join(tmpdir(), "volley-bench-"));
  try {
    const sqlite = new SqliteRunStore({ path: join(folder, "history.db") });
    const timed = timeWrites(sqlite);
    const tool = defineTool({ name: "noop", execute: () => Promise.resolve(undefined) });
    const without = createExecutor({ tools: [tool], maxConcurrency: 16 });
    const withHistory = createExecutor({ tools: [tool], maxConcurrency: 16, history: sqlite });
    const batch = Array.from({ length: calls }, () => ({ name: "noop" }));
    const off: number[] = [];
    const on: number[] = [];
    const written: number[] = [];
    for (let round = 0; round < rounds + 1; round++) {
      let started = performance.now();
      await without.run(batch);
      const offMs = performance.now() - started;
      started = performance.now();
      await withHistory.run(batch);
      const onMs = performance.now() - started;
      await withHistory.flush();
      const writtenMs = performance.now() - started;
      if (round === 0) continue; // warm-up
      off.push(offMs);
      on.push(onMs);
      written.push(writtenMs);
    }
    await sqlite.close();
    const withoutHistoryMs = median(off);
    return {
      calls,
      withoutHistoryMs,
      withHistoryMs: median(on),
      withHistoryWrittenMs: median(written),
      runRatio: median(on) / withoutHistoryMs,
      writtenRatio: median(written) / withoutHistoryMs,
      recordsPerRun: timed.records() / (rounds + 1),
      recordsPerSecond: timed.records() / (timed.spentMs() / 1000),
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
