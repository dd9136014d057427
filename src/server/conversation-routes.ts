import type { Context, Hono, MiddlewareHandler } from "hono";
import { streamSSE } from "hono/streaming";
import type { UpgradeWebSocket, WSContext } from "hono/ws";
import { describeValue } from "../errors/volley-error.ts";
import type { RunStore } from "../store/run-store.ts";
import { ApiError, integerParam, readJson } from "./api-requests.ts";
import type { ConversationEvent, ConversationTurn, LiveConversations } from "./live-conversations.ts";

export interface ConversationRoutesOptions {
  conversations: LiveConversations;
  /** Where the agent keeps its conversations: the same store it was given. */
  store: RunStore;
  /** Origins a browser may open the socket from, besides the server's own. */
  corsOrigins: readonly string[];
  /** The WebSocket upgrade of the server's runtime (`@hono/node-server`'s with `ws`); without it the socket answers 501. */
  upgradeWebSocket: UpgradeWebSocket | undefined;
  limitBody: MiddlewareHandler;
}

/** What a conversation id may be: what a URL carries without escaping, up to 200 characters. */
const CONVERSATION_ID = /^[A-Za-z0-9._~:-]{1,200}$/;
/** Most characters in one message from a client. */
const MAX_CONTENT_CHARS = 100_000;

function conversationIdOf(c: Context): string {
  const id = c.req.param("conversationId") ?? "";
  if (!CONVERSATION_ID.test(id))
    throw new ApiError(
      400,
      "invalid_conversation_id",
      `A conversation id is 1 to 200 letters, digits or . _ ~ : -, got ${JSON.stringify(id.slice(0, 40))}`,
    );
  return id;
}

/** The user's message in `{ "content": "..." }`, or why it is not one. */
function contentOf(body: unknown): string {
  const content = (body as { content?: unknown } | null)?.content;
  if (typeof content !== "string" || content.trim() === "")
    throw new ApiError(400, "invalid_body", `Expected { content: "the user's message" }, got ${describeValue(body)}`);
  if (content.length > MAX_CONTENT_CHARS)
    throw new ApiError(400, "invalid_body", `A message holds at most ${MAX_CONTENT_CHARS} characters`);
  return content;
}

function decisionOf(body: unknown): { approved: boolean; reason: string | undefined } {
  const { approved, reason } = (body ?? {}) as { approved?: unknown; reason?: unknown };
  if (typeof approved !== "boolean" || (reason !== undefined && typeof reason !== "string"))
    throw new ApiError(
      400,
      "invalid_body",
      `Expected { approved: boolean, reason?: string }, got ${describeValue(body)}`,
    );
  return { approved, reason };
}

/** The turn's events as a text/event-stream, from after `lastEventId`, until it ends or the client leaves. */
function streamTurn(c: Context, turn: ConversationTurn, lastEventId: string | undefined): Response {
  c.header("connection", "close");
  return streamSSE(c, async (stream) => {
    for await (const event of turn.events(lastEventId)) {
      if (stream.aborted) return;
      await stream.writeSSE({ id: event.id, event: event.type, data: JSON.stringify(event) });
    }
  });
}

/**
 * A served agent's conversations: send a message and read the turn as server-sent events, or
 * talk over a WebSocket; list and read conversations; decide approvals; cancel a turn.
 */
export function addConversationRoutes(app: Hono, options: ConversationRoutesOptions): void {
  const { conversations, store, corsOrigins, upgradeWebSocket, limitBody } = options;

  app.get("/api/conversations", async (c) => {
    const limit = integerParam(c, "limit", 50, 1, 1000);
    const offset = integerParam(c, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
    const listed = await store.conversations({ limit, offset });
    return c.json({
      conversations: listed.map((item) => ({
        ...item,
        busy: item.busy || conversations.turnOf(item.conversationId)?.running === true,
      })),
    });
  });

  app.get("/api/conversations/:conversationId", async (c) => {
    const conversationId = conversationIdOf(c);
    const messages = await store.messages(conversationId);
    const turn = conversations.turnOf(conversationId);
    if (messages.length === 0 && turn === undefined)
      throw new ApiError(404, "unknown_conversation", `No conversation ${JSON.stringify(conversationId)}`);
    // Each step that called tools names its run in the assistant message that made the calls.
    const runIds = messages.flatMap(({ message }) => {
      const runId = (message as { volley_run_id?: unknown }).volley_run_id;
      return typeof runId === "string" ? [runId] : [];
    });
    const runs = (await Promise.all(runIds.map((runId) => store.getRun(runId))))
      .filter((found) => found !== undefined)
      .map(({ run }) => run);
    return c.json({
      conversationId,
      messages,
      runs,
      turn: turn === undefined ? null : { turnId: turn.turnId, running: turn.running, startedAt: turn.startedAt },
    });
  });

  app.post("/api/conversations/:conversationId/messages", limitBody, async (c) => {
    const conversationId = conversationIdOf(c);
    const content = contentOf(await readJson(c));
    return streamTurn(c, conversations.send(conversationId, content), undefined);
  });

  app.get("/api/conversations/:conversationId/events", (c) => {
    const conversationId = conversationIdOf(c);
    const turn = conversations.turnOf(conversationId);
    if (turn === undefined)
      throw new ApiError(
        404,
        "no_turn",
        `Conversation ${JSON.stringify(conversationId)} has no turn in this server; GET /api/conversations/${conversationId} has its messages`,
      );
    return streamTurn(c, turn, c.req.header("last-event-id"));
  });

  app.post("/api/conversations/:conversationId/calls/:callId/approval", limitBody, async (c) => {
    const conversationId = conversationIdOf(c);
    const callId = c.req.param("callId");
    const { approved, reason } = decisionOf(await readJson(c));
    const decided = (await conversations.turnOf(conversationId)?.decide(callId, approved, reason)) === true;
    if (!decided)
      throw new ApiError(
        409,
        "not_waiting",
        `Call ${JSON.stringify(callId)} of conversation ${JSON.stringify(conversationId)} is not waiting for approval here, or another decision was recorded first`,
      );
    return c.json({ conversationId, callId, approved });
  });

  app.post("/api/conversations/:conversationId/cancel", (c) => {
    const conversationId = conversationIdOf(c);
    const turn = conversations.turnOf(conversationId);
    if (turn === undefined || !turn.cancel("cancelled through the API"))
      throw new ApiError(
        409,
        "no_turn_running",
        `Conversation ${JSON.stringify(conversationId)} has no turn running here`,
      );
    return c.json({ conversationId, turnId: turn.turnId, cancelled: true }, 202);
  });

  // A browser opens a WebSocket from any page it likes, with the user's cookies and loopback
  // reach: only the server's own pages (and the listed origins) may.
  const sameSiteSocket: MiddlewareHandler = async (c, next) => {
    const origin = c.req.header("origin");
    if (origin !== undefined && origin !== new URL(c.req.url).origin && !corsOrigins.includes(origin))
      throw new ApiError(403, "cross_site", `Refused a WebSocket from another site (${origin})`);
    await next();
  };
  if (upgradeWebSocket === undefined) {
    app.get("/api/conversations/:conversationId/socket", (c) =>
      c.json(
        {
          error: {
            code: "no_websocket",
            message: "This server has no WebSocket support: install ws (npm install ws) and serve with startServer",
          },
        },
        501,
      ),
    );
    return;
  }
  app.get(
    "/api/conversations/:conversationId/socket",
    sameSiteSocket,
    upgradeWebSocket((c) => {
      const conversationId = conversationIdOf(c);
      let open = true;
      const send = (ws: WSContext, event: ConversationEvent | Record<string, unknown>): void => {
        if (open) ws.send(JSON.stringify(event));
      };
      const relay = async (ws: WSContext, turn: ConversationTurn): Promise<void> => {
        for await (const event of turn.events()) {
          if (!open) return;
          send(ws, event);
        }
      };
      const refuse = (ws: WSContext, error: unknown): void => {
        const { code, message } =
          error instanceof ApiError ? error : { code: "invalid_message", message: String(error) };
        send(ws, { type: "error", code, message });
      };
      return {
        onOpen: (_event, ws) => {
          // A client that connects during a turn sees it from its start.
          const turn = conversations.turnOf(conversationId);
          if (turn?.running) void relay(ws, turn);
        },
        onMessage: (event, ws) => {
          void (async () => {
            let message: { type?: unknown; content?: unknown; callId?: unknown } & Record<string, unknown>;
            try {
              // The event's type comes from the DOM's MessageEvent, which this build's types leave unresolved.
              const data = (event as { data: unknown }).data;
              message = JSON.parse(typeof data === "string" ? data : "") as typeof message;
            } catch {
              return refuse(
                ws,
                'Send JSON: { "type": "message", "content": "..." }, an approval, or { "type": "cancel" }',
              );
            }
            try {
              if (message?.type === "message") {
                await relay(ws, conversations.send(conversationId, contentOf(message)));
              } else if (message?.type === "approval") {
                const { approved, reason } = decisionOf(message);
                const callId = typeof message.callId === "string" ? message.callId : "";
                const decided = await conversations.turnOf(conversationId)?.decide(callId, approved, reason);
                if (decided !== true)
                  refuse(
                    ws,
                    new ApiError(409, "not_waiting", `Call ${JSON.stringify(callId)} is not waiting for approval`),
                  );
              } else if (message?.type === "cancel") {
                if (conversations.turnOf(conversationId)?.cancel("cancelled by the client") !== true)
                  refuse(ws, new ApiError(409, "no_turn_running", "No turn of this conversation is running"));
              } else {
                refuse(
                  ws,
                  `Unknown message type ${describeValue(message?.type)}; send "message", "approval" or "cancel"`,
                );
              }
            } catch (error) {
              refuse(ws, error);
            }
          })();
        },
        onClose: () => {
          open = false;
        },
      };
    }),
  );
}
