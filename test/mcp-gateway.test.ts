// `volley mcp` as MCP clients meet it: the built command, started over stdio and over Streamable
// HTTP, driven by the official MCP TypeScript SDK's client, with a real upstream MCP server.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  ElicitRequestSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
} from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteRunStore } from "../src/store/index.ts";
import { runVolley, VOLLEY_BIN } from "./volley-cli.ts";

const everything = fileURLToPath(
  new URL("../node_modules/@modelcontextprotocol/server-everything/dist/index.js", import.meta.url),
);
const crashy = fileURLToPath(new URL("./fixtures/mcp-crashy-server.ts", import.meta.url));
const TOKEN = "gateway-test-token-0123456789";

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "volley-mcp-gateway-"));
  writeFileSync(
    join(work, "volley.config.json"),
    JSON.stringify({
      tools: [resolve("test/fixtures/gateway-tools.ts")],
      mcpServers: {
        crashy: { command: process.execPath, args: [crashy], prefix: "crashy_" },
        everything: {
          command: process.execPath,
          args: [everything, "stdio"],
          prefix: "everything_",
          hints: { readOnly: true },
        },
      },
      history: "history.db",
    }),
  );
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const text = (result: unknown): string =>
  ((result as CallToolResult).content ?? []).map((block) => (block.type === "text" ? block.text : "")).join("");

async function connectStdio(): Promise<Client> {
  const client = new Client({ name: "stdio-test-client", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [VOLLEY_BIN, "mcp"], cwd: work, stderr: "pipe" }),
  );
  return client;
}

/** `volley mcp --port 0 ...`, and the endpoint it prints. */
async function startHttp(args: string[] = []): Promise<{ child: ChildProcess; url: URL }> {
  const child = spawn(process.execPath, [VOLLEY_BIN, "mcp", "--port", "0", ...args], { cwd: work });
  let output = "";
  const url = await new Promise<URL>((found, fail) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /endpoint\s+(\S+)/.exec(output);
      if (match?.[1]) found(new URL(match[1]));
    });
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("close", () => fail(new Error(`volley mcp exited: ${output}`)));
  });
  return { child, url };
}

async function connectHttp(url: URL, name: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
  return client;
}

describe("volley mcp over stdio", () => {
  it("lists local and upstream tools with their schemas, and the batch tool; answers calls, errors and progress", async () => {
    const client = await connectStdio();
    try {
      const { tools } = await client.listTools();
      const byName = new Map(tools.map((tool) => [tool.name, tool]));
      expect(byName.get("lookup")?.inputSchema).toMatchObject({ type: "object", required: ["topic"] });
      expect(byName.get("everything_get-sum")?.inputSchema).toMatchObject({
        type: "object",
        properties: { a: {}, b: {} },
      });
      expect(byName.get("run_tool_calls")?.description).toMatch(/\$ref/);

      expect(text(await client.callTool({ name: "everything_echo", arguments: { message: "hi" } }))).toBe("Echo: hi");
      const refused = await client.callTool({ name: "broken", arguments: {} });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toContain("the upstream said no");
      const unknown = await client.callTool({ name: "brokn", arguments: {} });
      expect(unknown.isError).toBe(true);
      expect(text(unknown)).toMatch(/brokn.*did you mean "broken"|broken/);

      const updates: { progress: number; total?: number | undefined; message?: string | undefined }[] = [];
      const stepped = await client.callTool({ name: "steps", arguments: {} }, undefined, {
        onprogress: (update) => updates.push(update),
      });
      expect(text(stepped)).toBe("done");
      expect(updates.map((update) => [update.progress, update.total, update.message])).toEqual([
        [1, 3, "step 1"],
        [2, 3, "step 2"],
        [3, 3, "step 3"],
      ]);
    } finally {
      await client.close();
    }
  });

  it("runs several calls in one request with the batch tool, one feeding another through a $ref", async () => {
    const client = await connectStdio();
    try {
      const result = await client.callTool({
        name: "run_tool_calls",
        arguments: {
          calls: [
            { id: "notes", name: "lookup", args: { topic: "tides" } },
            { id: "count", name: "word_count", args: { text: { $ref: "notes", path: "/text" } } },
            { id: "sum", name: "everything_get-sum", args: { a: { $ref: "count" }, b: 1 } },
            { id: "nope", name: "broken" },
          ],
        },
      });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual({
        results: [
          { id: "notes", ok: true, output: { text: "notes on tides: tides follow the moon" } },
          { id: "count", ok: true, output: 7 },
          { id: "sum", ok: true, output: "The sum of 7 and 1 is 8." },
          { id: "nope", ok: false, error: "the upstream said no" },
        ],
      });
    } finally {
      await client.close();
    }
  });
});

describe("volley mcp with a config it can't use", () => {
  it("says what is wrong in one line and exits 2, before any client connects", async () => {
    writeFileSync(join(work, "typo.config.json"), JSON.stringify({ tools: [], mcpServer: {} }));
    const cases: [string[], RegExp][] = [
      [["mcp", "--config", "missing.json"], /^volley: Config file not found: missing\.json$/],
      [
        ["mcp", "--config", "typo.config.json"],
        /^volley: .*typo\.config\.json: unknown key `mcpServer`; did you mean `mcpServers`\?$/,
      ],
      [["mcp", "--port", "http"], /^volley: .*--port/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await runVolley(args, { cwd: work });
      expect(stderr.trim()).toMatch(message);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stdout).toBe("");
      expect(code).toBe(2);
    }
  });
});

describe("volley mcp with an upstream server whose tool list changes", () => {
  it("tells its clients with tools/list_changed, lists the new tools and runs them, and refuses one taken away", async () => {
    const client = await connectStdio();
    let announced = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void announced++);
    try {
      const names = async () => (await client.listTools()).tools.map((tool) => tool.name);
      expect(await names()).not.toContain("crashy_extra");
      expect(text(await client.callTool({ name: "crashy_grow", arguments: {} }))).toBe("grown");
      await expect.poll(() => announced).toBe(1);
      expect(await names()).toContain("crashy_extra");
      const listed = (await client.listTools()).tools.find((tool) => tool.name === "crashy_extra");
      expect(listed).toMatchObject({ description: "Appears when asked", annotations: { readOnlyHint: true } });
      expect(text(await client.callTool({ name: "crashy_extra", arguments: { word: "hi" } }))).toBe("extra hi");

      await client.callTool({ name: "crashy_shrink", arguments: {} });
      await expect.poll(() => announced).toBe(2);
      expect(await names()).not.toContain("crashy_extra");
      const gone = await client.callTool({ name: "crashy_extra", arguments: { word: "hi" } });
      expect(gone.isError).toBe(true);
      expect(text(gone)).toMatch(/Unknown tool "crashy_extra"/);
    } finally {
      await client.close();
    }
  });
});

describe("volley mcp with an upstream server that crashes", () => {
  it("answers the call it was running with an error, and starts the server again for the next one", async () => {
    const client = await connectStdio();
    try {
      const before = text(await client.callTool({ name: "crashy_hello", arguments: {} }));
      const crashed = await client.callTool({ name: "crashy_crash", arguments: {} });
      expect(crashed.isError).toBe(true);
      expect(text(crashed)).toMatch(/failed during "crash"/);
      const after = text(await client.callTool({ name: "crashy_hello", arguments: {} }));
      expect(after).toMatch(/^hello from \d+$/);
      // Another process: the server was started again.
      expect(after).not.toBe(before);
    } finally {
      await client.close();
    }
  });
});

describe("volley mcp over Streamable HTTP", () => {
  let server: { child: ChildProcess; url: URL };
  beforeAll(async () => {
    server = await startHttp();
  }, 30_000);
  afterAll(() => server?.child.kill("SIGTERM"));

  it("holds a tool's limit across two clients, and records each client's calls in the history", async () => {
    const [first, second] = await Promise.all([
      connectHttp(server.url, "first-client"),
      connectHttp(server.url, "second-client"),
    ]);
    try {
      const results = await Promise.all(
        [first, second].flatMap((client) =>
          [1, 2].map(() => client.callTool({ name: "one_at_a_time", arguments: {} })),
        ),
      );
      // Four calls from two clients against a concurrency of 1: each started alone.
      expect(results.map((result) => result.structuredContent)).toEqual([
        { atStart: 1 },
        { atStart: 1 },
        { atStart: 1 },
        { atStart: 1 },
      ]);
      const store = new SqliteRunStore({ path: join(work, "history.db") });
      try {
        await expect
          .poll(async () => (await store.listRuns({ tool: "one_at_a_time" })).map((run) => run.options.name).sort())
          .toEqual([
            "MCP · first-client: one_at_a_time",
            "MCP · first-client: one_at_a_time",
            "MCP · second-client: one_at_a_time",
            "MCP · second-client: one_at_a_time",
          ]);
      } finally {
        await store.close();
      }
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it("cancels a call when its client cancels the request", async () => {
    const client = await connectHttp(server.url, "cancelling-client");
    try {
      const controller = new AbortController();
      const call = client.callTool({ name: "wait_for_cancel", arguments: {} }, undefined, {
        signal: controller.signal,
        onprogress: () => controller.abort(new Error("the user moved on")),
      });
      await expect(call).rejects.toThrow();
      await expect
        .poll(async () => (await client.callTool({ name: "was_cancelled", arguments: {} })).structuredContent)
        .toEqual({ cancelled: true });
    } finally {
      await client.close();
    }
  });

  it("holds a call that needs approval until it is decided, here through the history as the dashboard does", async () => {
    const client = await connectHttp(server.url, "approval-client");
    const store = new SqliteRunStore({ path: join(work, "history.db") });
    try {
      const call = client.callTool({ name: "guarded", arguments: {} });
      let pending: { runId: string; callId: string } | undefined;
      await expect
        .poll(async () => {
          pending = (await store.approvals({ pending: true })).find((approval) => approval.name === "guarded");
          return pending !== undefined;
        })
        .toBe(true);
      await store.decideApproval(pending!.runId, pending!.callId, { approved: true });
      expect(text(await call)).toBe("approved and done");
    } finally {
      await store.close();
      await client.close();
    }
  });

  it("asks the person at a client that can ask, through MCP elicitation, whether a call may run", async () => {
    const client = new Client({ name: "elicit-client", version: "1.0.0" }, { capabilities: { elicitation: {} } });
    const asked: string[] = [];
    let answer: "yes" | "no" = "yes";
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(request.params.message);
      return answer === "yes" ? { action: "accept", content: { approve: true } } : { action: "decline" };
    });
    await client.connect(new StreamableHTTPClientTransport(server.url));
    try {
      expect(text(await client.callTool({ name: "guarded", arguments: {} }))).toBe("approved and done");
      expect(asked).toEqual(['Allow the call of "guarded" with {}?']);
      answer = "no";
      const denied = await client.callTool({ name: "guarded", arguments: {} });
      expect(denied.isError).toBe(true);
      expect(text(denied)).toMatch(/declined at elicit-client/);
    } finally {
      await client.close();
    }
  });

  it("with a token, refuses a client that does not send it", async () => {
    const guardedServer = await startHttp(["--token", TOKEN]);
    try {
      await expect(connectHttp(guardedServer.url, "no-token")).rejects.toThrow(/401|token/i);
      const client = await connectHttp(guardedServer.url, "with-token", { authorization: `Bearer ${TOKEN}` });
      expect((await client.listTools()).tools.length).toBeGreaterThan(5);
      await client.close();
    } finally {
      guardedServer.child.kill("SIGTERM");
    }
  });
});
