import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describeValue, keysOf, unknownKeyMessage } from "../errors/volley-error.ts";
import type { McpServerSource } from "../mcp/mcp-connection.ts";
import type { mcpTools as McpTools, McpToolSet, McpToolsOptions } from "../mcp/mcp-tools.ts";
import { DEFAULT_DATABASE_PATH } from "../store/sqlite-run-store.ts";
import {
  exportedTools,
  isTool,
  TOOL_OPTION_KEYS,
  withToolOptions,
  type Tool,
  type ToolOptions,
} from "../tool/define-tool.ts";
import type { RetryPolicy } from "../tool/retry-policy.ts";
import { closestName } from "../shared/closest-name.ts";
import { checkAgentConfig, type AgentConfig } from "./agent-config.ts";
import { CliError } from "./cli-error.ts";

/** An MCP server whose tools Volley runs: a command it starts (stdio) or a URL (Streamable HTTP). */
export type McpServerConfig = (
  | { command: string; args?: string[]; env?: Record<string, string>; cwd?: string }
  | { url: string; headers?: Record<string, string> }
) &
  Pick<McpToolsOptions, "prefix" | "hints" | "tools" | "connectTimeoutMs">;

/** What `volley.config.json` (or the default export of `volley.config.ts` / `.js`) holds. */
export interface VolleyConfig {
  /** Modules whose exported tools (made by `defineTool`, alone or in arrays) are loaded, relative to the config file; a JS/TS config may also list tools themselves. */
  tools?: (string | Tool)[];
  /** MCP servers by name; their tools join the others. */
  mcpServers?: Record<string, McpServerConfig>;
  /** Most calls running at once. @default 16 */
  maxConcurrency?: number;
  /** Time limit of each attempt of a call, in ms, unless its tool sets one. @default none */
  timeoutMs?: number;
  /** `false` runs each run's calls one at a time, in the order given. @default true */
  parallel?: boolean;
  /** Retries of retryable failures, for tools that set none. @default 3 attempts, exponential back-off */
  retry?: RetryPolicy;
  /** Which ready call starts first when a limit binds: the longest remaining path, or arrival order. @default "critical-path" */
  order?: "critical-path" | "fifo";
  /** Per tool, by name (MCP tools with their prefix): limits, retries, cache and approval over the tool's own. @default none */
  toolOptions?: Record<string, ToolOptions>;
  /** The history file, relative to the config file; `false` keeps no history. @default ".volley/volley.db" */
  history?: string | false;
  /** Send every call to `volley worker` processes through this Redis, instead of running tools in this process; `volley worker` reads it too. @default none: tools run here */
  bullmq?: BullmqConfig;
  /** The agent over these tools: its model endpoint, prompt, mode and limits. `volley serve` serves it; `volley agent` uses it. @default none */
  agent?: AgentConfig;
}

/** Where `volley run` and `volley serve` send calls, and where `volley worker` takes them from. */
export interface BullmqConfig {
  /** A `redis://user:password@host:port/db` URL. */
  redis: string;
  /** Redis key prefix; callers and workers must agree. @default "volley" */
  prefix?: string;
}

/** Declares a config with its types checked; returns it as it is. */
export function defineConfig(config: VolleyConfig): VolleyConfig {
  return config;
}

export interface LoadedConfig {
  /** The config file, or undefined when none was found and none was needed. */
  path: string | undefined;
  tools: Tool[];
  maxConcurrency: number | undefined;
  timeoutMs: number | undefined;
  parallel: boolean | undefined;
  retry: RetryPolicy | undefined;
  order: "critical-path" | "fifo" | undefined;
  /** Absolute path of the history file, or undefined for none. */
  historyPath: string | undefined;
  /** Where calls go to workers, if anywhere. */
  bullmq: BullmqConfig | undefined;
  /** The agent the config describes, if any. */
  agent: AgentConfig | undefined;
  /**
   * Calls `listener` with the whole tool list (the config's options applied) whenever an MCP
   * server's list changes, so that an executor can follow (`executor.setTools`). A change that
   * would give two tools one name is refused with a warning, and the tools stay as they were.
   */
  onToolsChange(listener: (tools: Tool[]) => void): void;
  /** Disconnects MCP servers. */
  close(): Promise<void>;
}

const CONFIG_NAMES = ["volley.config.ts", "volley.config.mjs", "volley.config.js", "volley.config.json"];
const CONFIG_KEYS = keysOf<VolleyConfig>({
  tools: true,
  mcpServers: true,
  maxConcurrency: true,
  timeoutMs: true,
  parallel: true,
  retry: true,
  order: true,
  toolOptions: true,
  history: true,
  bullmq: true,
  agent: true,
});
const MCP_KEYS = keysOf<McpServerConfig>({
  command: true,
  args: true,
  env: true,
  cwd: true,
  url: true,
  headers: true,
  prefix: true,
  hints: true,
  tools: true,
  connectTimeoutMs: true,
});

/** The config file given, or the first of `volley.config.{ts,mjs,js,json}` in `cwd`. */
export function findConfig(given: string | undefined, cwd: string): string | undefined {
  if (given !== undefined) {
    const path = resolve(cwd, given);
    if (!existsSync(path)) throw new CliError(`Config file not found: ${given}`);
    return path;
  }
  return CONFIG_NAMES.map((name) => resolve(cwd, name)).find((path) => existsSync(path));
}

/** Reads a config, loads its tool modules and connects its MCP servers. Problems are `CliError`s of one line. */
export async function loadConfig(path: string | undefined, cwd = process.cwd()): Promise<LoadedConfig> {
  const config = path === undefined ? {} : await readConfig(path);
  const base = path === undefined ? cwd : dirname(path);
  const where = path ?? "the config";
  for (const key of Object.keys(config)) {
    if (!CONFIG_KEYS.has(key)) throw new CliError(`${where}: ${unknownKeyMessage(key, CONFIG_KEYS, "key")}`);
  }
  const {
    tools: entries = [],
    mcpServers = {},
    maxConcurrency,
    timeoutMs,
    parallel,
    retry,
    order,
    toolOptions = {},
    bullmq,
    agent,
  } = config;
  if (toolOptions === null || typeof toolOptions !== "object" || Array.isArray(toolOptions))
    throw new CliError(
      `${where}: "toolOptions" must be an object of tool options by tool name, got ${describeValue(toolOptions)}`,
    );
  if (!Array.isArray(entries))
    throw new CliError(`${where}: "tools" must be a list of module paths, got ${describeValue(entries)}`);
  checkBullmq(where, bullmq);
  checkAgentConfig(where, agent);
  if (mcpServers === null || typeof mcpServers !== "object")
    throw new CliError(`${where}: "mcpServers" must be an object of servers by name`);

  const tools: Tool[] = [];
  for (const entry of entries) {
    if (isTool(entry)) tools.push(entry);
    else if (typeof entry === "string") tools.push(...(await toolsOfModule(resolve(base, entry), entry)));
    else throw new CliError(`${where}: each of "tools" must be a module path or a tool, got ${describeValue(entry)}`);
  }

  const servers: McpToolSet[] = [];
  const close = async () => {
    await Promise.allSettled(servers.map((server) => server.close()));
  };
  try {
    for (const [name, server] of Object.entries(mcpServers)) servers.push(await connectMcpServer(name, server, base));
  } catch (error) {
    await close();
    throw error;
  }

  const tunedTools = new WeakMap<Tool, Tool>();
  /** Every tool, local and of each server, with the config's options; a clash of names is a CliError. */
  const assemble = (strict: boolean): Tool[] => {
    const all = [...tools, ...servers.flatMap((server) => server.tools)];
    const names = new Set<string>();
    for (const tool of all) {
      if (names.has(tool.name))
        throw new CliError(`Two tools are named "${tool.name}"; give an MCP server a "prefix" to keep its names apart`);
      names.add(tool.name);
    }
    return applyToolOptions(where, all, toolOptions, strict, tunedTools);
  };
  let tuned: Tool[];
  try {
    tuned = assemble(true);
  } catch (error) {
    await close();
    throw error;
  }
  const listeners: ((tools: Tool[]) => void)[] = [];
  for (const server of servers)
    server.onChange(() => {
      try {
        tuned = assemble(false);
      } catch (error) {
        process.emitWarning(`${where}: an MCP server's new tool list was not taken: ${(error as Error).message}`, {
          code: "VOLLEY_MCP_RELIST",
        });
        return;
      }
      for (const listener of listeners) listener(tuned);
    });
  return {
    path,
    tools: tuned,
    maxConcurrency,
    timeoutMs,
    parallel,
    retry,
    order,
    historyPath: historyPathOf(config, base),
    bullmq,
    agent,
    onToolsChange: (listener) => void listeners.push(listener),
    close,
  };
}

function checkBullmq(where: string, bullmq: unknown): asserts bullmq is BullmqConfig | undefined {
  if (bullmq === undefined) return;
  const { redis, prefix } = (bullmq ?? {}) as Partial<Record<string, unknown>>;
  if (bullmq === null || typeof bullmq !== "object" || typeof redis !== "string") {
    throw new CliError(
      `${where}: "bullmq" must be { "redis": "redis://host:port", "prefix"?: "..." }, got ${describeValue(bullmq)}`,
    );
  }
  const unknown = Object.keys(bullmq).find((key) => key !== "redis" && key !== "prefix");
  if (unknown !== undefined)
    throw new CliError(`${where}: in "bullmq", ${unknownKeyMessage(unknown, ["redis", "prefix"], "key")}`);
  if (prefix !== undefined && (typeof prefix !== "string" || prefix === ""))
    throw new CliError(`${where}: "bullmq.prefix" must be a non-empty string, got ${describeValue(prefix)}`);
}

/** The history file a config names, absolute; undefined when it keeps none. */
export function historyPathOf(config: VolleyConfig, base: string): string | undefined {
  const { history } = config;
  if (history === false) return undefined;
  if (history !== undefined && typeof history !== "string")
    throw new CliError(`"history" must be a file path or false, got ${describeValue(history)}`);
  return resolve(base, history ?? DEFAULT_DATABASE_PATH);
}

/** A config file's contents, without loading its tools or servers. */
export async function readConfig(path: string): Promise<VolleyConfig> {
  if (path.endsWith(".json")) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new CliError(`Cannot read ${path}: ${(error as Error).message}`);
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
        throw new CliError(`${path}: expected a JSON object, got ${describeValue(parsed)}`);
      return parsed;
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`${path} is not valid JSON: ${(error as Error).message}`);
    }
  }
  const module = await importModule(path, path);
  const config = module.default ?? module.config;
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new CliError(`${path}: expected a default export of a config object, got ${describeValue(config)}`);
  }
  return config;
}

async function importModule(path: string, shownAs: string): Promise<Record<string, unknown>> {
  if (!existsSync(path)) throw new CliError(`Tool module not found: ${shownAs} (looked at ${path})`);
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`Cannot load ${shownAs}: ${(error as Error).message.split("\n")[0] ?? ""}`, { cause: error });
  }
}

/**
 * The tools, each with the options the config sets for it. At load (`strict`), a name that is
 * no tool's is a mistake worth a did-you-mean; later, it may be a tool its server took away.
 */
function applyToolOptions(
  where: string,
  tools: readonly Tool[],
  options: Record<string, ToolOptions>,
  strict: boolean,
  /** Each tool already given its options: the same tool gets the same tuned tool, so an executor keeps its gate. */
  tuned: WeakMap<Tool, Tool>,
): Tool[] {
  const names = tools.map((tool) => tool.name);
  for (const name of Object.keys(options)) {
    if (names.includes(name) || !strict) continue;
    const meant = closestName(name, names);
    throw new CliError(
      `${where}: "toolOptions" names "${name}", which is no tool here${meant === undefined ? `; the tools are ${names.join(", ")}` : `; did you mean "${meant}"?`}`,
    );
  }
  return tools.map((tool) => {
    const given = options[tool.name];
    if (given === undefined) return tool;
    if (given === null || typeof given !== "object" || Array.isArray(given))
      throw new CliError(`${where}: "toolOptions.${tool.name}" must be an object, got ${describeValue(given)}`);
    const unknown = Object.keys(given).find((key) => !TOOL_OPTION_KEYS.has(key));
    if (unknown !== undefined)
      throw new CliError(`${where}: in "toolOptions.${tool.name}", ${unknownKeyMessage(unknown, TOOL_OPTION_KEYS)}`);
    try {
      const known = tuned.get(tool);
      if (known !== undefined) return known;
      const withOptions = withToolOptions(tool, given);
      tuned.set(tool, withOptions);
      return withOptions;
    } catch (error) {
      throw new CliError(`${where}: "toolOptions.${tool.name}": ${(error as Error).message.replace(/^[^:]*: /, "")}`, {
        cause: error,
      });
    }
  });
}

/** Every tool a module exports, alone or in an array (the default export included). */
async function toolsOfModule(path: string, shownAs: string): Promise<Tool[]> {
  const tools = exportedTools(await importModule(path, shownAs));
  if (tools.length === 0)
    throw new CliError(`${shownAs} exports no tools; export tools made by defineTool(), alone or in an array`);
  return tools;
}

async function connectMcpServer(name: string, server: McpServerConfig, base: string): Promise<McpToolSet> {
  if (server === null || typeof server !== "object")
    throw new CliError(`MCP server "${name}": expected { command, args? } or { url }, got ${describeValue(server)}`);
  for (const key of Object.keys(server)) {
    if (!MCP_KEYS.has(key)) throw new CliError(`MCP server "${name}": ${unknownKeyMessage(key, MCP_KEYS, "key")}`);
  }
  let source: McpServerSource;
  if ("command" in server && typeof server.command === "string") {
    const cwd = server.cwd === undefined ? base : isAbsolute(server.cwd) ? server.cwd : resolve(base, server.cwd);
    source = {
      command: server.command,
      ...(server.args ? { args: server.args } : {}),
      ...(server.env ? { env: server.env } : {}),
      cwd,
    };
  } else if ("url" in server && typeof server.url === "string") {
    source = { url: server.url, ...(server.headers ? { headers: server.headers } : {}) };
  } else {
    throw new CliError(`MCP server "${name}": give a "command" (stdio) or a "url" (Streamable HTTP)`);
  }
  // Loaded only when a config names a server: the MCP SDK is an optional peer.
  let mcpTools: typeof McpTools;
  try {
    ({ mcpTools } = await import("../mcp/mcp-tools.ts"));
  } catch {
    throw new CliError(`MCP server "${name}" needs the MCP SDK: npm install @modelcontextprotocol/sdk`);
  }
  const { prefix, hints, tools, connectTimeoutMs } = server;
  try {
    return await mcpTools(source, {
      ...(prefix !== undefined ? { prefix } : {}),
      ...(hints ? { hints } : {}),
      ...(tools ? { tools } : {}),
      ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
    });
  } catch (error) {
    throw new CliError(`MCP server "${name}" did not start: ${(error as Error).message.split("\n")[0] ?? ""}`, {
      cause: error,
    });
  }
}
