import { createExecutor, type Executor, type ExecutorOptions } from "../executor/create-executor.ts";
import { SqliteRunStore } from "../store/sqlite-run-store.ts";
import { CliError } from "./cli-error.ts";
import { findConfig, loadConfig, type LoadedConfig } from "./load-config.ts";

/** What every command that runs tools works with: the config's tools, an executor over them, the history. */
export interface Workspace {
  config: LoadedConfig;
  executor: Executor;
  store: SqliteRunStore | undefined;
  /** Waits for the history to be written, then closes it and every MCP server. */
  close(): Promise<void>;
}

export interface WorkspaceOptions {
  configPath: string | undefined;
  cwd: string;
  maxConcurrency?: number | undefined;
  parallel?: boolean | undefined;
  callTimeoutMs?: number | undefined;
  /** Whether a command without tools is a mistake. @default true */
  needsTools?: boolean;
  /** Decides calls that need approval; without it they wait for `run.approve` / `run.deny`. */
  approve?: ExecutorOptions["approve"];
}

export async function openWorkspace(options: WorkspaceOptions): Promise<Workspace> {
  const path = findConfig(options.configPath, options.cwd);
  if (path === undefined && options.needsTools !== false) {
    throw new CliError("No volley.config.json (or .ts, .js) here: pass --config <file>, or write one that names your tool modules and MCP servers");
  }
  const config = await loadConfig(path, options.cwd);
  if (config.tools.length === 0 && options.needsTools !== false) {
    await config.close();
    throw new CliError(`${path ?? "The config"} names no tools: add tool modules to "tools" or servers to "mcpServers"`);
  }
  const store = config.historyPath === undefined ? undefined : new SqliteRunStore({ path: config.historyPath });
  const maxConcurrency = options.maxConcurrency ?? config.maxConcurrency;
  const timeoutMs = options.callTimeoutMs ?? config.timeoutMs;
  let executor: Executor;
  try {
    executor = createExecutor({
      tools: config.tools,
      ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
      ...(options.parallel === false ? { parallel: false } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(store ? { history: store } : {}),
      ...(options.approve ? { approve: options.approve } : {}),
    });
    await executor.ready;
  } catch (error) {
    await config.close();
    await store?.close();
    throw error instanceof Error ? new CliError(error.message, { cause: error }) : error;
  }
  return {
    config,
    executor,
    store,
    close: async () => {
      await executor.flush();
      await store?.close();
      await config.close();
    },
  };
}

/** How a command settles approvals: all approved (`--yes`), asked at the terminal, or denied for want of anyone to ask. */
export type ApprovalMode = "approve-all" | "ask" | "deny";

export const NO_ONE_TO_ASK = "no one at a terminal to approve it; run volley with --yes to approve every call";

/** The executor policy for a mode: `ask` leaves calls to the prompter. */
export function approvalPolicy(mode: ApprovalMode): ExecutorOptions["approve"] {
  if (mode === "approve-all") return () => true;
  if (mode === "deny") return () => ({ approved: false, reason: NO_ONE_TO_ASK });
  return undefined;
}
