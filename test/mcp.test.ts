import { randomUUID } from "node:crypto";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type Tool as McpTool,
} from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExecutor, type RunEvent } from "../src/index.ts";
import { mcpTools } from "../src/mcp/index.ts";

const everything = fileURLToPath(
  new URL("../node_modules/@modelcontextprotocol/server-everything/dist/index.js", import.meta.url),
);
const crashy = fileURLToPath(new URL("./fixtures/mcp-crashy-server.ts", import.meta.url));

function collectWarnings(): { messages: string[]; stop: () => void } {
  const messages: string[] = [];
  const listener = (warning: Error): void => void messages.push(warning.message);
  process.on("warning", listener);
  return { messages, stop: () => process.off("warning", listener) };
}

describe("mcpTools over stdio, with the reference server", () => {
  it("runs a long operation with progress in parallel with other calls", async () => {
    const server = await mcpTools({ command: process.execPath, args: [everything, "stdio"] });
    try {
      const names = server.tools.map((tool) => tool.name);
      expect(names).toEqual(expect.arrayContaining(["echo", "get-sum", "trigger-long-running-operation"]));
      const events: RunEvent[] = [];
      const executor = createExecutor({ tools: server.tools, onEvent: (event) => events.push(event) });
      const { results, stats } = await executor.run([
        { id: "long", name: "trigger-long-running-operation", args: { duration: 1, steps: 4 } },
        { id: "echo", name: "echo", args: { message: "hi" } },
        { id: "sum", name: "get-sum", args: { a: 2, b: 3 } },
        { id: "bad", name: "get-sum", args: { a: "two" } },
      ]);
      expect(results.slice(0, 3).every((result) => result.ok)).toBe(true);
      expect(String(results[1]?.output)).toContain("hi");
      expect(String(results[2]?.output)).toContain("5");
      expect(results[3]?.error?.type).toBe("invalid_arguments");
      const progress = events.filter((event) => event.type === "call-progress" && event.callId === "long");
      // The last notification may arrive after the result, and a report for an ended call is dropped.
      expect(progress.length).toBeGreaterThanOrEqual(3);
      const reported = progress.map((event) => event as { progress: number; total?: number });
      expect(
        reported.every(
          (event, index) =>
            event.total === 4 &&
            (index === 0 || event.progress > (reported[index - 1] as { progress: number }).progress),
        ),
      ).toBe(true);
      expect(stats.maxInFlight).toBeGreaterThanOrEqual(2);
    } finally {
      await server.close();
    }
  });
});

describe("mcpTools over Streamable HTTP, with a server on loopback", () => {
  const log: string[] = [];
  const active = { reads: 0, writes: 0 };
  const overlaps: string[] = [];
  let cancelled = 0;
  const tools: McpTool[] = [
    {
      name: "read_a",
      inputSchema: { type: "object", properties: { n: { type: "number" } } },
      annotations: { readOnlyHint: true },
    },
    { name: "write_b", inputSchema: { type: "object", properties: { n: { type: "number" } } } },
    { name: "fail_c", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
    { name: "struct_d", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
    { name: "wait_e", inputSchema: { type: "object" }, annotations: { readOnlyHint: true, idempotentHint: true } },
    // Takes `$ref`-shaped values as data, as a schema or OpenAPI tool does.
    {
      name: "link_f",
      inputSchema: {
        type: "object",
        properties: { link: { type: "object", properties: { $ref: { type: "string" } } } },
      },
      annotations: { readOnlyHint: true },
    },
  ];
  let http: HttpServer;
  let url: string;

  function makeServer(): Server {
    const server = new Server({ name: "loopback", version: "1.0.0" }, { capabilities: { tools: {} } });
    // Two tools a page, to make the client follow the cursor.
    server.setRequestHandler(ListToolsRequestSchema, (request) => {
      const start = Number(request.params?.cursor ?? 0);
      return {
        tools: tools.slice(start, start + 2),
        ...(start + 2 < tools.length ? { nextCursor: String(start + 2) } : {}),
      };
    });
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const name = request.params.name;
      if (name === "fail_c") return { isError: true, content: [{ type: "text", text: "the widget is jammed" }] };
      if (name === "struct_d") return { content: [{ type: "text", text: "{}" }], structuredContent: { widgets: 3 } };
      if (name === "link_f")
        return { content: [{ type: "text", text: "{}" }], structuredContent: { received: request.params.arguments } };
      if (name === "wait_e") {
        await new Promise<void>((resolve) => extra.signal.addEventListener("abort", () => resolve(), { once: true }));
        cancelled++;
        return { content: [] };
      }
      const write = name === "write_b";
      if (write ? active.reads + active.writes > 0 : active.writes > 0) overlaps.push(name);
      if (write) active.writes++;
      else active.reads++;
      log.push(`start ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 30));
      if (write) active.writes--;
      else active.reads--;
      return { content: [{ type: "text", text: `${name} done` }] };
    });
    return server;
  }

  beforeAll(async () => {
    const sessions = new Map<string, StreamableHTTPServerTransport>();
    http = createServer((request, response) => {
      void (async () => {
        const sessionId = request.headers["mcp-session-id"];
        let transport = typeof sessionId === "string" ? sessions.get(sessionId) : undefined;
        if (transport === undefined) {
          const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            onsessioninitialized: (id) => void sessions.set(id, created),
          });
          transport = created;
          await makeServer().connect(transport);
        }
        await transport.handleRequest(request, response);
      })();
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  });
  afterAll(() => new Promise<void>((resolve) => http.close(() => resolve())));

  it("lists every page, and says plainly when unannotated tools will run one at a time", async () => {
    const warnings = collectWarnings();
    const server = await mcpTools({ url });
    await new Promise((resolve) => setImmediate(resolve)); // warnings are delivered on a later tick
    warnings.stop();
    expect(server.tools.map((tool) => tool.name)).toEqual([
      "read_a",
      "write_b",
      "fail_c",
      "struct_d",
      "wait_e",
      "link_f",
    ]);
    expect(warnings.messages.some((message) => message.includes("write_b") && message.includes("one at a time"))).toBe(
      true,
    );
    await server.close();
  });

  it("hands a tool whose schema has a $ref property its $ref objects as they are, with no configuration", async () => {
    const server = await mcpTools({ url }, { warnWhenSerialising: false });
    try {
      const { results } = await createExecutor({ tools: server.tools }).run([
        { name: "link_f", args: { link: { $ref: "users" } } },
      ]);
      expect(results[0]).toMatchObject({ ok: true, output: { received: { link: { $ref: "users" } } } });
    } finally {
      await server.close();
    }
  });

  it("shares the server between read-only calls and never overlaps a possibly destructive one", async () => {
    const server = await mcpTools({ url }, { warnWhenSerialising: false });
    const executor = createExecutor({ tools: server.tools });
    overlaps.length = 0;
    const events: RunEvent[] = [];
    const calls = [
      ...[1, 2, 3].map((n) => ({ id: `r${n}`, name: "read_a", args: { n } })),
      ...[1, 2, 3].map((n) => ({ id: `w${n}`, name: "write_b", args: { n } })),
    ];
    const { results } = await executor.run(calls, { onEvent: (event) => events.push(event) });
    expect(results.every((result) => result.ok)).toBe(true);
    // Counted by the server itself: no write overlapped anything.
    expect(overlaps).toEqual([]);
    // The three reads ran together: each started before the first one ended.
    const order = events
      .filter((event) => event.type === "call-start" || event.type === "call-end")
      .map((event) => `${event.type === "call-start" ? "+" : "-"}${(event as { callId: string }).callId}`);
    expect(order.slice(0, 3).sort()).toEqual(["+r1", "+r2", "+r3"]);
    await server.close();
  });

  it("takes a client you connected yourself, and hints that override the server's", async () => {
    const client = new Client({ name: "my-agent", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const warnings = collectWarnings();
    const server = await mcpTools({ client }, { hints: { destructive: false }, prefix: "shop." });
    await new Promise((resolve) => setImmediate(resolve));
    warnings.stop();
    expect(warnings.messages.filter((message) => message.includes("one at a time"))).toEqual([]);
    expect(server.tools.map((tool) => tool.name)).toContain("shop.write_b");
    const executor = createExecutor({ tools: server.tools });
    const events: RunEvent[] = [];
    await executor.run(
      [1, 2].map((n) => ({ id: `w${n}`, name: "shop.write_b", args: { n } })),
      { onEvent: (event) => events.push(event) },
    );
    // No longer destructive: the two writes ran together.
    expect(
      events
        .filter((event) => event.type === "call-start" || event.type === "call-end")
        .map((event) => event.type)
        .slice(0, 2),
    ).toEqual(["call-start", "call-start"]);
    await server.close();
    // Your client stays yours: still connected.
    expect((await client.listTools()).tools.length).toBe(2);
    await client.close();
  });

  it("asks for approval of the tools a config marks, and runs them once approved", async () => {
    const server = await mcpTools({ url }, { tools: { write_b: { needsApproval: true, destructive: false } } });
    const executor = createExecutor({
      tools: server.tools,
      approve: (request) => ({ approved: request.args.n === 1, reason: "only the first" }),
    });
    const { results } = await executor.run([1, 2].map((n) => ({ id: `w${n}`, name: "write_b", args: { n } })));
    expect(results.map((result) => result.ok)).toEqual([true, false]);
    expect(results[1]?.error).toMatchObject({
      type: "denied",
      message: expect.stringMatching(/only the first/) as string,
    });
    await server.close();
  });

  it("turns isError into tool_error with the server's words, and keeps structured content", async () => {
    const server = await mcpTools({ url }, { warnWhenSerialising: false });
    const executor = createExecutor({ tools: server.tools });
    const { results } = await executor.run([{ name: "fail_c" }, { name: "struct_d" }]);
    expect(results[0]?.error).toMatchObject({ type: "tool_error", message: "the widget is jammed" });
    expect(results[1]?.output).toEqual({ widgets: 3 });
    await server.close();
  });

  it("cancels the request on the server when Volley times the call out", async () => {
    const server = await mcpTools({ url }, { warnWhenSerialising: false, tools: { wait_e: { timeoutMs: 100 } } });
    const executor = createExecutor({ tools: server.tools });
    const before = cancelled;
    const { results } = await executor.run([{ name: "wait_e" }]);
    expect(results[0]?.error?.type).toBe("timeout");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(cancelled).toBe(before + 1);
    await server.close();
  });
});

describe("mcpTools when a server's tool list changes", () => {
  it("follows the server's list: onChange gives the new tools, unchanged ones the same objects, and an executor takes them", async () => {
    const server = await mcpTools({ command: process.execPath, args: [crashy] });
    try {
      const executor = createExecutor({ tools: server.tools });
      const hello = server.tools.find((tool) => tool.name === "hello");
      const changes: string[][] = [];
      server.onChange((tools) => {
        changes.push(tools.map((tool) => tool.name));
        executor.setTools(tools);
      });
      expect((await executor.run([{ name: "grow" }])).results[0]).toMatchObject({ output: "grown" });
      await expect.poll(() => changes.length).toBe(1);
      expect(changes[0]).toContain("extra");
      expect(server.tools.find((tool) => tool.name === "hello")).toBe(hello);
      expect((await executor.run([{ name: "extra", args: { word: "hi" } }])).results[0]).toMatchObject({
        output: "extra hi",
      });
      await executor.run([{ name: "shrink" }]);
      await expect.poll(() => changes.length).toBe(2);
      expect(changes[1]).not.toContain("extra");
      expect((await executor.run([{ name: "extra", args: { word: "hi" } }])).results[0]?.error?.type).toBe(
        "unknown_tool",
      );
    } finally {
      await server.close();
    }
  });
});

describe("mcpTools when servers misbehave", () => {
  it("fails the calls in flight when the server dies, and reconnects for the next call", async () => {
    const server = await mcpTools({ command: process.execPath, args: [crashy] });
    try {
      const executor = createExecutor({ tools: server.tools });
      const { results } = await executor.run([{ name: "slow", args: { ms: 2000 } }, { name: "crash" }]);
      expect(results.map((result) => result.error?.type)).toEqual(["tool_error", "tool_error"]);
      expect(results[0]?.error?.message).toMatch(/failed during "slow"/);
      const again = await executor.run([{ name: "hello" }]);
      expect(again.results[0]).toMatchObject({
        ok: true,
        output: expect.stringMatching(/^hello from \d+$/) as unknown,
      });
    } finally {
      await server.close();
    }
  });

  it("gives a clear error, not a hang, for a server that never starts or never answers", async () => {
    await expect(mcpTools({ command: "volley-no-such-command" })).rejects.toThrow(
      /Could not connect to MCP server `volley-no-such-command`/,
    );
    await expect(
      mcpTools({ command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"] }, { connectTimeoutMs: 300 }),
    ).rejects.toThrow(/did not complete the MCP handshake within 300 ms/);
  });

  it("fails at once, with what the server printed, when it exits before the handshake while a child of its own keeps its pipes open", async () => {
    // As `npx -y <a name npm does not have>` can: npm's 404 on stderr, the exit, and a helper process still holding stdout.
    const script = [
      'const { spawn } = require("node:child_process");',
      'spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "inherit", detached: true }).unref();',
      'console.error("npm error 404 Not Found - GET https://registry.example/volley-no-such-package");',
      "process.exit(1);",
    ].join("\n");
    // The time limit is far beyond the test's: waiting for it would fail the test.
    await expect(
      mcpTools({ command: process.execPath, args: ["-e", script] }, { connectTimeoutMs: 600_000 }),
    ).rejects.toThrow(
      /Could not connect to MCP server [\s\S]*: it exited before the MCP handshake\. It printed:\nnpm error 404 Not Found/,
    );
  }, 15_000);
});
