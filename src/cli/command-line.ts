import { parseArgs, type ParseArgsConfig } from "node:util";
import { closestName } from "../shared/closest-name.ts";
import { CliError } from "./cli-error.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** A command: how it is called, what it does, and its own options with a line of help each. */
interface Command {
  usage: string;
  summary: string;
  options: Options;
  help: readonly string[];
}

/** Options every command takes. */
const COMMON: Options = {
  config: { type: "string", short: "c" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
};

const COMMON_HELP = [
  "  -c, --config <file>    Config file (default: volley.config.{ts,mjs,js,json} here)",
  "  -h, --help             This help",
  "  -v, --version          Volley's version",
];

export const COMMANDS: Record<string, Command> = {
  run: {
    usage: "volley run <calls.json | -> [options]",
    summary: "Run tool calls (Volley, OpenAI, Anthropic or Gemini format) with the config's tools",
    options: {
      "max-concurrency": { type: "string" },
      sequential: { type: "boolean" },
      timeout: { type: "string" },
      "call-timeout": { type: "string" },
      json: { type: "boolean" },
      yes: { type: "boolean", short: "y" },
      redis: { type: "string" },
      prefix: { type: "string" },
    },
    help: [
      "  --max-concurrency <n>  Most calls at once (default: the config's, else 16)",
      "  --sequential           One call at a time, in order",
      "  --timeout <ms>         Time limit of the whole run",
      "  --call-timeout <ms>    Time limit of each call attempt (default: the config's)",
      "  --json                 Print the run's result as JSON, nothing else",
      "  -y, --yes              Approve every call that needs approval (otherwise asked on a",
      "                         terminal, and denied when there is none)",
      "  --redis <url>          Send the calls to volley worker processes through this Redis",
      "                         (default: the config's bullmq.redis, else run them here)",
      "  --prefix <prefix>      Redis key prefix shared with the workers (default volley)",
    ],
  },
  serve: {
    usage: "volley serve [options]",
    summary: "The HTTP API and live dashboard, and the config's agent as a chat service",
    options: {
      host: { type: "string" },
      port: { type: "string" },
      token: { type: "string" },
      cors: { type: "string", multiple: true },
      "max-concurrency": { type: "string" },
      redis: { type: "string" },
      prefix: { type: "string" },
    },
    help: [
      "  --host <address>       Where to listen (default 127.0.0.1; anything else needs a token)",
      "  --port <n>             Port, 0 for any free one (default 4370)",
      "  --token <token>        Require this bearer token (or set VOLLEY_TOKEN)",
      "  --cors <origin>        Allow this browser origin (repeatable)",
      "  --max-concurrency <n>  Most calls at once (default: the config's, else 16)",
      "  --redis <url>          Send calls to volley worker processes through this Redis",
      "  --prefix <prefix>      Redis key prefix shared with the workers (default volley)",
    ],
  },
  mcp: {
    usage: "volley mcp [options]",
    summary: "The config's tools as an MCP server (stdio, or Streamable HTTP with --port)",
    options: {
      host: { type: "string" },
      port: { type: "string" },
      token: { type: "string" },
      "max-concurrency": { type: "string" },
      redis: { type: "string" },
      prefix: { type: "string" },
    },
    help: [
      "  --port <n>             Serve Streamable HTTP at /mcp on this port (0: any free one);",
      "                         without it, serve one client over stdin and stdout",
      "  --host <address>       Where to listen (default 127.0.0.1; anything else needs a token)",
      "  --token <token>        Require this bearer token (or set VOLLEY_TOKEN)",
      "  --max-concurrency <n>  Most calls at once, across every client (default: the config's, else 16)",
      "  --redis <url>          Send calls to volley worker processes through this Redis",
      "  --prefix <prefix>      Redis key prefix shared with the workers (default volley)",
    ],
  },
  stats: {
    usage: "volley stats [options]",
    summary: "Per-tool figures from the history",
    options: { since: { type: "string" }, json: { type: "boolean" } },
    help: ["  --since <duration>     Only the last 30m, 24h, 7d…", "  --json                 As JSON"],
  },
  agent: {
    usage: 'volley agent ["<question>"] [options]',
    summary: "The agent on an OpenAI-compatible endpoint, with the config's tools",
    options: {
      "base-url": { type: "string" },
      model: { type: "string" },
      plan: { type: "boolean" },
      "max-steps": { type: "string" },
      conversation: { type: "string" },
      timeout: { type: "string" },
      yes: { type: "boolean", short: "y" },
    },
    help: [
      "  --base-url <url>       OpenAI-compatible endpoint (or the config's agent.baseURL, or",
      "                         OPENAI_BASE_URL; key from OPENAI_API_KEY or agent.apiKeyEnv)",
      "  --model <name>         Model (or the config's agent.model, or VOLLEY_MODEL)",
      "  --plan                 Plan mode: the model writes a plan, tasks start as its lines arrive",
      "  --max-steps <n>        Most model steps (default 10)",
      "  --conversation <id>    Continue a conversation kept in the history; without a question,",
      "                         finish the step it left open (calls that waited for approval)",
      "  --timeout <ms>         Time limit of the whole answer",
      "  -y, --yes              Approve every tool call that needs approval",
    ],
  },
  worker: {
    usage: "volley worker [options]",
    summary: "Run the config's tools for callers that send calls through Redis",
    options: { redis: { type: "string" }, concurrency: { type: "string" }, prefix: { type: "string" } },
    help: [
      "  --redis <url>          Redis (default: VOLLEY_REDIS, else the config's bullmq.redis,",
      "                         else redis://127.0.0.1:6379)",
      "  --concurrency <n>      Most calls of each tool at once in this process (default 8)",
      "  --prefix <prefix>      Redis key prefix shared with the callers (default: the",
      "                         config's bullmq.prefix, else volley)",
    ],
  },
};

/** `volley --help`: every command, and where each one's options are. */
export function overview(): string {
  const width =
    Math.max(
      ...Object.values(COMMANDS).map((command) => command.usage.replace(" [options]", "").length - "volley ".length),
    ) + 3;
  const lines = Object.values(COMMANDS).map(
    (command) => `  ${command.usage.replace(" [options]", "").slice("volley ".length).padEnd(width)}${command.summary}`,
  );
  return [
    "Usage: volley <command> [options]",
    "",
    "Commands",
    ...lines,
    "",
    "Options",
    ...COMMON_HELP,
    "",
    "volley <command> --help lists the options of that command.",
    "",
  ].join("\n");
}

/** `volley <command> --help`: that command's usage and options. */
export function commandHelp(name: string): string {
  const command = COMMANDS[name] as Command;
  return [`Usage: ${command.usage}`, "", command.summary, "", "Options", ...command.help, ...COMMON_HELP, ""].join(
    "\n",
  );
}

export interface CommandLine {
  /** Undefined when none was named. */
  command: string | undefined;
  positionals: string[];
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
}

/**
 * Reads the command line: the command, then its own options and the common ones. An option of
 * another command, a misspelt one, or an unknown command is a one-line error that says which.
 */
export function readCommandLine(argv: readonly string[]): CommandLine {
  const every: Options = { ...COMMON };
  for (const command of Object.values(COMMANDS)) Object.assign(every, command.options);
  // A first, lenient reading only to find the command among the values of options.
  const command = parseArgs({ args: [...argv], options: every, allowPositionals: true, strict: false }).positionals[0];
  if (command !== undefined && COMMANDS[command] === undefined && command !== "help") {
    const meant = closestName(command, Object.keys(COMMANDS));
    throw new CliError(
      `Unknown command "${command}"${meant === undefined ? "" : `; did you mean "${meant}"?`} Commands: ${Object.keys(COMMANDS).join(", ")}. See volley --help`,
    );
  }
  const own = command === undefined || command === "help" ? {} : (COMMANDS[command] as Command).options;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...COMMON, ...own },
      allowPositionals: true,
      strict: true,
    });
    return { command, positionals: positionals.slice(1), values };
  } catch (error) {
    throw new CliError(explainParseError(error, command, own));
  }
}

function explainParseError(error: unknown, command: string | undefined, own: Options): string {
  const message = (error as Error).message.split("\n")[0] ?? "";
  const seeHelp = command === undefined || command === "help" ? "See volley --help" : `See volley ${command} --help`;
  const unknown = /Unknown option '(-{1,2})([^']+)'/.exec(message);
  if (unknown === null) return `${message}. ${seeHelp}`;
  const [, dashes, name] = unknown as unknown as [string, string, string];
  const owners = Object.entries(COMMANDS).filter(
    ([, other]) =>
      Object.keys(other.options).includes(name) || Object.values(other.options).some((option) => option.short === name),
  );
  if (owners.length > 0 && command !== undefined && command !== "help") {
    return `${dashes}${name} is an option of ${owners.map(([owner]) => `volley ${owner}`).join(" and ")}, not of volley ${command}. ${seeHelp}`;
  }
  const meant = closestName(name, [...Object.keys(COMMON), ...Object.keys(own)]);
  return `Unknown option ${dashes}${name}${meant === undefined ? "." : `; did you mean --${meant}?`} ${seeHelp}`;
}
