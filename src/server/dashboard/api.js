// @ts-check
import { readEventStream } from "./event-stream.js";

const TOKEN_KEY = "volley.token";

/** A token given in the address (`#token=…`, as `volley serve` prints it) is kept for this tab and taken out of the address. */
export function takeTokenFromAddress() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match?.[1] === undefined) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
  // Replacing the address fires no hashchange, so the page routes as usual.
  history.replaceState(null, "", `${location.pathname}#/`);
}

/** @param {string} token */
export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** @returns {Record<string, string>} */
function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * @param {Response} response
 * @returns {Promise<never>}
 */
async function fail(response) {
  /** @type {string} */
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = /** @type {{ error?: { message?: string } }} */ (await response.json());
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not JSON: the status says enough.
  }
  throw new ApiError(response.status, message);
}

/**
 * @param {string} path
 * @returns {Promise<any>}
 */
export async function getJson(path) {
  const response = await fetch(path, { headers: authHeaders() });
  if (!response.ok) return fail(response);
  return response.json();
}

/**
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<any>}
 */
export async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { ...authHeaders(), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) return fail(response);
  return response.json();
}

/**
 * Follows a run's events until it ends or `signal` aborts; each is handed to `onEvent` parsed.
 * @param {string} runId
 * @param {(event: any) => void} onEvent
 * @param {AbortSignal} signal
 */
export async function followRun(runId, onEvent, signal) {
  const response = await fetch(`/api/runs/${encodeURIComponent(runId)}/events`, {
    headers: { ...authHeaders(), accept: "text/event-stream" },
    signal,
  });
  if (!response.ok) return fail(response);
  for await (const message of readEventStream(response)) onEvent(JSON.parse(message.data));
}

/**
 * Sends a message to a served conversation and yields the turn's events as they come, parsed.
 * @param {string} conversationId
 * @param {string} content
 * @param {AbortSignal} signal
 * @returns {AsyncGenerator<any>}
 */
export async function* sendMessage(conversationId, content, signal) {
  const response = await fetch(`/api/conversations/${encodeURIComponent(conversationId)}/messages`, {
    method: "POST",
    headers: { ...authHeaders(), "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ content }),
    signal,
  });
  if (!response.ok) return fail(response);
  for await (const message of readEventStream(response)) yield JSON.parse(message.data);
}

/**
 * The events of a conversation's latest turn in this server, from its start, as they come.
 * @param {string} conversationId
 * @param {AbortSignal} signal
 * @returns {AsyncGenerator<any>}
 */
export async function* followConversation(conversationId, signal) {
  const response = await fetch(`/api/conversations/${encodeURIComponent(conversationId)}/events`, {
    headers: { ...authHeaders(), accept: "text/event-stream" },
    signal,
  });
  if (!response.ok) return fail(response);
  for await (const message of readEventStream(response)) yield JSON.parse(message.data);
}
