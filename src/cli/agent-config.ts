import { createAgent } from "../agent/create-agent.ts";
import type { Agent } from "../agent/agent-types.ts";
import { openaiModel, type OpenAIChatClient } from "../agent/openai-model.ts";
import { describeValue, keysOf, unknownKeyMessage } from "../errors/volley-error.ts";
import type { Executor } from "../executor/executor-types.ts";
import type { RunStore } from "../store/run-store.ts";
import { CliError } from "./cli-error.ts";

/** The config's `agent` section: the model it talks to, and how it runs its turns. `volley serve` serves it; `volley agent` uses it. */
export interface AgentConfig {
  /** The model's name at the endpoint. @default $VOLLEY_MODEL */
  model?: string;
  /** Any OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp, a gateway). @default $OPENAI_BASE_URL, else OpenAI's */
  baseURL?: string;
  /** The environment variable that holds the API key; none is needed for an endpoint given by `baseURL`. @default "OPENAI_API_KEY" */
  apiKeyEnv?: string;
  /** The system prompt. @default none */
  system?: string;
  /** `"tools"`: tool calls turn by turn. `"plan"`: a whole plan up front, run as its inputs allow. @default "tools" */
  mode?: "tools" | "plan";
  /** Most tool calls of a step running at once (within the config's `maxConcurrency`). @default 16 */
  maxConcurrency?: number;
  /** `false` runs a step's calls one at a time, in the order the model wrote them. @default true */
  parallel?: boolean;
  /** Time limit of a turn, model and tools together, in ms. @default none */
  timeoutMs?: number;
  /** Most model steps in a turn. @default 10 */
  maxSteps?: number;
  /** Most messages of a conversation's earlier turns sent to the model. @default all */
  maxHistoryMessages?: number;
  /** Most tokens of a conversation's earlier turns sent to the model (estimated: a quarter of the characters). @default all */
  maxHistoryTokens?: number;
}

export const AGENT_CONFIG_KEYS = keysOf<AgentConfig>({
  model: true,
  baseURL: true,
  apiKeyEnv: true,
  system: true,
  mode: true,
  maxConcurrency: true,
  parallel: true,
  timeoutMs: true,
  maxSteps: true,
  maxHistoryMessages: true,
  maxHistoryTokens: true,
});

/** Checks a config's `agent` section; problems are one-line `CliError`s that name the key. */
export function checkAgentConfig(where: string, agent: unknown): asserts agent is AgentConfig | undefined {
  if (agent === undefined) return;
  if (agent === null || typeof agent !== "object" || Array.isArray(agent))
    throw new CliError(
      `${where}: "agent" must be an object such as { "model": "gpt-4.1-mini" }, got ${describeValue(agent)}`,
    );
  const unknown = Object.keys(agent).find((key) => !AGENT_CONFIG_KEYS.has(key));
  if (unknown !== undefined)
    throw new CliError(`${where}: in "agent", ${unknownKeyMessage(unknown, AGENT_CONFIG_KEYS, "key")}`);
  const section = agent as Record<string, unknown>;
  const problem = (key: string, expected: string): never => {
    throw new CliError(`${where}: "agent.${key}" must be ${expected}, got ${describeValue(section[key])}`);
  };
  for (const key of ["model", "baseURL", "apiKeyEnv", "system"])
    if (section[key] !== undefined && (typeof section[key] !== "string" || section[key] === ""))
      problem(key, "a non-empty string");
  if (section.mode !== undefined && section.mode !== "tools" && section.mode !== "plan")
    problem("mode", '"tools" or "plan"');
  if (section.parallel !== undefined && typeof section.parallel !== "boolean") problem("parallel", "true or false");
  for (const key of ["maxConcurrency", "maxSteps", "maxHistoryMessages", "maxHistoryTokens"])
    if (section[key] !== undefined && (!Number.isInteger(section[key]) || (section[key] as number) < 1))
      problem(key, "an integer from 1 and up");
  if (section.timeoutMs !== undefined && !((section.timeoutMs as number) > 0))
    problem("timeoutMs", "a number of milliseconds above 0");
}

/** What the command line says over the config's `agent` section. */
export interface AgentOverrides {
  model?: string | undefined;
  baseUrl?: string | undefined;
  plan?: boolean;
  maxSteps?: number | undefined;
  timeoutMs?: number | undefined;
}

/**
 * The agent a config describes, on the workspace's executor and store: flags first, then the
 * config's `agent` section, then the environment (VOLLEY_MODEL, OPENAI_BASE_URL, the key's variable).
 */
export async function configuredAgent(options: {
  config: AgentConfig | undefined;
  overrides: AgentOverrides;
  env: NodeJS.ProcessEnv;
  executor: Executor;
  store: RunStore | undefined;
}): Promise<{ agent: Agent; model: string; baseURL: string | undefined }> {
  const { config = {}, overrides, env, executor, store } = options;
  // Empty variables count as unset.
  const model = overrides.model || config.model || env.VOLLEY_MODEL || env.OPENAI_MODEL;
  if (!model)
    throw new CliError('Which model? Pass --model <name>, set "agent.model" in the config, or set VOLLEY_MODEL');
  const baseURL = overrides.baseUrl || config.baseURL || env.OPENAI_BASE_URL || undefined;
  const keyVariable = config.apiKeyEnv ?? "OPENAI_API_KEY";
  const apiKey = env[keyVariable] || (baseURL ? "not-needed" : undefined);
  if (apiKey === undefined)
    throw new CliError(
      `Set ${keyVariable}, or give a base URL (--base-url, or "agent.baseURL") for a server that needs no key (Ollama, vLLM, llama.cpp)`,
    );
  let OpenAI: new (options: { apiKey: string; baseURL?: string }) => OpenAIChatClient;
  try {
    ({ default: OpenAI } = (await import("openai")) as unknown as { default: typeof OpenAI });
  } catch {
    throw new CliError("The agent needs the OpenAI client: npm install openai");
  }
  let client: OpenAIChatClient;
  try {
    client = new OpenAI({ apiKey, ...(baseURL ? { baseURL } : {}) });
  } catch (error) {
    throw new CliError(`Cannot make an OpenAI client: ${(error as Error).message.split("\n")[0] ?? ""}`);
  }
  const maxSteps = overrides.maxSteps ?? config.maxSteps;
  const timeoutMs = overrides.timeoutMs ?? config.timeoutMs;
  const agent = createAgent({
    model: openaiModel({ client, model }),
    executor,
    mode: overrides.plan === true ? "plan" : (config.mode ?? "tools"),
    ...(config.system !== undefined ? { system: config.system } : {}),
    ...(config.maxConcurrency !== undefined ? { maxConcurrency: config.maxConcurrency } : {}),
    ...(config.parallel !== undefined ? { parallel: config.parallel } : {}),
    ...(config.maxHistoryMessages !== undefined ? { maxHistoryMessages: config.maxHistoryMessages } : {}),
    ...(config.maxHistoryTokens !== undefined ? { maxHistoryTokens: config.maxHistoryTokens } : {}),
    ...(maxSteps !== undefined ? { maxSteps } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(store ? { store } : {}),
  });
  return { agent, model, baseURL };
}
