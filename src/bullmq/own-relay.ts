import { Relay, type ConnectionOptions } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { RELAY_NAMESPACE } from "./job-envelope.ts";

/** A BullMQ Relay on a Redis client of its own, so that closing it always ends it. */
export interface OwnRelay {
  readonly relay: Relay;
  /** Closes the Relay, waiting a moment for Redis to take its leave, then drops the connection regardless. */
  close(): Promise<void>;
}

/** Resolves true if `promise` settles within `ms`. */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => setTimeout(resolve, ms, false).unref()),
  ]);
}

function clientFor(connection: ConnectionOptions): Redis {
  if (typeof (connection as Partial<Redis>).duplicate === "function") return (connection as Redis).duplicate();
  const { url, ...options } = connection as RedisOptions & { url?: string };
  // The Relay blocks on reads: commands must wait for a reconnection, not give up after 20 tries.
  return url === undefined
    ? new Redis({ ...options, maxRetriesPerRequest: null })
    : new Redis(url, { ...options, maxRetriesPerRequest: null });
}

/**
 * Relay.close() unregisters the node first, which waits for Redis: with Redis gone it would
 * wait forever and its reconnecting client would keep the process alive.
 */
export function openRelay(connection: ConnectionOptions, prefix: string, name: string): OwnRelay {
  const client = clientFor(connection);
  client.on("error", () => undefined);
  const relay = new Relay({ connection: client, prefix, namespace: RELAY_NAMESPACE, name });
  relay.on("error", () => undefined);
  return {
    relay,
    close: async () => {
      await settlesWithin(relay.close(), 1000);
      client.disconnect();
    },
  };
}
