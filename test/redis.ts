// A Redis for tests: the machine's own on 6379 when it runs, else one started here, so that a
// fresh machine passes too. Tests that stop and restart Redis get a private one of their own.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestRedis {
  host: string;
  port: number;
  /** Stops the Redis this helper started, if it started one. */
  stop(): Promise<void>;
}

export interface PrivateRedis extends TestRedis {
  /** Kills it without warning, as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port, with whatever it had persisted. */
  restart(): Promise<void>;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(500);
    socket.once("connect", () => {
      socket.write("PING\r\n");
    });
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A port nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function exited(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => server.once("exit", () => resolve()));
}

async function launch(port: number, args: readonly string[]): Promise<ChildProcess> {
  const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", ...args], { stdio: "ignore" });
  server.once("error", () => undefined);
  for (let waited = 0; waited < 10_000; waited += 50) {
    if (await answers(port)) return server;
    if (server.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  server.kill("SIGKILL");
  throw new Error(
    "The BullMQ tests need Redis: none answers on 6379, and redis-server could not be started (apt-get install -y redis-server)",
  );
}

/**
 * A Redis of this test's own. With `persistence`, every write is appended and synced to disk
 * before it is acknowledged, so a crash loses nothing; without, a restart comes back empty.
 */
export async function startPrivateRedis(options: { persistence: boolean }): Promise<PrivateRedis> {
  const port = await freePort();
  const folder = mkdtempSync(join(tmpdir(), "volley-redis-"));
  const args = [
    "--dir",
    folder,
    "--save",
    "",
    ...(options.persistence ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]),
  ];
  let server = await launch(port, args);
  return {
    host: "127.0.0.1",
    port,
    kill: async () => {
      server.kill("SIGKILL");
      await exited(server);
    },
    restart: async () => {
      server = await launch(port, args);
    },
    stop: async () => {
      server.kill("SIGTERM");
      await exited(server);
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

export async function ensureRedis(): Promise<TestRedis> {
  if (await answers(6379)) return { host: "127.0.0.1", port: 6379, stop: () => Promise.resolve() };
  const port = await freePort();
  const server = await launch(port, ["--save", "", "--appendonly", "no"]);
  return {
    host: "127.0.0.1",
    port,
    stop: async () => {
      server.kill("SIGTERM");
      await exited(server);
    },
  };
}
