// Worker processes for the BullMQ tests: each runs test/fixtures/bullmq-worker.ts against one Redis.
import { spawn, type ChildProcess } from "node:child_process";

export class WorkerProcesses {
  readonly running = new Set<ChildProcess>();
  readonly #stderr = new Map<ChildProcess, string>();

  readonly #redisPort: number;
  readonly #prefix: string;

  constructor(redisPort: number, prefix: string) {
    this.#redisPort = redisPort;
    this.#prefix = prefix;
  }

  /** A worker process with the fixture tools; resolves once it takes jobs. */
  async start(environment: Record<string, string> = {}): Promise<ChildProcess> {
    const child = spawn(process.execPath, ["test/fixtures/bullmq-worker.ts"], {
      env: { ...process.env, REDIS_PORT: String(this.#redisPort), PREFIX: this.#prefix, ...environment },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.running.add(child);
    this.#stderr.set(child, "");
    child.once("exit", () => this.running.delete(child));
    child.stderr?.on("data", (chunk: Buffer) => this.#stderr.set(child, this.stderrOf(child) + chunk.toString()));
    await new Promise<void>((ready, fail) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) ready();
      });
      child.once("exit", (code) =>
        fail(new Error(`the worker process exited (${code}) before it was ready: ${this.stderrOf(child)}`)),
      );
    });
    return child;
  }

  /** What a worker process has written to stderr so far. */
  stderrOf(child: ChildProcess): string {
    return this.#stderr.get(child) ?? "";
  }

  async stop(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill(signal);
    return exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((child) => this.stop(child)));
  }
}
