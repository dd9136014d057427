import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { SqliteRunStore } from "../store/sqlite-run-store.ts";
import { CliError } from "./cli-error.ts";
import { formatMs, plural } from "./format.ts";
import { findConfig, historyPathOf, readConfig } from "./load-config.ts";

export interface StatsCommandOptions {
  configPath: string | undefined;
  cwd: string;
  /** Only calls that ended in the last this many ms. */
  sinceMs: number | undefined;
  json: boolean;
  stdout: NodeJS.WriteStream;
}

/** `volley stats`: per-tool figures from the history, and the speedup of recent runs. */
export async function statsCommand(options: StatsCommandOptions): Promise<number> {
  // The history's location is all that is needed: no tool modules loaded, no servers started.
  const path = findConfig(options.configPath, options.cwd);
  const historyPath = historyPathOf(
    path === undefined ? {} : await readConfig(path),
    path === undefined ? options.cwd : dirname(path),
  );
  if (historyPath === undefined) throw new CliError('This config keeps no history ("history": false)');
  if (!existsSync(historyPath))
    throw new CliError(`No history yet at ${historyPath}: run some calls with volley run or volley serve first`);
  const store = new SqliteRunStore({ path: historyPath });
  try {
    const window = options.sinceMs === undefined ? {} : { since: Date.now() - options.sinceMs };
    const [tools, speedups] = await Promise.all([store.toolStats(window), store.speedupHistory(window)]);
    if (options.json) {
      options.stdout.write(`${JSON.stringify({ tools, runs: speedups.length, speedups }, null, 2)}\n`);
      return 0;
    }
    const header = ["tool", "calls", "failed", "retries", "cached", "p50", "p95", "p99"];
    const rows = Object.entries(tools)
      .sort(([, a], [, b]) => b.calls - a.calls)
      .map(([name, figures]) => [
        name,
        String(figures.calls),
        `${((figures.failures / figures.calls) * 100).toFixed(1)}%`,
        String(figures.retries),
        String(figures.cached),
        formatMs(figures.p50Ms),
        formatMs(figures.p95Ms),
        formatMs(figures.p99Ms),
      ]);
    const widths = header.map((title, column) =>
      Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
    );
    const line = (cells: string[]) =>
      cells
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
        .join("  ");
    const out = [line(header), ...rows.map(line)];
    if (rows.length === 0) out.push("(no calls in the history yet)");
    const sorted = speedups
      .map((run) => run.speedup)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    if (sorted.length > 0) {
      const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
      out.push(
        "",
        `${plural(sorted.length, "run")} · median speedup ${median.toFixed(2)}× · best ${(sorted.at(-1) ?? 0).toFixed(2)}×`,
      );
    }
    options.stdout.write(`${out.join("\n")}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
