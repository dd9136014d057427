import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { streamSSE } from "hono/streaming";
import { detectCalls } from "../adapters/detect-calls.ts";
import { describeValue, invalidOption, VolleyError } from "../errors/volley-error.ts";
import type { Executor } from "../executor/executor-types.ts";
import type { RunStore, StoredRun, StoredRunStatus } from "../store/run-store.ts";
import type { UpgradeWebSocket } from "hono/ws";
import type { Agent } from "../agent/agent-types.ts";
import { addConversationRoutes } from "./conversation-routes.ts";
import { dashboardAssets } from "./dashboard-assets.ts";
import { LiveConversations } from "./live-conversations.ts";
import { LiveRuns, summarizeLiveRun, type LiveRunEntry } from "./live-runs.ts";
import { wireEvent, wireResult } from "./wire-format.ts";
import { ApiError, integerParam, onlyLoopbackHosts, readJson, refuseCrossSite, timeWindow } from "./api-requests.ts";

export interface ServerAppOptions {
  /** Runs the API's runs. Its tools are the only tools the API can run: it can never define one. */
  executor: Executor;
  /** The history the runs list, run pages and tool figures read; give the executor the same store as `history`. @default none: only runs of this server, while it remembers them */
  store?: RunStore;
  /** When set, every `/api` request must carry `Authorization: Bearer <token>`. @default none */
  token?: string;
  /** Largest request body accepted, in bytes. @default 1 MiB */
  maxBodyBytes?: number;
  /** Origins allowed to call the API from a browser. @default none (no CORS headers) */
  corsOrigins?: readonly string[];
  /** Ended runs whose events stay in memory for clients that connect late. @default 100 */
  keepEndedRuns?: number;
  /** Most calls in one `POST /api/runs`. @default 10000 */
  maxCallsPerRun?: number;
  /**
   * An agent to serve: conversations at `/api/conversations` (SSE, and a WebSocket where the
   * server has one) and the dashboard's chat page. Make it with this server's `store` and
   * executor, so that its conversations and step runs are where the API looks. @default none
   */
  agent?: Agent;
  /** The WebSocket upgrade of the runtime that serves the app; `startServer` gives Node's. @default none */
  upgradeWebSocket?: UpgradeWebSocket;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** What `Authorization: Bearer` can carry (RFC 6750 b64token); a token outside it could never be sent. */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

const RUN_STATUSES: readonly StoredRunStatus[] = ["running", "completed", "cancelled", "timed_out", "interrupted"];
const SERVER_VERSION = "1";

/**
 * Volley's HTTP API and dashboard as a Hono app: start runs, follow their events over SSE,
 * list and read runs from the history, per-tool figures. Serve it with `startServer`, or
 * mount it in an app of your own.
 */
export function createServerApp(options: ServerAppOptions): {
  app: Hono;
  runs: LiveRuns;
  conversations: LiveConversations | undefined;
} {
  const where = "createServerApp";
  if (options === null || typeof options !== "object") invalidOption(where, "options", "an options object", options);
  const {
    executor,
    store,
    token,
    maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
    corsOrigins,
    keepEndedRuns = 100,
    maxCallsPerRun = 10_000,
    agent,
    upgradeWebSocket,
  } = options;
  if (typeof executor?.start !== "function")
    invalidOption(where, "executor", "an executor made by createExecutor()", executor);
  if (store !== undefined && typeof store?.listRuns !== "function")
    invalidOption(where, "store", "a RunStore such as SqliteRunStore", store);
  if (token !== undefined && (typeof token !== "string" || token.length < 16 || !BEARER_TOKEN.test(token))) {
    invalidOption(
      where,
      "token",
      "a string of 16 characters or more, each a letter, digit or one of - . _ ~ + / (with = only at the end), as a Bearer token allows",
      token,
    );
  }
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1)
    invalidOption(where, "maxBodyBytes", "an integer from 1 and up", maxBodyBytes);
  if (
    corsOrigins !== undefined &&
    (!Array.isArray(corsOrigins) || !corsOrigins.every((origin) => typeof origin === "string"))
  ) {
    invalidOption(where, "corsOrigins", "an array of origins", corsOrigins);
  }
  if (!Number.isInteger(keepEndedRuns) || keepEndedRuns < 0)
    invalidOption(where, "keepEndedRuns", "an integer from 0 and up", keepEndedRuns);
  if (!Number.isInteger(maxCallsPerRun) || maxCallsPerRun < 1)
    invalidOption(where, "maxCallsPerRun", "an integer from 1 and up", maxCallsPerRun);
  if (agent !== undefined && typeof agent?.stream !== "function")
    invalidOption(where, "agent", "an agent made by createAgent()", agent);
  if (agent !== undefined && store === undefined)
    invalidOption(where, "store", "given with `agent`: the store the agent keeps its conversations in", store);

  const runs = new LiveRuns(executor, keepEndedRuns);
  const conversations = agent === undefined ? undefined : new LiveConversations(agent);
  const app = new Hono();

  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json({ error: { code: error.code, message: error.message } }, error.status);
    if (error instanceof VolleyError) return c.json({ error: { code: error.code, message: error.message } }, 400);
    if (error instanceof HTTPException) return error.getResponse();
    return c.json({ error: { code: "internal", message: "The server failed to answer; see its log." } }, 500);
  });
  app.notFound((c) =>
    c.json(
      { error: { code: "not_found", message: `No route for ${c.req.method} ${new URL(c.req.url).pathname}` } },
      404,
    ),
  );

  // Without a token only loopback names are answered: a web page can't reach the API by
  // pointing a domain of its own at 127.0.0.1 (DNS rebinding).
  if (token === undefined) app.use("*", onlyLoopbackHosts());
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
    }),
  );
  app.use("/api/*", refuseCrossSite(corsOrigins ?? []));
  if (corsOrigins !== undefined)
    app.use(
      "/api/*",
      cors({ origin: [...corsOrigins], allowHeaders: ["Authorization", "Content-Type", "Last-Event-ID"] }),
    );
  if (token !== undefined) app.use("/api/*", bearerAuth({ token }));

  app.get("/api/health", (c) =>
    c.json({
      ok: true,
      version: SERVER_VERSION,
      tools: executor.tools.length,
      runningRuns: runs.running,
      history: store !== undefined,
      agent: conversations !== undefined,
    }),
  );

  app.get("/api/tools", async (c) => {
    const stats = store === undefined ? {} : await store.toolStats(timeWindow(c));
    const tools = executor.tools.map((tool) => ({
      name: tool.name,
      description: tool.description ?? null,
      concurrency: tool.concurrency === Infinity ? null : tool.concurrency,
      rateLimit: tool.rateLimit ?? null,
      timeoutMs: tool.timeoutMs ?? null,
      idempotent: tool.idempotent,
      // The executor's policy applies where the tool sets none.
      retry: tool.retry ?? null,
      cache: tool.cache ?? null,
      resources: tool.resources !== undefined,
      approval: tool.needsApproval === true ? "always" : tool.needsApproval === false ? "never" : "by rule",
      priority: tool.priority,
      runsIn: tool.worker === undefined ? "process" : "worker thread",
      stats: stats[tool.name] ?? null,
    }));
    // Tools the history knows that this server no longer has still have figures worth seeing.
    const gone = Object.keys(stats).filter((name) => !executor.tools.some((tool) => tool.name === name));
    return c.json({ tools, otherTools: Object.fromEntries(gone.map((name) => [name, stats[name]])) });
  });

  app.get("/api/speedup", async (c) =>
    c.json({ runs: store === undefined ? [] : await store.speedupHistory(timeWindow(c)) }),
  );

  app.get("/api/runs", async (c) => {
    const limit = integerParam(c, "limit", 50, 1, 1000);
    const offset = integerParam(c, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
    const status = c.req.query("status");
    if (status !== undefined && !RUN_STATUSES.includes(status as StoredRunStatus)) {
      throw new ApiError(
        400,
        "invalid_query",
        `"status" must be one of ${RUN_STATUSES.join(", ")}, got ${describeValue(status)}`,
      );
    }
    const tool = c.req.query("tool");
    const stored =
      store === undefined
        ? []
        : await store.listRuns({
            limit,
            offset,
            ...(status ? { status: status as StoredRunStatus } : {}),
            ...(tool ? { tool } : {}),
          });
    // Runs of this server that the history has not caught up with yet come first, as they are newest.
    const known = new Set(stored.map((run) => run.runId));
    const live: StoredRun[] =
      offset > 0 || tool !== undefined
        ? []
        : runs
            .list()
            .filter((entry) => !known.has(entry.runId))
            .map(summarizeLiveRun)
            .filter((run) => status === undefined || run.status === status);
    const merged = [...live, ...stored.map((run) => withLiveStatus(run, runs.get(run.runId)))]
      .sort((a, b) => b.startedAt - a.startedAt)
      .slice(0, limit);
    return c.json({ runs: merged });
  });

  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) =>
      c.json(
        {
          error: {
            code: "body_too_large",
            message: `The request body is over this server's limit of ${maxBodyBytes} bytes`,
          },
        },
        413,
      ),
  });

  app.post("/api/runs", limitBody, async (c) => {
    const body = await readJson(c);
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new ApiError(
        400,
        "invalid_body",
        `Expected { calls, maxConcurrency?, parallel?, timeoutMs?, name? }, got ${describeValue(body)}`,
      );
    }
    const { calls: rawCalls, maxConcurrency, parallel, timeoutMs, name, ...unknown } = body as Record<string, unknown>;
    const extra = Object.keys(unknown);
    if (extra.length > 0)
      throw new ApiError(
        400,
        "invalid_body",
        `Unknown field ${extra[0]}; a run takes calls, maxConcurrency, parallel, timeoutMs and name`,
      );
    const { calls } = detectCalls(rawCalls);
    if (calls.length > maxCallsPerRun)
      throw new ApiError(400, "too_many_calls", `A run takes at most ${maxCallsPerRun} calls, got ${calls.length}`);
    const entry = runs.start(calls, {
      ...(maxConcurrency !== undefined ? { maxConcurrency: maxConcurrency as number } : {}),
      ...(parallel !== undefined ? { parallel: parallel as boolean } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs: timeoutMs as number } : {}),
      ...(name !== undefined ? { name: name as string } : {}),
    });
    const links = { runId: entry.runId, run: `/api/runs/${entry.runId}`, events: `/api/runs/${entry.runId}/events` };
    if (c.req.query("wait") === undefined) return c.json(links, 202);
    const result = await entry.run.result;
    return c.json({ ...links, ...result, results: result.results.map(wireResult) }, 200);
  });

  app.get("/api/runs/:runId", async (c) => {
    const runId = c.req.param("runId");
    const entry = runs.get(runId);
    const stored = await store?.getRun(runId);
    if (stored !== undefined && (entry === undefined || entry.result !== undefined)) {
      // Each call's retries, from the events the history kept, as the live view showed them.
      const retries = new Map<string, { at: number; delayMs: number; error: unknown }[]>();
      for (const { event } of await (store as RunStore).events(runId)) {
        if (event.type !== "call-retry") continue;
        const list = retries.get(event.callId) ?? [];
        list.push({ at: event.at, delayMs: event.delayMs, error: event.error });
        retries.set(event.callId, list);
      }
      const calls = stored.calls.map((call) => ({ ...call, retries: retries.get(call.callId) ?? [] }));
      return c.json({ run: withLiveStatus(stored.run, entry), calls, live: entry !== undefined });
    }
    if (entry === undefined)
      throw new ApiError(404, "unknown_run", `No run ${JSON.stringify(runId)} in this server or its history`);
    // Still going (or no history): the calls so far, as this server saw them.
    const calls = [...entry.calls].map(([callId, call], index) => {
      const result = entry.results.get(callId);
      return {
        callId,
        index,
        name: call.name,
        args: call.args ?? {},
        dependsOn: call.dependsOn ?? [],
        ...(result ? { result: wireResult(result) } : {}),
      };
    });
    return c.json({ run: summarizeLiveRun(entry), calls, live: true });
  });

  app.get("/api/runs/:runId/events", (c) => {
    const entry = runs.get(c.req.param("runId"));
    if (entry === undefined) {
      throw new ApiError(
        404,
        "not_live",
        `Run ${JSON.stringify(c.req.param("runId"))} is not live in this server; GET /api/runs/:runId has its record`,
      );
    }
    // A reconnecting EventSource says where it stopped; it gets the rest, not the start again.
    const resumeAfter = Number.parseInt(c.req.header("last-event-id") ?? "-1", 10);
    // The connection ends with the stream, so that a server closing waits for no idle socket.
    c.header("connection", "close");
    return streamSSE(c, async (stream) => {
      let seq = -1;
      for await (const event of entry.run.events) {
        if (stream.aborted) return;
        if (++seq <= resumeAfter) continue;
        await stream.writeSSE({ id: String(seq), event: event.type, data: wireEvent(event, entry) });
      }
    });
  });

  app.post("/api/runs/:runId/cancel", (c) => {
    const entry = runs.get(c.req.param("runId"));
    if (entry === undefined)
      throw new ApiError(404, "not_live", `Run ${JSON.stringify(c.req.param("runId"))} is not live in this server`);
    if (entry.result !== undefined)
      throw new ApiError(409, "run_ended", `Run ${entry.runId} has already ended (${entry.result.status})`);
    entry.run.cancel("cancelled through the API");
    return c.json({ runId: entry.runId, cancelled: true }, 202);
  });

  app.get("/api/approvals", async (c) => {
    const pendingParam = c.req.query("pending");
    if (pendingParam !== undefined && pendingParam !== "true" && pendingParam !== "false") {
      throw new ApiError(400, "invalid_query", `"pending" must be true or false, got ${JSON.stringify(pendingParam)}`);
    }
    const pending = pendingParam === undefined ? undefined : pendingParam === "true";
    // Waiting calls of this server's runs can be decided here; the history adds the rest.
    const live =
      pending === false
        ? []
        : runs
            .list()
            .flatMap((entry) =>
              entry.run
                .pendingApprovals()
                .map((request) => ({ ...request, runStatus: "running", decision: null, live: true })),
            );
    const liveKeys = new Set(live.map((approval) => `${approval.runId}/${approval.callId}`));
    const stored = store === undefined ? [] : await store.approvals(pending === undefined ? {} : { pending });
    const others = stored
      .filter((approval) => !liveKeys.has(`${approval.runId}/${approval.callId}`))
      .map((approval) => ({ ...approval, decision: approval.decision ?? null, live: false }));
    return c.json({ approvals: [...live, ...others].sort((a, b) => a.requestedAt - b.requestedAt) });
  });

  app.post("/api/runs/:runId/calls/:callId/approval", limitBody, async (c) => {
    const runId = c.req.param("runId");
    const callId = c.req.param("callId");
    const body = await readJson(c);
    const { approved, reason } = (body ?? {}) as { approved?: unknown; reason?: unknown };
    if (typeof approved !== "boolean" || (reason !== undefined && typeof reason !== "string")) {
      throw new ApiError(
        400,
        "invalid_body",
        `Expected { approved: boolean, reason?: string }, got ${describeValue(body)}`,
      );
    }
    const entry = runs.get(runId);
    if (entry === undefined) {
      // A run of another process: the decision goes into the history, where that process, or the agent that resumes its conversation, finds it.
      const recorded =
        store !== undefined &&
        (await store.decideApproval(runId, callId, { approved, ...(reason === undefined ? {} : { reason }) }));
      if (!recorded)
        throw new ApiError(
          404,
          "not_waiting",
          `Call ${JSON.stringify(callId)} of run ${JSON.stringify(runId)} is not waiting for approval, here or in the history`,
        );
      return c.json({ runId, callId, approved, recorded: true });
    }
    const decided = await (approved ? entry.run.approve(callId, reason) : entry.run.deny(callId, reason));
    if (!decided)
      throw new ApiError(
        409,
        "not_waiting",
        `Call ${JSON.stringify(callId)} of run ${entry.runId} is not waiting for approval, or another decision was recorded first`,
      );
    return c.json({ runId: entry.runId, callId, approved, recorded: false });
  });

  if (conversations !== undefined)
    addConversationRoutes(app, {
      conversations,
      store: store as RunStore,
      corsOrigins: corsOrigins ?? [],
      upgradeWebSocket,
      limitBody,
    });

  app.all("/api/*", (c) =>
    c.json(
      { error: { code: "not_found", message: `No route for ${c.req.method} ${new URL(c.req.url).pathname}` } },
      404,
    ),
  );

  const assets = dashboardAssets();
  app.get("*", (c) => {
    const path = new URL(c.req.url).pathname;
    const asset = assets.get(path);
    if (asset === undefined)
      return c.text(assets.size === 0 ? "The dashboard is not part of this build." : "Not found.", 404);
    return c.body(asset.body, 200, { "content-type": asset.contentType, "cache-control": "no-cache" });
  });

  return { app, runs, conversations };
}

/** A stored run that this server is still running shows as running, whatever the store has caught up with. */
function withLiveStatus(run: StoredRun, entry: LiveRunEntry | undefined): StoredRun {
  return entry !== undefined && entry.result === undefined ? { ...run, status: "running" } : run;
}
