import { CliError } from "./cli-error.ts";

/** Redis connection options, as BullMQ takes them. */
export interface RedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
}

/** Redis connection options from a `redis://user:password@host:port/db` URL; `shownAs` names where it came from. */
export function redisConnectionOf(url: string, shownAs = "--redis"): RedisConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`${shownAs} takes a URL such as redis://127.0.0.1:6379, got "${url}"`);
  }
  if (parsed.protocol !== "redis:") throw new CliError(`${shownAs} takes a redis:// URL, got "${url}"`);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  return {
    host: parsed.hostname || "127.0.0.1",
    port: Number(parsed.port || 6379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
  };
}

/** Where a connection points, without its password, for messages. */
export function describeRedis(connection: RedisConnection): string {
  return `${connection.host}:${connection.port}`;
}
