#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { VolleyError } from "../errors/volley-error.ts";
import { CliError } from "./cli-error.ts";
import { unsupportedNode } from "./node-version.ts";

const USAGE = `Usage: volley <command> [options]

Commands
  run <calls.json | ->   Run tool calls (Volley, OpenAI or Anthropic format) with the config's tools
  serve                  The HTTP API and live dashboard
  stats                  Per-tool figures from the history
  agent ["<question>"]   The agent on an OpenAI-compatible endpoint, with the config's tools
  worker                 Run the config's tools for callers that send calls through Redis

Common options
  -c, --config <file>    Config file (default: volley.config.{ts,mjs,js,json} here)
  -h, --help             This help
  -v, --version          Volley's version

run
  --max-concurrency <n>  Most calls at once (default: the config's, else 16)
  --sequential           One call at a time, in order
  --timeout <ms>         Time limit of the whole run
  --call-timeout <ms>    Time limit of each call attempt (default: the config's)
  --json                 Print the run's result as JSON, nothing else
  -y, --yes              Approve every call that needs approval (otherwise asked on a
                         terminal, and denied when there is none)
  --redis <url>          Send the calls to volley worker processes through this Redis
                         (default: the config's bullmq.redis, else run them here)
  --prefix <prefix>      Redis key prefix shared with the workers (default volley)

serve
  --host <address>       Where to listen (default 127.0.0.1; anything else needs a token)
  --port <n>             Port, 0 for any free one (default 4370)
  --token <token>        Require this bearer token (or set VOLLEY_TOKEN)
  --cors <origin>        Allow this browser origin (repeatable)
  --redis <url>          Send calls to volley worker processes through this Redis
  --prefix <prefix>      Redis key prefix shared with the workers (default volley)

stats
  --since <duration>     Only the last 30m, 24h, 7d…
  --json                 As JSON

worker
  --redis <url>          Redis (default: VOLLEY_REDIS, else the config's bullmq.redis,
                         else redis://127.0.0.1:6379)
  --concurrency <n>      Most calls of each tool at once in this process (default 8)
  --prefix <prefix>      Redis key prefix shared with the callers (default: the
                         config's bullmq.prefix, else volley)

agent
  --base-url <url>       OpenAI-compatible endpoint (or OPENAI_BASE_URL; key from OPENAI_API_KEY)
  --model <name>         Model (or VOLLEY_MODEL)
  --plan                 Plan mode: the model writes a plan, tasks start as its lines arrive
  --max-steps <n>        Most model steps (default 10)
  --conversation <id>    Continue a conversation kept in the history; without a question,
                         finish the step it left open (calls that waited for approval)
  --timeout <ms>         Time limit of the whole answer
  -y, --yes              Approve every tool call that needs approval
`;

const OPTIONS = {
  config: { type: "string", short: "c" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
  "max-concurrency": { type: "string" },
  sequential: { type: "boolean" },
  timeout: { type: "string" },
  "call-timeout": { type: "string" },
  json: { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  host: { type: "string" },
  port: { type: "string" },
  token: { type: "string" },
  cors: { type: "string", multiple: true },
  since: { type: "string" },
  "base-url": { type: "string" },
  model: { type: "string" },
  plan: { type: "boolean" },
  "max-steps": { type: "string" },
  conversation: { type: "string" },
  redis: { type: "string" },
  concurrency: { type: "string" },
  prefix: { type: "string" },
} satisfies ParseArgsConfig["options"];

function integer(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new CliError(`--${name} takes a whole number from ${min} up, got "${text}"`);
  return value;
}

function duration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (!match) throw new CliError(`--since takes a duration such as 30m, 24h or 7d, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "ms" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

async function main(argv: readonly string[]): Promise<number> {
  // Commands are imported when run, so this check comes before anything needs `node:sqlite`.
  const tooOld = unsupportedNode(process.versions.node);
  if (tooOld !== undefined) throw new CliError(tooOld);
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(`${(error as Error).message.split("\n")[0] ?? ""}. See volley --help`);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (values.help || command === undefined || command === "help") {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const common = { configPath: values.config, cwd: process.cwd(), stdout: process.stdout };
  switch (command) {
    case "run": {
      if (rest.length !== 1) throw new CliError("volley run takes one calls file (or - for standard input). See volley --help");
      const { runCommand } = await import("./run-command.ts");
      return runCommand({
        ...common,
        callsPath: rest[0] as string,
        maxConcurrency: integer("max-concurrency", values["max-concurrency"], 1),
        sequential: values.sequential ?? false,
        timeoutMs: integer("timeout", values.timeout, 1),
        callTimeoutMs: integer("call-timeout", values["call-timeout"], 1),
        json: values.json ?? false,
        yes: values.yes ?? false,
        redisUrl: values.redis,
        prefix: values.prefix,
        stdin: process.stdin,
      });
    }
    case "serve": {
      const { serveCommand } = await import("./serve-command.ts");
      return serveCommand({
        ...common,
        host: values.host ?? "127.0.0.1",
        port: integer("port", values.port, 0) ?? 4370,
        token: values.token ?? process.env.VOLLEY_TOKEN,
        maxConcurrency: integer("max-concurrency", values["max-concurrency"], 1),
        corsOrigins: values.cors,
        redisUrl: values.redis,
        prefix: values.prefix,
      });
    }
    case "stats": {
      const { statsCommand } = await import("./stats-command.ts");
      return statsCommand({ ...common, sinceMs: duration(values.since), json: values.json ?? false });
    }
    case "agent": {
      if (rest.length === 0 && values.conversation === undefined) {
        throw new CliError('volley agent takes a question (volley agent "What is…"), or --conversation <id> alone to finish that conversation\'s open step and go on');
      }
      const { agentCommand } = await import("./agent-command.ts");
      return agentCommand({
        ...common,
        question: rest.length === 0 ? undefined : rest.join(" "),
        baseUrl: values["base-url"],
        model: values.model,
        plan: values.plan ?? false,
        maxSteps: integer("max-steps", values["max-steps"], 1),
        conversationId: values.conversation,
        timeoutMs: integer("timeout", values.timeout, 1),
        yes: values.yes ?? false,
        stdin: process.stdin,
        stderr: process.stderr,
        env: process.env,
      });
    }
    case "worker": {
      const { workerCommand } = await import("./worker-command.ts");
      return workerCommand({
        ...common,
        redisUrl: values.redis ?? process.env.VOLLEY_REDIS,
        concurrency: integer("concurrency", values.concurrency, 1),
        prefix: values.prefix,
      });
    }
    default:
      throw new CliError(`Unknown command "${command}". Commands: run, serve, stats, agent, worker. See volley --help`);
  }
}

function isSqliteError(error: unknown): error is Error {
  return error instanceof Error && (error as { code?: unknown }).code === "ERR_SQLITE_ERROR";
}

// Problems a person meets get one line; anything else is a bug in Volley and keeps its stack.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof CliError) {
      process.stderr.write(`volley: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else if (error instanceof VolleyError) {
      process.stderr.write(`volley: ${error.message}\n`);
      process.exitCode = 2;
    } else if (isSqliteError(error)) {
      // The history file went bad after it was opened: a person's problem to fix, not Volley's bug.
      process.stderr.write(`volley: the history could not be read or written (${error.message}). Move the file aside to start a new one.\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`volley: unexpected failure, please report it:\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 70;
    }
  },
);
