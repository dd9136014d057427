import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { detectCalls } from "../adapters/detect-calls.ts";
import type { RunEvent, RunResult, ToolCall } from "../run/types.ts";
import { CliError } from "./cli-error.ts";
import { formatMs, oneLine, paint, plural } from "./format.ts";
import { LiveProgress } from "./live-progress.ts";
import { callsToShow, textTimeline } from "./text-timeline.ts";
import { approvalPolicy, openWorkspace, type ApprovalMode } from "./workspace.ts";
import { ApprovalPrompter } from "./approval-prompt.ts";

export interface RunCommandOptions {
  callsPath: string;
  configPath: string | undefined;
  cwd: string;
  maxConcurrency: number | undefined;
  sequential: boolean;
  /** Time limit of the whole run. */
  timeoutMs: number | undefined;
  callTimeoutMs: number | undefined;
  json: boolean;
  /** Approve every call that needs approval, without asking. */
  yes: boolean;
  /** Send the calls to `volley worker` processes through this Redis. */
  redisUrl: string | undefined;
  prefix: string | undefined;
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

/** Runs of more calls than this print no line per event when the output is not a terminal. */
const PLAIN_EVENT_CALLS = 200;

/** `volley run <calls.json>`: runs the calls with the config's tools; exit status 1 when any call failed. */
export async function runCommand(options: RunCommandOptions): Promise<number> {
  const calls = await readCalls(options.callsPath, options.cwd, options.stdin);
  const { stdout, stdin } = options;
  // Questions need a terminal to answer them on, and stdin free of the calls.
  const canAsk = stdin.isTTY === true && stdout.isTTY === true && options.callsPath !== "-";
  const approvals: ApprovalMode = options.yes ? "approve-all" : canAsk ? "ask" : "deny";
  const workspace = await openWorkspace({
    configPath: options.configPath,
    cwd: options.cwd,
    maxConcurrency: options.maxConcurrency,
    parallel: !options.sequential,
    callTimeoutMs: options.callTimeoutMs,
    approve: approvalPolicy(approvals),
    redisUrl: options.redisUrl,
    prefix: options.prefix,
  });
  const interactive = stdout.isTTY && !options.json;
  const progress = interactive ? new LiveProgress(stdout) : undefined;
  const prompter =
    approvals === "ask"
      ? new ApprovalPrompter(stdin, stdout, { before: () => progress?.pause(), after: () => progress?.resume() })
      : undefined;
  const startedAt = Date.now();
  // A line per event is readable for a few calls; a big batch prints its summary alone.
  const eventLines = !interactive && !options.json && calls.length <= PLAIN_EVENT_CALLS;
  if (!interactive && !options.json && !eventLines)
    stdout.write(`Running ${calls.length.toLocaleString("en-US")} calls…\n`);
  const onEvent = (event: RunEvent) => {
    if (event.type === "approval-start" && prompter)
      prompter.ask(
        event,
        (approved, reason) => void (approved ? run.approve(event.callId, reason) : run.deny(event.callId, reason)),
      );
    if (event.type === "approval-end") prompter?.withdraw(event.callId);
    if (progress) progress.apply(event);
    else if (eventLines) writePlainEvent(event, startedAt, stdout);
  };

  let result: RunResult;
  const interrupt = () => run.cancel("interrupted (Ctrl-C)");
  const run = workspace.executor.start({
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    onEvent,
  });
  process.once("SIGINT", interrupt);
  try {
    progress?.start();
    for (const call of calls) run.add(call);
    run.end();
    result = await run.result;
  } finally {
    progress?.stop();
    process.off("SIGINT", interrupt);
    await workspace.close();
  }

  if (options.json) stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else writeSummary(result, stdout, interactive ? stdout.columns || 100 : 120);
  return result.stats.failed > 0 || result.status !== "completed" ? 1 : 0;
}

async function readCalls(path: string, cwd: string, stdin: NodeJS.ReadStream): Promise<ToolCall[]> {
  let text: string;
  if (path === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString("utf8");
  } else {
    try {
      text = readFileSync(resolve(cwd, path), "utf8");
    } catch (error) {
      throw new CliError(
        (error as NodeJS.ErrnoException).code === "ENOENT"
          ? `Calls file not found: ${path}`
          : `Cannot read ${path}: ${(error as Error).message}`,
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path === "-" ? "Standard input" : path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return detectCalls(parsed).calls;
  } catch (error) {
    throw new CliError(`${path}: ${(error as Error).message}`);
  }
}

function writePlainEvent(event: RunEvent, startedAt: number, stdout: NodeJS.WriteStream): void {
  if (event.type !== "call-add") stdout.write(`${plainEventLine(event, startedAt)}\n`);
}

function plainEventLine(event: Exclude<RunEvent, { type: "call-add" }>, startedAt: number): string {
  const at = `+${((event.at - startedAt) / 1000).toFixed(3)}s`;
  switch (event.type) {
    case "call-start":
      return `${at} start ${event.callId} ${event.name}${event.attempt > 1 ? ` attempt ${event.attempt}` : ""}`;
    case "call-retry":
      return `${at} retry ${event.callId} ${event.name} in ${formatMs(event.delayMs)} after ${event.error.type}: ${event.error.message}`;
    case "call-progress":
      return `${at} progress ${event.callId} ${event.name} ${event.progress}${event.total ? `/${event.total}` : ""}${event.message ? ` ${event.message}` : ""}`;
    case "call-end":
      return `${at} ${event.result.ok ? "ok" : "failed"} ${event.callId} ${event.name} ${formatMs(event.result.durationMs)}${event.result.error ? ` ${event.result.error.type}` : ""}`;
    case "run-start":
      return `${at} run ${event.runId}`;
    case "run-end":
      return `${at} end ${event.result.status}`;
    case "approval-start":
      return `${at} approval? ${event.callId} ${event.name} ${JSON.stringify(event.args)}`;
    case "approval-end":
      return `${at} ${event.approved ? "approved" : "denied"} ${event.callId} ${event.name}${event.reason ? ` (${event.reason})` : ""}`;
  }
}

function writeSummary(result: RunResult, stdout: NodeJS.WriteStream, width: number): void {
  const { shown, note } = callsToShow(result.results);
  const lines: string[] = ["", paint("bold", "Results", stdout)];
  if (note !== undefined) lines.push(note);
  const idWidth = Math.min(
    shown.reduce((longest, item) => Math.max(longest, item.id.length), 2),
    24,
  );
  for (const item of shown) {
    const head = `${item.ok ? "✓" : "✗"} ${item.id.padEnd(idWidth)} ${item.name}  ${formatMs(item.durationMs)}${item.cached ? " cached" : ""}${item.attempts > 1 ? ` ${item.attempts} attempts` : ""}  `;
    const body = item.ok
      ? oneLine(item.output, Math.max(width - head.length - 1, 10))
      : oneLine(`${item.error?.type ?? "error"}: ${item.error?.message ?? ""}`, Math.max(width - head.length - 1, 10));
    lines.push(paint(item.ok ? "reset" : "red", head + body, stdout));
  }
  lines.push("", paint("bold", "Timeline", stdout), ...textTimeline(result.results, width, shown), "");
  const { stats } = result;
  lines.push(
    `${plural(stats.calls, "call")}: ${stats.succeeded.toLocaleString("en-US")} ok, ${stats.failed.toLocaleString("en-US")} failed${stats.cached ? `, ${stats.cached} cached` : ""}${stats.retries ? `, ${plural(stats.retries, "retry", "retries")}` : ""}${result.status === "completed" ? "" : ` (run ${result.status.replace("_", " ")})`}`,
    `wall ${formatMs(stats.wallMs)} · sum of durations ${formatMs(stats.sumMs)}${stats.speedup === null ? "" : ` · ${paint("bold", `speedup ${stats.speedup.toFixed(2)}×`, stdout)}`} · critical path ${formatMs(stats.criticalPathMs)} · at most ${stats.maxInFlight} at once`,
  );
  stdout.write(`${lines.join("\n")}\n`);
}
