// A Redis for tests: the machine's own on 6379 when it runs, else one started here, so that a
// fresh machine passes too.
import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";

export interface TestRedis {
  host: string;
  port: number;
  /** Stops the Redis this helper started, if it started one. */
  stop(): Promise<void>;
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

export async function ensureRedis(): Promise<TestRedis> {
  if (await answers(6379)) return { host: "127.0.0.1", port: 6379, stop: () => Promise.resolve() };
  const port = 6390 + (process.pid % 100);
  const server: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  for (let waited = 0; waited < 10_000; waited += 100) {
    if (await answers(port)) {
      return {
        host: "127.0.0.1",
        port,
        stop: () =>
          new Promise((resolve) => {
            server.once("exit", () => resolve());
            server.kill("SIGTERM");
          }),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  server.kill("SIGKILL");
  throw new Error("The BullMQ tests need Redis: none answers on 6379, and redis-server could not be started (apt-get install -y redis-server)");
}
