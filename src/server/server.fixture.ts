// The API as the server tests drive it: an app over an executor with a few tools, and a stream reader.
import { controlledTool } from "../executor/executor.fixture.ts";
import { createExecutor, defineTool } from "../index.ts";
import { MemoryRunStore } from "../store/index.ts";
import { createServerApp, type ServerAppOptions } from "./create-server-app.ts";
import { readEventStream } from "./dashboard/event-stream.js";

export const TOKEN = "a-token-of-sixteen-or-more";
export const guarded = defineTool({ name: "guarded", needsApproval: true, execute: () => "done" });
export const echo = defineTool({
  name: "echo",
  input: { type: "object", properties: { text: { type: "string" } } },
  execute: ({ text }: { text?: string }) => text ?? "",
});

export function setUp(options: Partial<ServerAppOptions> = {}) {
  const slow = controlledTool("slow");
  const store = new MemoryRunStore();
  const executor = createExecutor({ tools: [echo, slow.tool, guarded], history: store });
  const { app, runs } = createServerApp({ executor, store, ...options });
  const request = (path: string, init: RequestInit = {}) => app.request(`http://127.0.0.1${path}`, init);
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    request(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  return { app, runs, slow, store, executor, request, post };
}

export async function collect(response: Response) {
  const events: { event: string; id: string | undefined; data: Record<string, unknown> }[] = [];
  for await (const event of readEventStream(response))
    events.push({ event: event.event, id: event.id, data: JSON.parse(event.data) as Record<string, unknown> });
  return events;
}
