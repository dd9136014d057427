import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { isLoopbackAddress } from "./loopback.ts";

/** Why serving `host` without a token is refused, or undefined when it is not: only loopback may go unguarded. */
export function unguardedAddressProblem(where: string, host: string, token: string | undefined): string | undefined {
  if (isLoopbackAddress(host) || token !== undefined) return undefined;
  return `${where}: refusing to listen on ${host} without a token: anyone who can reach it could run your tools. Set a token (16 characters or more), or listen on 127.0.0.1`;
}

/** Starts `server` listening; resolves with its origin (`http://127.0.0.1:4370`), or rejects as `listen` fails. */
export async function listenOn(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${shownHost}:${address.port}`;
}
