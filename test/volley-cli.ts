// The built `volley` command, run as a user runs it, for the tests that drive it.
import { spawn } from "node:child_process";
import { resolve } from "node:path";

export const VOLLEY_BIN = resolve("dist/cli/main.js");

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `volley <args>` to its end, with `input` on stdin and no colours. */
export function runVolley(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string },
): Promise<CliOutcome> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [VOLLEY_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}
