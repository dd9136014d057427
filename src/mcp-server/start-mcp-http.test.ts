// The Streamable HTTP gateway as the wire sees it: plain fetch, no SDK client, so that what a
// client may leave out (the optional standalone GET stream) is left out for certain.
import { afterEach, describe, expect, it } from "vitest";
import { createExecutor } from "../executor/create-executor.ts";
import { readEventStream } from "../server/dashboard/event-stream.js";
import { defineTool } from "../tool/define-tool.ts";
import { createMcpGateway } from "./mcp-gateway.ts";
import { startMcpHttp, type RunningMcpHttp } from "./start-mcp-http.ts";

const ACCEPT = { "content-type": "application/json", accept: "application/json, text/event-stream" };

interface JsonRpcMessage {
  id?: string | number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
}

/** The JSON-RPC messages of an SSE response, as they arrive. */
async function* messagesOf(response: Response): AsyncGenerator<JsonRpcMessage> {
  for await (const event of readEventStream(response)) yield JSON.parse(event.data) as JsonRpcMessage;
}

let running: RunningMcpHttp | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe("startMcpHttp", () => {
  it("asks a client to approve a call on that call's own response stream, so a client without the standalone stream is still asked", async () => {
    const guarded = defineTool({ name: "guarded", needsApproval: true, execute: () => "approved and done" });
    const gateway = createMcpGateway({
      executor: createExecutor({ tools: [guarded], approve: (request) => gateway.approveThroughClients(request) }),
    });
    running = await startMcpHttp({ gateway, port: 0 });
    const url = running.url;

    const initialize = await fetch(url, {
      method: "POST",
      headers: ACCEPT,
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: { elicitation: {} },
          clientInfo: { name: "fetch-client", version: "1" },
        },
      }),
    });
    const session = { ...ACCEPT, "mcp-session-id": initialize.headers.get("mcp-session-id")! };
    await initialize.text();
    await fetch(url, {
      method: "POST",
      headers: session,
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    }).then((response) => response.text());

    const call = await fetch(url, {
      method: "POST",
      headers: session,
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "guarded", arguments: {} } }),
    });
    const seen: string[] = [];
    let answer: JsonRpcMessage | undefined;
    for await (const message of messagesOf(call)) {
      if (message.method === "elicitation/create") {
        seen.push(String(message.params?.message));
        await fetch(url, {
          method: "POST",
          headers: session,
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: message.id,
            result: { action: "accept", content: { approve: true } },
          }),
        }).then((response) => response.text());
      } else if (message.id === 2) {
        answer = message;
        break;
      }
    }
    expect(seen).toEqual(['Allow the call of "guarded" with {}?']);
    expect(answer?.result).toMatchObject({ content: [{ type: "text", text: "approved and done" }] });
  });
});
