import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteRunStore } from "../src/store/index.ts";
import { startMockOpenAI, type MockOpenAIServer } from "../src/testing/index.ts";
import { runVolley, VOLLEY_BIN, type CliOutcome } from "./volley-cli.ts";

// The real bin, as `npx volley` runs it (npm test builds first).
const ESC = "\u001b";
const TOOLS = resolve("test/fixtures/cli-tools.ts");
const EXAMPLE = resolve("examples/research");

const volley = (
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CliOutcome> => runVolley(args, { cwd: work, ...options });

let work: string;
const write = (name: string, value: unknown) => {
  writeFileSync(join(work, name), typeof value === "string" ? value : JSON.stringify(value));
  return join(work, name);
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "volley-cli-"));
  write("volley.config.json", { tools: [TOOLS], history: "history.db" });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("volley run", () => {
  it("runs the README's example, MCP server from npm included, and records it in the history", async () => {
    const history = join(work, "example.db");
    const config = write("example.config.json", {
      tools: [join(EXAMPLE, "tools.ts")],
      mcpServers: {
        everything: {
          command: "npx",
          args: ["-y", "@modelcontextprotocol/server-everything"],
          cwd: EXAMPLE,
          prefix: "everything_",
          hints: { readOnly: true },
        },
      },
      history,
    });
    const { code, stdout, stderr } = await volley(["run", join(EXAMPLE, "calls.json"), "--config", config]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/progress archive everything_trigger-long-running-operation 1\/4/);
    expect(stdout).toMatch(/✓ word_count\s+everything_get-sum .* The sum of 1800 and 1500 is 3300\./);
    expect(stdout).toMatch(/10 calls: 10 ok, 0 failed, 1 retry$/m);
    expect(stdout).toMatch(/speedup \d+\.\d\d×/);
    const store = new SqliteRunStore({ path: history });
    const [run] = await store.listRuns();
    expect(run).toMatchObject({ status: "completed", calls: 10 });
    await store.close();
  });

  it("reads OpenAI, Anthropic and Gemini formats, and prints only the result as JSON with --json", async () => {
    const openai = write("openai.json", {
      role: "assistant",
      tool_calls: [
        {
          id: "call_a",
          type: "function",
          function: { name: "slow_fetch", arguments: '{"url":"https://a.example","ms":5}' },
        },
      ],
    });
    const anthropic = write("anthropic.json", {
      role: "assistant",
      content: [
        { type: "text", text: "Fetching." },
        { type: "tool_use", id: "toolu_b", name: "combine", input: { counts: [1, 2] } },
      ],
    });
    const gemini = write("gemini.json", {
      candidates: [
        {
          content: {
            role: "model",
            parts: [{ functionCall: { id: "g_c", name: "combine", args: { counts: [2, 5] } } }],
          },
        },
      ],
    });
    for (const [file, expected] of [
      [openai, { id: "call_a", output: { url: "https://a.example", words: 1700 } }],
      [anthropic, { id: "toolu_b", output: 3 }],
      [gemini, { id: "g_c", output: 7 }],
    ] as const) {
      const { code, stdout } = await volley(["run", file, "--json"]);
      expect(code).toBe(0);
      const result = JSON.parse(stdout) as { results: unknown[] };
      expect(result.results).toMatchObject([expected]);
    }
  });

  it("reads a TypeScript config that lists tools themselves", async () => {
    const calls = write("ts-config.json", [
      { id: "a", name: "slow_fetch", args: { url: "x", ms: 30 } },
      { id: "b", name: "slow_fetch", args: { url: "y", ms: 30 } },
      { id: "c", name: "slow_fetch", args: { url: "z", ms: 30 } },
    ]);
    const { code, stdout, stderr } = await volley([
      "run",
      calls,
      "--json",
      "--config",
      resolve("test/fixtures/volley.config.ts"),
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { stats: { maxInFlight: number } }).stats.maxInFlight).toBe(2);
  });

  it("takes parallel, retry, order and per-tool options from the config, over the tools' own", async () => {
    const calls = JSON.stringify([
      { id: "a", name: "slow_fetch", args: { url: "x", ms: 20 } },
      { id: "b", name: "slow_fetch", args: { url: "y", ms: 20 } },
      { id: "c", name: "combine", args: { counts: [1] } },
    ]);
    // slow_fetch allows 3 at once in its code; the config allows 1, and makes combine ask for approval.
    const tuned = write("tuned.config.json", {
      tools: [TOOLS],
      history: false,
      order: "fifo",
      retry: { attempts: 2 },
      toolOptions: { slow_fetch: { concurrency: 1 }, combine: { needsApproval: true } },
    });
    const { stdout } = await volley(["run", "-", "--json", "--config", tuned], { input: calls });
    const result = JSON.parse(stdout) as {
      results: { id: string; ok: boolean; startedAt: number; endedAt: number; error?: { type: string } }[];
    };
    const [a, b, c] = result.results;
    expect((b?.startedAt ?? 0) >= (a?.endedAt ?? Infinity)).toBe(true);
    expect(c?.error?.type).toBe("denied");
    const serial = write("serial.config.json", { tools: [TOOLS], history: false, parallel: false });
    expect(
      (
        JSON.parse((await volley(["run", "-", "--json", "--config", serial], { input: calls })).stdout) as {
          stats: { maxInFlight: number };
        }
      ).stats.maxInFlight,
    ).toBe(1);
    const mistakes: [unknown, RegExp][] = [
      [
        { slow_fetc: { concurrency: 1 } },
        /"toolOptions" names "slow_fetc", which is no tool here; did you mean "slow_fetch"\?$/,
      ],
      [
        { slow_fetch: { concurency: 1 } },
        /in "toolOptions\.slow_fetch", unknown option `concurency`; did you mean `concurrency`\?$/,
      ],
      [
        { slow_fetch: { concurrency: 0 } },
        /"toolOptions\.slow_fetch": expected `concurrency` to be an integer from 1 and up, or Infinity, got 0 \(number\)$/,
      ],
    ];
    for (const [toolOptions, message] of mistakes) {
      const { code, stderr } = await volley(
        ["run", "-", "--config", write("mistake.config.json", { tools: [TOOLS], history: false, toolOptions })],
        { input: calls },
      );
      expect(stderr.trim()).toMatch(message);
      expect(code).toBe(2);
    }
  });

  it("takes calls on standard input, honours --sequential, and exits 1 when a call failed", async () => {
    const calls = [
      { id: "a", name: "slow_fetch", args: { url: "x", ms: 20 } },
      { id: "b", name: "slow_fetch", args: { url: "y", ms: 20 } },
      { id: "c", name: "flaky" },
    ];
    const { code, stdout } = await volley(["run", "-", "--sequential", "--json"], { input: JSON.stringify(calls) });
    expect(code).toBe(1);
    const result = JSON.parse(stdout) as {
      results: { ok: boolean; startedAt: number; endedAt: number; error?: { type: string } }[];
      stats: { maxInFlight: number };
    };
    expect(result.stats.maxInFlight).toBe(1);
    expect(result.results[2]).toMatchObject({ ok: false, error: { type: "tool_error" } });
    // A run whose only call failed has no speedup to show.
    const alone = await volley(["run", "-"], { input: JSON.stringify([{ id: "c", name: "flaky" }]) });
    expect(alone.stdout).toMatch(/^1 call: 0 ok, 1 failed$/m);
    expect(alone.stdout).toMatch(/^wall .* · sum of durations .* · critical path/m);
    expect(alone.stdout).not.toMatch(/speedup/);
  });

  it("draws a text timeline and the run's figures when piped", async () => {
    const calls = write("graph.json", [
      { id: "p1", name: "slow_fetch", args: { url: "one", ms: 60 } },
      { id: "p2", name: "slow_fetch", args: { url: "two", ms: 60 } },
      {
        id: "sum",
        name: "combine",
        args: {
          counts: [
            { $ref: "p1", path: "/words" },
            { $ref: "p2", path: "/words" },
          ],
        },
      },
    ]);
    const { code, stdout } = await volley(["run", calls]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\+\d\.\d{3}s start p1 slow_fetch$/m);
    expect(stdout).toMatch(/✓ sum\s+combine .* 600$/m);
    expect(stdout).toMatch(/^p1 slow_fetch\s+│█+ +│/m);
    expect(stdout).toMatch(/wall .* · sum of durations .* · speedup .* · critical path .* · at most 2 at once/);
  });

  it("draws live progress in place on a terminal", async () => {
    const calls = write("tty.json", [
      { id: "first", name: "slow_fetch", args: { url: "a", ms: 250 } },
      { id: "second", name: "combine", args: { counts: [1] } },
    ]);
    // `script` gives the command a pseudo-terminal, as a person's shell would.
    const output = await new Promise<string>((done, fail) => {
      const child = spawn(
        "script",
        [
          "-qec",
          `stty cols 120 rows 40; ${JSON.stringify(process.execPath)} ${JSON.stringify(VOLLEY_BIN)} run ${JSON.stringify(calls)}`,
          "/dev/null",
        ],
        { cwd: work, env: { ...process.env, NO_COLOR: "1" } },
      );
      let text = "";
      child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
      child.on("error", fail);
      child.on("close", () => done(text));
    });
    expect(output).toMatch(/▶ running .* first {2}slow_fetch/);
    expect(output).toContain(`${ESC}[2F`); // back over the two rows to redraw them
    expect(output).toMatch(/✓ ok .* first {2}slow_fetch/);
    expect(output).not.toMatch(/^\+\d/m); // no plain event lines on a terminal
  });

  it("settles approvals: denied when no one can be asked, approved with --yes, asked on a terminal", async () => {
    const calls = write("pay.json", [
      { id: "rent", name: "wire_money", args: { amount: 900, to: "landlord" } },
      { id: "gift", name: "wire_money", args: { amount: 5000, to: "stranger" } },
    ]);
    const piped = await volley(["run", calls, "--json"]);
    expect(piped.code).toBe(1);
    const denied = JSON.parse(piped.stdout) as { results: { error?: { type: string; message: string } }[] };
    expect(denied.results[0]?.error).toMatchObject({
      type: "denied",
      message: expect.stringMatching(/no one at a terminal to approve it; run volley with --yes/) as string,
    });

    const approved = await volley(["run", calls, "--json", "--yes"]);
    expect(approved.code).toBe(0);

    const output = await new Promise<string>((done, fail) => {
      const child = spawn(
        "script",
        [
          "-qec",
          `stty cols 120 rows 40; ${JSON.stringify(process.execPath)} ${JSON.stringify(VOLLEY_BIN)} run ${JSON.stringify(calls)}`,
          "/dev/null",
        ],
        { cwd: work, env: { ...process.env, NO_COLOR: "1" } },
      );
      const answers = ["y\n", "too much for a gift\n"];
      let answered = 0;
      let text = "";
      child.stdout.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        // Each question is answered once it is on the screen, as a person would.
        const asked = text.match(/\[y\/N, or a reason to deny\]/g)?.length ?? 0;
        if (asked > answered) child.stdin.write(answers[answered++] ?? "\n");
      });
      child.on("error", fail);
      child.on("close", () => done(text));
    });
    expect(output).toMatch(/\? Approve wire_money rent \{"amount":900,"to":"landlord"\}/);
    expect(output).toMatch(/✓ rent\s+wire_money .* sent 900 to landlord/);
    expect(output).toMatch(
      /✗ gift\s+wire_money .* denied: Not run: the user did not approve this call to "wire_money" \(too much for a gift\)/,
    );
  });

  it("answers a person's mistakes with one line and exit status 2", async () => {
    const bad = write("bad.json", "{ not json");
    const noTools = write("empty.config.json", { tools: [] });
    const deadServer = write("dead.config.json", {
      mcpServers: { broken: { command: process.execPath, args: ["-e", "process.exit(3)"], connectTimeoutMs: 3000 } },
    });
    const cases: [string[], RegExp][] = [
      [["run", "missing.json"], /^volley: Calls file not found: missing\.json$/],
      [["run", bad], /^volley: .*bad\.json is not valid JSON: /],
      [["run", write("shape.json", { tools: [] })], /Expected tool calls: .*got an object with keys tools/],
      [
        ["run", write("fine.json", [{ name: "combine" }]), "--config", "nowhere.json"],
        /^volley: Config file not found: nowhere\.json$/,
      ],
      [["run", write("ok.json", [{ name: "combine", args: { counts: [] } }]), "--config", noTools], /names no tools/],
      [
        ["run", write("ok2.json", [{ name: "combine" }]), "--config", deadServer],
        /^volley: MCP server "broken" did not start: /,
      ],
      [["run", "x.json", "--max-concurrency", "0"], /--max-concurrency takes a whole number from 1 up, got "0"/],
      [["launch"], /Unknown command "launch"/],
      [
        ["serv"],
        /^volley: Unknown command "serv"; did you mean "serve"\? Commands: run, serve, mcp, stats, agent, worker\. See volley --help$/,
      ],
      [
        ["run", "x.json", "--port", "80"],
        /^volley: --port is an option of volley serve and volley mcp, not of volley run\. See volley run --help$/,
      ],
      [
        ["run", "x.json", "--max-concurency", "3"],
        /^volley: Unknown option --max-concurency; did you mean --max-concurrency\? See volley run --help$/,
      ],
      [
        [
          "run",
          write("ok3.json", [{ name: "combine" }]),
          "--config",
          write("typo.config.json", { tools: [TOOLS], maxConcurency: 2 }),
        ],
        /^volley: .*typo\.config\.json: unknown key `maxConcurency`; did you mean `maxConcurrency`\?$/,
      ],
      [["run", "x.json", "--fast"], /^volley: Unknown option --fast\. See volley run --help$/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await volley(args);
      expect(stderr.trim()).toMatch(message);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(code).toBe(2);
    }
    const elsewhere = mkdtempSync(join(tmpdir(), "volley-empty-"));
    const { stderr } = await volley(["run", join(work, "fine.json")], { cwd: elsewhere });
    expect(stderr).toMatch(/No volley\.config\.json .* here/);
    rmSync(elsewhere, { recursive: true });
  });

  it("prints one command's help with volley <command> --help, and every command with volley --help", async () => {
    const run = await volley(["run", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: volley run <calls\.json \| -> \[options\]\n/);
    expect(run.stdout).toContain("--call-timeout <ms>");
    expect(run.stdout).not.toContain("--base-url");
    const all = await volley(["--help"]);
    expect(all.stdout).toMatch(/^Usage: volley <command> \[options\]/);
    expect(all.stdout).toContain("volley <command> --help lists the options of that command.");
  });

  it("says in one line that a history file is corrupt, with what to do, in every command that opens it", async () => {
    write("corrupt.db", "this is not a SQLite database, whatever its name says ".repeat(4));
    const config = write("corrupt.config.json", { tools: [TOOLS], history: "corrupt.db" });
    const calls = write("one.json", [{ name: "combine", args: { counts: [1] } }]);
    for (const args of [
      ["run", calls, "--config", config],
      ["stats", "--config", config],
    ]) {
      const { code, stderr } = await volley(args);
      expect(stderr.trim()).toMatch(
        /^volley: The history at .*corrupt\.db can't be opened \(file is not a database\)\. Move it aside to start a new one, or point the history at another file\.$/,
      );
      expect(code).toBe(2);
    }
  });

  it("runs 200,000 calls, printing a summary of the failed and slowest calls instead of a row each", async () => {
    const calls = write(
      "many.json",
      Array.from({ length: 200_000 }, (_, index) =>
        index === 123_456 ? { id: "bad", name: "flaky" } : { name: "combine", args: { counts: [index] } },
      ),
    );
    const { code, stdout, stderr } = await volley([
      "run",
      calls,
      "--config",
      write("many.config.json", { tools: [TOOLS] }),
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(1);
    expect(stdout).toMatch(/^Running 200,000 calls…$/m);
    expect(stdout).toMatch(/^200,000 calls: the 1 failed, and the 10 slowest \(--json prints every result\)$/m);
    expect(stdout).toMatch(/^✗ bad +flaky .* tool_error: the upstream said no$/m);
    expect(stdout).toMatch(/^200,000 calls: 199,999 ok, 1 failed$/m);
    expect(stdout.split("\n").length).toBeLessThan(60);
  }, 60_000);
});

describe("volley stats", () => {
  it("shows per-tool figures from the history", async () => {
    const history = join(work, "stats.db");
    const config = write("stats.config.json", { tools: [TOOLS], history });
    await volley([
      "run",
      write("stats-calls.json", [{ name: "combine", args: { counts: [1] } }, { name: "flaky" }]),
      "--config",
      config,
    ]);
    const table = await volley(["stats", "--config", config]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^tool\s+calls\s+failed\s+retries\s+cached\s+p50\s+p95\s+p99$/m);
    expect(table.stdout).toMatch(/^flaky\s+1\s+100\.0%/m);
    expect(table.stdout).toMatch(/1 run · median speedup/);
    const json = JSON.parse((await volley(["stats", "--config", config, "--json", "--since", "1h"])).stdout) as {
      tools: Record<string, { calls: number }>;
    };
    expect(json.tools.combine?.calls).toBe(1);
    expect(
      (await volley(["stats", "--config", write("fresh.config.json", { tools: [TOOLS], history: "never.db" })])).stderr,
    ).toMatch(/No history yet/);
  });
});

describe("volley serve", () => {
  it("serves on 127.0.0.1, runs calls sent to its API, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [VOLLEY_BIN, "serve", "--port", "0"], {
      cwd: work,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let output = "";
    const url = await new Promise<string>((found) => {
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = /dashboard\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
        if (match?.[1]) found(match[1]);
      });
    });
    const response = await fetch(new URL("/api/runs?wait", url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ calls: [{ name: "combine", args: { counts: [2, 3] } }] }),
    });
    expect(((await response.json()) as { results: { output: unknown }[] }).results[0]?.output).toBe(5);
    const exited = new Promise<number | null>((done) => child.on("close", done));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("serves the config's agent: a conversation over server-sent events, kept in the history", async () => {
    const model = await startMockOpenAI({
      script: [
        { toolCalls: [{ id: "c1", name: "combine", arguments: { counts: [20, 22] } }] },
        { content: "The total is 42." },
      ],
    });
    const config = write("agent-serve.config.json", {
      tools: [TOOLS],
      history: "agent-serve.db",
      agent: { baseURL: model.baseURL, model: "mock-model", system: "Add well.", maxConcurrency: 2 },
    });
    const child = spawn(process.execPath, [VOLLEY_BIN, "serve", "--port", "0", "--config", config], {
      cwd: work,
      env: { ...process.env, NO_COLOR: "1", OPENAI_API_KEY: "" },
    });
    try {
      let output = "";
      const url = await new Promise<string>((found, fail) => {
        child.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          const match = /agent\s+mock-model at \S+: chat at (http:\/\/127\.0\.0\.1:\d+\/)#\/chat/.exec(output);
          if (match?.[1]) found(match[1]);
        });
        child.on("close", () => fail(new Error(output)));
      });
      const response = await fetch(new URL("/api/conversations/sums/messages", url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ content: "What is 20 + 22?" }),
      });
      const text = await response.text();
      expect(text).toMatch(/event: tool-call-end\n/);
      expect(text).toMatch(/"answer":"The total is 42\."/);
      expect(model.requests[0]?.messages?.[0]).toEqual({ role: "system", content: "Add well." });
      const read = (await (await fetch(new URL("/api/conversations/sums", url))).json()) as { messages: unknown[] };
      expect(read.messages).toHaveLength(4);
    } finally {
      const exited = new Promise<number | null>((done) => child.on("close", done));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      await model.close();
    }
  });

  it("says what is wrong with a config's agent section", async () => {
    const config = write("bad-agent.config.json", { tools: [TOOLS], agent: { baseUrl: "http://127.0.0.1:1" } });
    const { code, stderr } = await volley(["serve", "--port", "0", "--config", config]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/in "agent", unknown key `baseUrl`; did you mean `baseURL`\?/);
    const worse = write("worse-agent.config.json", { tools: [TOOLS], agent: { mode: "turbo" } });
    expect((await volley(["serve", "--port", "0", "--config", worse])).stderr).toMatch(
      /"agent\.mode" must be "tools" or "plan", got "turbo"/,
    );
  });

  it("refuses a wider address without a token", async () => {
    const { code, stderr } = await volley(["serve", "--host", "0.0.0.0", "--port", "0"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^volley: startServer: refusing to listen on 0\.0\.0\.0 without a token/);
  });
});

describe("volley agent", () => {
  let mock: MockOpenAIServer;
  beforeAll(async () => {
    mock = await startMockOpenAI({
      script: [
        { toolCalls: [{ id: "call_1", name: "combine", arguments: { counts: [20, 22] } }] },
        { content: "The total is 42." },
      ],
    });
  });
  afterAll(() => mock.close());

  it("answers on stdout, with tool calls and figures on stderr", async () => {
    const { code, stdout, stderr } = await volley(
      ["agent", "What is 20 + 22?", "--base-url", mock.baseURL, "--model", "mock-model"],
      { env: { OPENAI_API_KEY: "" } },
    );
    expect(stderr).toMatch(/▶ combine call_1/);
    expect(stderr).toMatch(/✓ combine call_1/);
    expect(stderr).toMatch(/2 steps, 1 tool call, /);
    expect(stderr).toMatch(/^ {2}step: 1 call, tools busy [^,]+ for [^,]+ of work, /m);
    expect(stdout.trim()).toBe("The total is 42.");
    expect(code).toBe(0);
  });

  it("prints each step's text as a paragraph of its own", async () => {
    const chatty = await startMockOpenAI({
      script: [
        { content: "Let me look.", toolCalls: [{ id: "c1", name: "combine", arguments: { counts: [1, 2] } }] },
        { content: "Volcanoes and tides: 3." },
      ],
    });
    try {
      const { code, stdout } = await volley(
        ["agent", "Tell me", "--base-url", chatty.baseURL, "--model", "mock-model"],
        { env: { OPENAI_API_KEY: "" } },
      );
      expect(stdout).toBe("Let me look.\n\nVolcanoes and tides: 3.\n");
      expect(code).toBe(0);
    } finally {
      await chatty.close();
    }
  });

  it("plans with --plan: the tasks of the plan run, and the joiner's answer is printed", async () => {
    const planner = await startMockOpenAI({
      script: [
        { content: '1. slow_fetch({"url": "https://a.example", "ms": 10})\n2. combine({"counts": [5, 6]})\njoin()\n' },
        { content: "FINAL: Fetched, and the sum is 11." },
      ],
    });
    try {
      const { code, stdout, stderr } = await volley(
        ["agent", "Fetch and add", "--plan", "--base-url", planner.baseURL, "--model", "mock-model"],
        { env: { OPENAI_API_KEY: "" } },
      );
      expect(stderr).toMatch(/✓ slow_fetch /);
      expect(stderr).toMatch(/✓ combine /);
      expect(stdout).toBe("Fetched, and the sum is 11.\n");
      expect(code).toBe(0);
    } finally {
      await planner.close();
    }
  });

  it("resumes a conversation only with a question or a history to resume from", async () => {
    const alone = await volley(["agent", "--base-url", mock.baseURL, "--model", "mock-model"], {
      env: { OPENAI_API_KEY: "" },
    });
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/takes a question .*or --conversation <id> alone/);
    const config = write("no-history.config.json", { tools: [TOOLS], history: false });
    const noHistory = await volley(
      ["agent", "--conversation", "c1", "--config", config, "--base-url", mock.baseURL, "--model", "mock-model"],
      { env: { OPENAI_API_KEY: "" } },
    );
    expect(noHistory.code).toBe(2);
    expect(noHistory.stderr).toMatch(/--conversation needs a history/);
    const planned = await volley(
      ["agent", "--conversation", "c1", "--plan", "--base-url", mock.baseURL, "--model", "mock-model"],
      { env: { OPENAI_API_KEY: "" } },
    );
    expect(planned.code).toBe(2);
    expect(planned.stderr).toMatch(/--plan needs a question/);
  });

  it("takes its model and endpoint from the config's agent section", async () => {
    const configured = await startMockOpenAI({ script: [{ content: "Configured." }] });
    try {
      const config = write("agent.config.json", {
        tools: [TOOLS],
        history: false,
        agent: { baseURL: configured.baseURL, model: "configured-model" },
      });
      const { code, stdout } = await volley(["agent", "Hello?", "--config", config], {
        env: { OPENAI_API_KEY: "", VOLLEY_MODEL: "" },
      });
      expect(stdout.trim()).toBe("Configured.");
      expect(code).toBe(0);
      expect(configured.requests[0]?.model).toBe("configured-model");
    } finally {
      await configured.close();
    }
  });

  it("says which model is missing", async () => {
    const { code, stderr } = await volley(["agent", "hi", "--base-url", mock.baseURL], {
      env: { VOLLEY_MODEL: "", OPENAI_MODEL: "" },
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/Which model\? Pass --model/);
  });
});
