import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { invalidOption } from "../errors/volley-error.ts";

/** One assistant turn the mock answers with. */
export interface MockTurn {
  /** What the assistant says, streamed a word (one token) at a time. */
  content?: string;
  toolCalls?: readonly MockToolCall[];
  /** @default "tool_calls" when there are tool calls, else "stop" */
  finishReason?: "stop" | "tool_calls" | "length";
}

export interface MockToolCall {
  /** @default a generated `call_…` id */
  id?: string;
  name: string;
  /** JSON text, or an object to send as JSON. */
  arguments: string | Record<string, unknown>;
  /** Tokens the call streams as, for pacing: one for its name, the rest cut from its arguments. @default 1 + 1 per 4 characters of arguments */
  tokens?: number;
}

/** A Chat Completions request as the mock received it. */
export interface MockRequest {
  model?: string;
  messages?: unknown[];
  tools?: unknown[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  [key: string]: unknown;
}

export interface MockOpenAIOptions {
  /** The turns to answer with, one per request in order, or a function of the request and its index. */
  script: readonly MockTurn[] | ((request: MockRequest, index: number) => MockTurn);
  /** Time before the first token of each answer. @default 0 */
  timeToFirstTokenMs?: number;
  /** Tokens per second after the first. @default Infinity (all at once) */
  tokensPerSecond?: number;
  /** Port on 127.0.0.1. @default 0 (any free port) */
  port?: number;
}

export interface MockOpenAIServer {
  /** Base URL for an OpenAI client: `http://127.0.0.1:<port>/v1`. */
  readonly baseURL: string;
  /** Every request received, in order. */
  readonly requests: readonly MockRequest[];
  close(): Promise<void>;
}

/** A piece of an answer, one token long. */
type Token =
  | { kind: "text"; text: string }
  | { kind: "call-start"; index: number; id: string; name: string }
  | { kind: "arguments"; index: number; text: string };

function tokensOf(turn: MockTurn): Token[] {
  const tokens: Token[] = [];
  for (const word of turn.content?.match(/\S+\s*|\s+/g) ?? []) tokens.push({ kind: "text", text: word });
  (turn.toolCalls ?? []).forEach((call, index) => {
    const argumentsText = typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);
    tokens.push({
      kind: "call-start",
      index,
      id: call.id ?? `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`,
      name: call.name,
    });
    // The call's first token carries its name; the arguments take the rest, cut evenly.
    const pieces = Math.max(
      1,
      Math.min(argumentsText.length, (call.tokens ?? Math.ceil(argumentsText.length / 4) + 1) - 1),
    );
    for (let piece = 0; piece < pieces; piece++) {
      const text = argumentsText.slice(
        Math.round((piece * argumentsText.length) / pieces),
        Math.round(((piece + 1) * argumentsText.length) / pieces),
      );
      tokens.push({ kind: "arguments", index, text });
    }
  });
  return tokens;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

const sleepUntil = (at: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));

/**
 * A real HTTP server on loopback that speaks the OpenAI Chat Completions API, streaming (SSE,
 * with tool-call deltas and usage) and not, answering from a script at a set pace. For testing
 * agents, Volley's own included, without a real model.
 */
export async function startMockOpenAI(options: MockOpenAIOptions): Promise<MockOpenAIServer> {
  const where = "startMockOpenAI";
  if (options === null || typeof options !== "object")
    invalidOption(where, "options", "{ script, timeToFirstTokenMs?, tokensPerSecond? }", options);
  const { script, timeToFirstTokenMs = 0, tokensPerSecond = Infinity, port = 0 } = options;
  if (!Array.isArray(script) && typeof script !== "function")
    invalidOption(where, "script", "an array of turns or a function of the request", script);
  if (!(timeToFirstTokenMs >= 0))
    invalidOption(where, "timeToFirstTokenMs", "a number of milliseconds from 0 and up", timeToFirstTokenMs);
  if (!(tokensPerSecond > 0)) invalidOption(where, "tokensPerSecond", "a number above 0, or Infinity", tokensPerSecond);
  if (!Number.isInteger(port) || port < 0) invalidOption(where, "port", "a port number, or 0 for any", port);

  const requests: MockRequest[] = [];
  const turnFor = (request: MockRequest, index: number): MockTurn | undefined =>
    typeof script === "function" ? script(request, index) : (script as readonly MockTurn[])[index];

  const answer = async (request: MockRequest, response: ServerResponse): Promise<void> => {
    const index = requests.length;
    requests.push(request);
    const turn = turnFor(request, index);
    if (turn === undefined) {
      response.writeHead(500, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          error: { message: `The mock's script has no turn ${index + 1}`, type: "mock_script_exhausted" },
        }),
      );
      return;
    }
    const tokens = tokensOf(turn);
    const finishReason = turn.finishReason ?? ((turn.toolCalls?.length ?? 0) > 0 ? "tool_calls" : "stop");
    const usage = {
      prompt_tokens: JSON.stringify(request.messages ?? []).length >> 2,
      completion_tokens: tokens.length,
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const model = request.model ?? "mock";
    const started = performance.now();
    const dueAt = (position: number): number =>
      started + timeToFirstTokenMs + (tokensPerSecond === Infinity ? 0 : (position * 1000) / tokensPerSecond);

    if (request.stream !== true) {
      await sleepUntil(dueAt(Math.max(0, tokens.length - 1)));
      const toolCalls = (turn.toolCalls ?? []).map((_, callIndex) => {
        const start = tokens.find(
          (token): token is Extract<Token, { kind: "call-start" }> =>
            token.kind === "call-start" && token.index === callIndex,
        ) as Extract<Token, { kind: "call-start" }>;
        const argumentsText = tokens
          .filter((token) => token.kind === "arguments" && token.index === callIndex)
          .map((token) => (token as { text: string }).text)
          .join("");
        return { id: start.id, type: "function", function: { name: start.name, arguments: argumentsText } };
      });
      const message = {
        role: "assistant",
        content: turn.content ?? null,
        refusal: null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      };
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          id,
          object: "chat.completion",
          created,
          model,
          choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
          usage,
        }),
      );
      return;
    }

    response.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const send = (choices: unknown[], extra: Record<string, unknown> = {}): void => {
      response.write(
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices, ...extra })}\n\n`,
      );
    };
    send([{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]);
    for (const [position, token] of tokens.entries()) {
      await sleepUntil(dueAt(position));
      if (response.destroyed) return;
      const delta =
        token.kind === "text"
          ? { content: token.text }
          : token.kind === "call-start"
            ? {
                tool_calls: [
                  { index: token.index, id: token.id, type: "function", function: { name: token.name, arguments: "" } },
                ],
              }
            : { tool_calls: [{ index: token.index, function: { arguments: token.text } }] };
      send([{ index: 0, delta, logprobs: null, finish_reason: null }]);
    }
    send([{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason }]);
    if (request.stream_options?.include_usage === true) send([], { usage });
    response.end("data: [DONE]\n\n");
  };

  const server = createServer((request, response) => {
    void (async () => {
      const path = (request.url ?? "").split("?")[0];
      if (request.method === "GET" && path === "/v1/models") {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(
          JSON.stringify({ object: "list", data: [{ id: "mock", object: "model", created: 0, owned_by: "volley" }] }),
        );
        return;
      }
      if (request.method !== "POST" || path !== "/v1/chat/completions") {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            error: {
              message: `The mock serves POST /v1/chat/completions, not ${request.method} ${path}`,
              type: "not_found",
            },
          }),
        );
        return;
      }
      let body: MockRequest;
      try {
        body = JSON.parse(await readBody(request)) as MockRequest;
      } catch {
        response.writeHead(400, { "content-type": "application/json" });
        response.end(
          JSON.stringify({ error: { message: "The request body is not JSON", type: "invalid_request_error" } }),
        );
        return;
      }
      await answer(body, response);
    })().catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: String(error), type: "mock_error" } }));
    });
  });
  // Loopback only: this server answers anyone who can reach it.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${address.port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
