import type { Context, MiddlewareHandler } from "hono";
import { isLoopbackHostname } from "../shared/loopback.ts";

/** Thrown by the API's handlers: answered as `{ error: { code, message } }` with `status`. */
export class ApiError extends Error {
  readonly status: 400 | 403 | 404 | 409 | 415;
  readonly code: string;

  constructor(status: 400 | 403 | 404 | 409 | 415, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Answers only requests addressed to a loopback name (see `createServerApp` without a token). */
export function onlyLoopbackHosts(): MiddlewareHandler {
  return async (c, next) => {
    const { hostname } = new URL(c.req.url);
    if (!isLoopbackHostname(hostname)) {
      return c.json(
        {
          error: {
            code: "forbidden_host",
            message: `Host "${hostname}" is not a loopback name; set a token to serve other names`,
          },
        },
        403,
      );
    }
    await next();
  };
}

/**
 * Refuses a state-changing request that a browser sends from another site (a form post, a
 * no-cors fetch), unless its origin is one of `allowed`. Browsers mark such requests with
 * `Origin` and `Sec-Fetch-Site`; clients that are not browsers (curl, SDKs) send neither.
 */
export function refuseCrossSite(allowed: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method)) {
      const origin = c.req.header("origin");
      const site = c.req.header("sec-fetch-site");
      const sameOrigin =
        origin === undefined
          ? site === undefined || site === "same-origin" || site === "none"
          : origin === new URL(c.req.url).origin;
      if (!sameOrigin && (origin === undefined || !allowed.includes(origin))) {
        throw new ApiError(
          403,
          "cross_site",
          `Refused a ${c.req.method} from another site (${origin ?? site ?? "unknown origin"}); list its origin in corsOrigins to allow it`,
        );
      }
    }
    await next();
  };
}

/** The body, as JSON. Asking for its content type keeps cross-site forms, which can't send it, out. */
export async function readJson(c: Context): Promise<unknown> {
  if (!(c.req.header("content-type") ?? "").toLowerCase().startsWith("application/json")) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      "Send the request body as JSON, with Content-Type: application/json",
    );
  }
  try {
    return await c.req.json();
  } catch (error) {
    throw new ApiError(
      400,
      "invalid_json",
      `The request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export function integerParam(c: Context, name: string, fallback: number, min: number, max: number): number {
  const text = c.req.query(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ApiError(
      400,
      "invalid_query",
      `"${name}" must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  return value;
}

export function timeWindow(c: Context): { since?: number; until?: number } {
  const since = c.req.query("since");
  const until = c.req.query("until");
  return {
    ...(since !== undefined ? { since: integerParam(c, "since", 0, 0, Number.MAX_SAFE_INTEGER) } : {}),
    ...(until !== undefined ? { until: integerParam(c, "until", 0, 0, Number.MAX_SAFE_INTEGER) } : {}),
  };
}
