#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { VolleyError } from "../errors/volley-error.ts";
import { CliError } from "./cli-error.ts";
import { commandHelp, overview, readCommandLine } from "./command-line.ts";
import { unsupportedNode } from "../shared/node-version.ts";

function integer(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new CliError(`--${name} takes a whole number from ${min} up, got "${text}"`);
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
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return manifest.version;
}

async function main(argv: readonly string[]): Promise<number> {
  // Commands are imported when run, so this check comes before anything needs `node:sqlite`.
  const tooOld = unsupportedNode(process.versions.node);
  if (tooOld !== undefined) throw new CliError(tooOld);
  const { command, positionals: rest, values } = readCommandLine(argv);
  if (values.version === true) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === undefined || command === "help") {
    process.stdout.write(overview());
    return command === undefined && values.help !== true ? 2 : 0;
  }
  if (values.help === true) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const text = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === "string" ? value : undefined;
  };
  const flag = (name: string): boolean => values[name] === true;
  const common = { configPath: text("config"), cwd: process.cwd(), stdout: process.stdout };
  switch (command) {
    case "run": {
      if (rest.length !== 1)
        throw new CliError("volley run takes one calls file (or - for standard input). See volley --help");
      const { runCommand } = await import("./run-command.ts");
      return runCommand({
        ...common,
        callsPath: rest[0] as string,
        maxConcurrency: integer("max-concurrency", text("max-concurrency"), 1),
        sequential: flag("sequential"),
        timeoutMs: integer("timeout", text("timeout"), 1),
        callTimeoutMs: integer("call-timeout", text("call-timeout"), 1),
        json: flag("json"),
        yes: flag("yes"),
        redisUrl: text("redis"),
        prefix: text("prefix"),
        stdin: process.stdin,
      });
    }
    case "serve": {
      const { serveCommand } = await import("./serve-command.ts");
      return serveCommand({
        ...common,
        host: text("host") ?? "127.0.0.1",
        port: integer("port", text("port"), 0) ?? 4370,
        token: text("token") ?? process.env.VOLLEY_TOKEN,
        maxConcurrency: integer("max-concurrency", text("max-concurrency"), 1),
        corsOrigins: Array.isArray(values.cors) ? values.cors.map(String) : undefined,
        redisUrl: text("redis"),
        prefix: text("prefix"),
        env: process.env,
      });
    }
    case "mcp": {
      const { mcpCommand } = await import("./mcp-command.ts");
      const port = text("port");
      return mcpCommand({
        ...common,
        host: text("host") ?? "127.0.0.1",
        port: port === undefined ? undefined : integer("port", port, 0),
        token: text("token") ?? process.env.VOLLEY_TOKEN,
        maxConcurrency: integer("max-concurrency", text("max-concurrency"), 1),
        redisUrl: text("redis"),
        prefix: text("prefix"),
        stderr: process.stderr,
      });
    }
    case "stats": {
      const { statsCommand } = await import("./stats-command.ts");
      return statsCommand({ ...common, sinceMs: duration(text("since")), json: flag("json") });
    }
    case "agent": {
      if (rest.length === 0 && text("conversation") === undefined) {
        throw new CliError(
          'volley agent takes a question (volley agent "What is…"), or --conversation <id> alone to finish that conversation\'s open step and go on',
        );
      }
      const { agentCommand } = await import("./agent-command.ts");
      return agentCommand({
        ...common,
        question: rest.length === 0 ? undefined : rest.join(" "),
        baseUrl: text("base-url"),
        model: text("model"),
        plan: flag("plan"),
        maxSteps: integer("max-steps", text("max-steps"), 1),
        conversationId: text("conversation"),
        timeoutMs: integer("timeout", text("timeout"), 1),
        yes: flag("yes"),
        stdin: process.stdin,
        stderr: process.stderr,
        env: process.env,
      });
    }
    case "worker": {
      const { workerCommand } = await import("./worker-command.ts");
      return workerCommand({
        ...common,
        redisUrl: text("redis") ?? process.env.VOLLEY_REDIS,
        concurrency: integer("concurrency", text("concurrency"), 1),
        prefix: text("prefix"),
        stderr: process.stderr,
      });
    }
    default:
      // readCommandLine knows the commands: this is a command it lists and this switch forgot.
      throw new Error(`volley: no handler for the command "${command}"`);
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
      process.stderr.write(
        `volley: the history could not be read or written (${error.message}). Move the file aside to start a new one.\n`,
      );
      process.exitCode = 2;
    } else {
      process.stderr.write(
        `volley: unexpected failure, please report it:\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 70;
    }
  },
);
