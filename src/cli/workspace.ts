import { createExecutor } from "../executor/create-executor.ts";
import type { Executor, ExecutorOptions } from "../executor/executor-types.ts";
import type { Backend } from "../backend/backend.ts";
import type { bullmqBackend as BullmqBackend } from "../bullmq/bullmq-backend.ts";
import { SqliteRunStore } from "../store/sqlite-run-store.ts";
import { CliError } from "./cli-error.ts";
import { findConfig, loadConfig, type LoadedConfig } from "./load-config.ts";
import { redisConnectionOf } from "./redis-url.ts";

/** What every command that runs tools works with: the config's tools, an executor over them (running them here, or on workers), the history. */
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
  /** Send calls to `volley worker` processes through this Redis (--redis), over the config's `bullmq.redis`. */
  redisUrl?: string | undefined;
  /** Their Redis key prefix (--prefix), over the config's `bullmq.prefix`. */
  prefix?: string | undefined;
}

/** The BullMQ backend, when the command line or the config sends calls to workers. */
async function workersBackend(options: WorkspaceOptions, config: LoadedConfig): Promise<Backend | undefined> {
  const url = options.redisUrl ?? config.bullmq?.redis;
  if (url === undefined) return undefined;
  const connection = redisConnectionOf(
    url,
    options.redisUrl !== undefined ? "--redis" : `${config.path ?? "the config"}: "bullmq.redis"`,
  );
  let bullmqBackend: typeof BullmqBackend;
  try {
    ({ bullmqBackend } = await import("../bullmq/bullmq-backend.ts"));
  } catch {
    throw new CliError("Sending calls to workers needs BullMQ: npm install bullmq ioredis");
  }
  const prefix = options.prefix ?? config.bullmq?.prefix;
  return bullmqBackend({ connection, ...(prefix !== undefined ? { prefix } : {}) });
}

export async function openWorkspace(options: WorkspaceOptions): Promise<Workspace> {
  const path = findConfig(options.configPath, options.cwd);
  if (path === undefined && options.needsTools !== false) {
    throw new CliError(
      "No volley.config.json (or .ts, .js) here: pass --config <file>, or write one that names your tool modules and MCP servers",
    );
  }
  const config = await loadConfig(path, options.cwd);
  if (config.tools.length === 0 && options.needsTools !== false) {
    await config.close();
    throw new CliError(
      `${path ?? "The config"} names no tools: add tool modules to "tools" or servers to "mcpServers"`,
    );
  }
  const store = config.historyPath === undefined ? undefined : new SqliteRunStore({ path: config.historyPath });
  const maxConcurrency = options.maxConcurrency ?? config.maxConcurrency;
  const timeoutMs = options.callTimeoutMs ?? config.timeoutMs;
  let executor: Executor;
  let backend: Backend | undefined;
  try {
    backend = await workersBackend(options, config);
    executor = createExecutor({
      tools: config.tools,
      ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
      ...(options.parallel === false
        ? { parallel: false }
        : config.parallel !== undefined
          ? { parallel: config.parallel }
          : {}),
      ...(config.retry !== undefined ? { retry: config.retry } : {}),
      ...(config.order !== undefined ? { order: config.order } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(store ? { history: store } : {}),
      ...(options.approve ? { approve: options.approve } : {}),
      ...(backend ? { backend } : {}),
    });
    await executor.ready;
    // An MCP server's new tool list reaches the executor: calls from now on see it.
    const following = executor;
    config.onToolsChange((tools) => following.setTools(tools));
  } catch (error) {
    await backend?.close();
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
      await backend?.close();
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
