// The dashboard end to end: `volley serve` as a user starts it, runs sent through its API, and
// Debian's Chromium (driven by playwright-core, never a downloaded browser) watching them.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExecutor, defineTool, ToolError } from "../src/index.ts";
import { SqliteRunStore } from "../src/store/index.ts";
import { startMockOpenAI } from "../src/testing/index.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = resolve("test-artifacts");
const TOKEN = "dashboard-test-token-0123456789";

let work: string;
let server: ChildProcess;
let origin: string;
let browser: Browser;

async function startServe(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [resolve("dist/cli/main.js"), "serve", "--port", "0", ...args], {
    cwd: work,
    env: { ...process.env, NO_COLOR: "1" },
  });
  let output = "";
  const url = await new Promise<string>((found, fail) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /dashboard\s+(\S+)/.exec(output);
      if (match?.[1]) found(match[1]);
    });
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("close", () => fail(new Error(`volley serve exited: ${output}`)));
  });
  return { child, url };
}

async function startRun(calls: unknown[], headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(new URL("/api/runs", origin), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ calls }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { runId: string }).runId;
}

/** A page, and `done`, which closes it and fails the test if its scripts threw. */
async function newPage(): Promise<{ page: Page; done: () => Promise<void> }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return {
    page,
    done: async () => {
      await page.close();
      expect(errors).toEqual([]);
    },
  };
}

/**
 * Debian's Chromium when the machine has it; otherwise the one that ships inside the
 * `@sparticuz/chromium` package (a dev dependency), so that `npm test` passes on a machine where
 * nothing was installed by hand.
 */
async function browserToDrive(): Promise<{ executablePath: string; args: string[] }> {
  const args = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ];
  if (existsSync(CHROMIUM)) return { executablePath: CHROMIUM, args };
  // Its own arguments are for serverless platforms (one process, no GPU process): the browser would close with its first page.
  const { default: packaged } = await import("@sparticuz/chromium");
  return { executablePath: await packaged.executablePath(), args };
}

beforeAll(async () => {
  const { executablePath, args } = await browserToDrive();
  work = mkdtempSync(join(tmpdir(), "volley-dashboard-"));
  writeFileSync(
    join(work, "volley.config.json"),
    JSON.stringify({ tools: [resolve("test/fixtures/cli-tools.ts")], history: "history.db" }),
  );
  ({ child: server, url: origin } = await startServe([]));
  browser = await chromium.launch({ executablePath, args });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe("the dashboard", () => {
  it("draws a run's timeline live: bars appear, run and finish; a call opens with its arguments and output", async () => {
    const { page, done } = await newPage();
    // The dashboard is loaded before the run starts, so that a slow page load can't miss its live part.
    await page.goto(`${origin}#/`);
    await page.locator('nav a[data-nav="tools"]').waitFor();
    const runId = await startRun([
      { id: "page_a", name: "slow_fetch", args: { url: "https://a.example", ms: 900 } },
      { id: "page_b", name: "slow_fetch", args: { url: "https://bb.example", ms: 1200 } },
      { id: "page_c", name: "slow_fetch", args: { url: "https://ccc.example", ms: 700 } },
      { id: "page_d", name: "slow_fetch", args: { url: "https://d.example", ms: 500 } }, // waits: the tool allows 3 at once
      {
        id: "total",
        name: "combine",
        args: {
          counts: [
            { $ref: "page_a", path: "/words" },
            { $ref: "page_b", path: "/words" },
          ],
        },
      },
    ]);
    await page.evaluate(
      (hash) => ((globalThis as unknown as { location: { hash: string } }).location.hash = hash),
      `#/runs/${runId}`,
    );

    // While the run goes: running bars, and a call still queued behind the tool's limit.
    await page.locator('[data-call-id="page_a"][data-state="running"] rect.bar').waitFor();
    expect(await page.locator('[data-call-id="page_d"]').getAttribute("data-state")).toBe("queued");
    expect(await page.locator('[data-call-id="total"]').getAttribute("data-state")).toBe("queued");
    await expect.poll(() => page.locator('[data-figure="run-status"] dd').textContent()).toBe("running");

    // Then every bar finishes, and the figures arrive.
    await page.locator('[data-call-id="total"][data-state="ok"]').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('[data-figure="run-status"] dd').textContent()).toBe("completed");
    expect(await page.locator('[data-state="ok"]').count()).toBe(5);
    expect(await page.locator('[data-figure="speedup"] dd').textContent()).toMatch(/^\d+\.\d\d×$/);

    // Selecting a call shows its details and joins it to what it depends on.
    await page.locator('[data-call-id="total"]').click();
    await expect.poll(() => page.locator('[data-detail="output"]').textContent()).toBe("3500");
    expect(await page.locator('[data-detail="args"]').textContent()).toContain('"$ref": "page_a"');
    expect(
      await page
        .locator(".row.related")
        .evaluateAll((rows: { getAttribute(name: string): string | null }[]) =>
          rows.map((row) => row.getAttribute("data-call-id")),
        ),
    ).toEqual(["page_a", "page_b"]);
    expect(await page.locator("path.dependency").count()).toBe(2);

    await page.screenshot({ path: join(ARTIFACTS, "dashboard-run.png"), fullPage: true });
    await done();
  });

  it("lists runs, and shows failures in the timeline and the tools page", async () => {
    const { page, done } = await newPage();
    const runId = await startRun([
      { id: "boom", name: "flaky" },
      { id: "fine", name: "combine", args: { counts: [1] } },
    ]);
    await page.goto(`${origin}#/`);
    const row = page.locator(`tr[data-run-id="${runId}"][data-status="completed"]`);
    await row.waitFor({ timeout: 10_000 });
    // Completed, but not a success: the list says how many calls failed.
    expect(await row.getAttribute("data-outcome")).toBe("partial");
    expect(await row.locator(".status").textContent()).toBe("completed, 1 failed");
    expect(await row.locator("td").nth(3).textContent()).toBe("1");
    await page.locator(`tr[data-run-id="${runId}"] a`).click();
    await page.locator('[data-call-id="boom"][data-state="failed"]').waitFor();
    await page.locator('[data-call-id="boom"]').click();
    expect(await page.locator('[data-detail="error"]').textContent()).toBe("tool_error: the upstream said no");

    await page.locator('nav a[data-nav="tools"]').click();
    const flaky = page.locator('tr[data-tool="flaky"]');
    await flaky.waitFor();
    expect(await flaky.locator("td").nth(2).textContent()).toBe("100.0%");
    expect(await page.locator('tr[data-tool-settings="slow_fetch"] td').nth(1).textContent()).toBe("3");
    expect(await page.locator('[data-chart="speedup"] circle.point').count()).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-tools.png"), fullPage: true });
    await done();
  });

  it("shows a tool's markup and script as text, and runs none of it", async () => {
    const { page, done } = await newPage();
    const runId = await startRun([{ id: "html", name: "markup" }]);
    await page.goto(`${origin}#/runs/${runId}`);
    await page.locator('[data-call-id="html"][data-state="ok"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-call-id="html"]').click();
    const output = page.locator('[data-detail="output"]');
    await expect.poll(() => output.textContent()).toContain("<script>window.__pwned = 'script'</script>");
    expect(await output.locator("img, script, b").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();
    await done();
  });

  it("shows calls waiting for approval, with approve and deny buttons that decide them", async () => {
    const { page, done } = await newPage();
    const runId = await startRun([
      { id: "pay_rent", name: "wire_money", args: { amount: 900, to: "landlord" } },
      { id: "pay_stranger", name: "wire_money", args: { amount: 5000, to: "<b>stranger</b>" } },
      { id: "meanwhile", name: "slow_fetch", args: { url: "https://e.example", ms: 50 } },
    ]);
    await page.goto(`${origin}#/`);
    await page.locator(`li[data-approval="${runId}/pay_rent"]`).waitFor();
    expect(await page.locator(`li[data-approval="${runId}/pay_stranger"] code`).textContent()).toContain(
      "<b>stranger</b>",
    );

    await page.locator(`li[data-approval="${runId}/pay_rent"] a`).click();
    await page.locator('[data-call-id="pay_rent"][data-state="approval"]').waitFor();
    // The other call did not wait for the decision.
    await page.locator('[data-call-id="meanwhile"][data-state="ok"]').waitFor();

    await page.locator('[data-call-id="pay_rent"]').click();
    await page.locator('button[data-action="approve"]').click();
    await page.locator('[data-call-id="pay_rent"][data-state="ok"]').waitFor();
    await expect.poll(() => page.locator('[data-detail="output"]').textContent()).toBe("sent 900 to landlord");

    await page.locator('[data-call-id="pay_stranger"]').click();
    await page.locator('input[name="reason"]').fill("unknown recipient");
    await page.locator('button[data-action="deny"]').click();
    await page.locator('[data-call-id="pay_stranger"][data-state="failed"]').waitFor();
    await expect
      .poll(() => page.locator('[data-detail="error"]').textContent())
      .toMatch(/^denied: Not run: the user did not approve this call to "wire_money" \(unknown recipient\)/);
    expect(await page.locator('[data-detail="approval"]').textContent()).toBe("Denied: unknown recipient");
    await expect.poll(() => page.locator('[data-figure="run-status"] dd').textContent()).toBe("completed");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-approval.png"), fullPage: true });
    await done();
  });

  it("decides a call waiting in another process: the decision reaches it through the history", async () => {
    // This test's process is the other one: its executor shares the server's history file.
    const store = new SqliteRunStore({ path: join(work, "history.db") });
    const wireMoney = defineTool({
      name: "wire_money",
      needsApproval: true,
      execute: (args: { amount?: unknown }) => `sent ${String(args.amount)}`,
    });
    const executor = createExecutor({ tools: [wireMoney], history: store, decisionPollMs: 50 });
    const run = executor.start({ runId: "elsewhere" });
    run.add({ id: "pay_later", name: "wire_money", args: { amount: 5, to: "cafe" } });
    run.end();
    const { page, done } = await newPage();
    await page.goto(`${origin}#/`);
    const item = page.locator('li[data-approval="elsewhere/pay_later"]');
    await item.waitFor();
    expect(await item.textContent()).toContain("waiting in another process");
    await item.locator('button[data-action="approve"]').click();
    await item.waitFor({ state: "detached" });
    const { results } = await run.result;
    expect(results).toMatchObject([{ id: "pay_later", ok: true, output: "sent 5" }]);
    await executor.flush();
    expect(await store.approvals({ runId: "elsewhere" })).toMatchObject([
      { callId: "pay_later", decision: { approved: true } },
    ]);
    await store.close();
    await done();
  });

  it("links a run to the run that took over its work, both ways", async () => {
    const store = new SqliteRunStore({ path: join(work, "history.db") });
    const executor = createExecutor({ tools: [defineTool({ name: "note", execute: () => "noted" })], history: store });
    await executor.run([{ id: "n", name: "note" }], { runId: "first-try" });
    await executor.run([{ id: "n", name: "note" }], { runId: "take-over", resumes: "first-try" });
    await executor.flush();
    await store.close();
    const { page, done } = await newPage();
    await page.goto(`${origin}#/runs/first-try`);
    await page.locator('[data-figure="resumed-by"] a[data-run-link="take-over"]').click();
    await page.locator('[data-figure="resumes"] a[data-run-link="first-try"]').waitFor();
    expect(page.url()).toMatch(/#\/runs\/take-over$/);
    await done();
  });

  it("filters runs by status, tool and text, shows each run's name, and keeps the filters in its link", async () => {
    const store = new SqliteRunStore({ path: join(work, "history.db") });
    const note = defineTool({ name: "note", execute: () => "noted" });
    const executor = createExecutor({ tools: [note], history: store });
    await executor.run([{ name: "note" }], { runId: "report-step", name: "weekly-report · step 1: <b>Sales?</b>" });
    await executor.run([{ name: "note" }], { runId: "other-step", name: "chat-9 · step 1: Weather?" });
    await executor.flush();
    await store.close();
    const failedRun = await startRun([{ id: "boom", name: "flaky" }]);
    const { page, done } = await newPage();
    await page.goto(`${origin}#/?q=weekly`);
    const row = page.locator('tr[data-run-id="report-step"]');
    await row.waitFor();
    // The name is text: a run's name can't make markup.
    expect(await row.locator(".run-name").textContent()).toBe("weekly-report · step 1: <b>Sales?</b>");
    expect(await row.locator(".run-name b").count()).toBe(0);
    await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
    // A tool the run called, and text: the address keeps both, so the view can be shared.
    await page.locator('input[name="q"]').fill("");
    await page.locator('select[name="tool"]').selectOption("flaky");
    await page.locator(`tr[data-run-id="${failedRun}"]`).waitFor();
    await expect.poll(() => page.locator('tr[data-run-id="report-step"]').count()).toBe(0);
    expect(page.url()).toMatch(/#\/\?tool=flaky$/);
    await page.locator('select[name="status"]').selectOption("cancelled");
    await page.getByText("No runs match.").waitFor();
    await page.goto(`${origin}#/runs/report-step`);
    await expect
      .poll(() => page.locator('[data-figure="name"]').textContent())
      .toBe("weekly-report · step 1: <b>Sales?</b>");
    await done();
  });

  it("shows a call's retries when its run is reopened from the history", async () => {
    const store = new SqliteRunStore({ path: join(work, "history.db") });
    let attempts = 0;
    const shaky = defineTool({
      name: "shaky",
      retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
      execute: () => {
        if (++attempts === 1) throw new ToolError("busy, try again", { retryable: true });
        return "fine";
      },
    });
    const executor = createExecutor({ tools: [shaky], history: store });
    await executor.run([{ id: "s", name: "shaky" }], { runId: "retried" });
    await executor.flush();
    await store.close();
    const { page, done } = await newPage();
    await page.goto(`${origin}#/runs/retried`);
    await page.locator('[data-call-id="s"][data-state="ok"]').click();
    await page.getByText("after tool_error: busy, try again").waitFor();
    expect(await page.locator(".timeline .retry-mark").count()).toBe(1);
    await done();
  });

  it("shows each tool's whole configuration, and charts with labelled axes", async () => {
    const { page, done } = await newPage();
    await page.goto(`${origin}#/tools`);
    const settings = page.locator('tr[data-tool-settings="wire_money"] td');
    await settings.first().waitFor();
    expect(await settings.allTextContents()).toEqual([
      "wire_money",
      "∞",
      "–",
      "executor's",
      "executor's",
      "–",
      "–",
      "always",
      "no",
      "process",
    ]);
    expect(await page.locator('tr[data-tool-settings="slow_fetch"] td').nth(1).textContent()).toBe("3");
    expect(await page.locator(".chart .axis-label").allTextContents()).toEqual(
      expect.arrayContaining(["duration of a call", "calls that failed", "runs, oldest to newest", "speedup"]),
    );
    await done();
  });

  it("stays usable on a phone: the page keeps its width and the timeline fits it", async () => {
    const runId = await startRun([
      { id: "a", name: "slow_fetch", args: { url: "a", ms: 50 } },
      { id: "b", name: "combine", args: { counts: [{ $ref: "a", path: "/words" }] } },
    ]);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await page.goto(`${origin}#/runs/${runId}`);
      await page.locator('[data-call-id="b"][data-state="ok"]').waitFor({ timeout: 10_000 });
      const widths = {
        page: Number(await page.evaluate("document.documentElement.scrollWidth")),
        timeline: (await page.locator(".timeline").boundingBox())?.width ?? 0,
      };
      expect(widths.page).toBeLessThanOrEqual(390);
      expect(widths.timeline).toBeGreaterThan(0);
      expect(widths.timeline).toBeLessThanOrEqual(390);
      await page.screenshot({ path: join(ARTIFACTS, "dashboard-phone.png"), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it("with a token, asks for it, and works once it is given in the address", async () => {
    const { child, url } = await startServe(["--token", TOKEN]);
    try {
      expect(url).toMatch(/#token=/);
      const { page, done } = await newPage();
      await page.goto(url.replace(/#.*$/, ""));
      await page.getByText("Token needed").waitFor();
      await page.goto(url);
      await page.locator("h1", { hasText: "Runs" }).waitFor();
      expect(page.url()).not.toContain(TOKEN);
      await done();
    } finally {
      child.kill("SIGTERM");
    }
  });
});

describe("the chat page", () => {
  it("asks the served agent, streams its answer, shows each call live on a timeline, takes an approval inline, and reopens the conversation from history", async () => {
    const hostile = `<img src="x" onerror="window.__pwned = 'model'">`;
    const model = await startMockOpenAI({
      tokensPerSecond: 400,
      script: [
        {
          content: `Looking it up ${hostile}`,
          toolCalls: [
            { id: "fetch_a", name: "slow_fetch", arguments: { url: "https://a.example", ms: 1500 } },
            { id: "fetch_b", name: "slow_fetch", arguments: { url: "https://b.example", ms: 1200 } },
            { id: "html", name: "markup", arguments: {} },
            { id: "pay", name: "wire_money", arguments: { amount: 5, to: "<b>ada</b>" } },
          ],
        },
        { content: "<script>window.__pwned = 'answer'</script>All done." },
      ],
    });
    writeFileSync(
      join(work, "chat.config.json"),
      JSON.stringify({
        tools: [resolve("test/fixtures/cli-tools.ts")],
        history: "chat-history.db",
        agent: { baseURL: model.baseURL, model: "mock-model" },
      }),
    );
    const served = await startServe(["--config", "chat.config.json"]);
    try {
      const { page, done } = await newPage();
      await page.goto(`${served.url}#/chat`);
      await page.locator('nav a[data-nav="chat"]:not([hidden])').waitFor();
      await page.locator('textarea[name="message"]').fill("Fetch both pages and pay <b>ada</b>");
      await page.locator('form.composer button[type="submit"]').click();

      // Each call appears as it starts, and its bar runs on the timeline beside the conversation.
      await page.locator('li.call[data-call-id="fetch_a"] .call-status[data-state="running"]').waitFor();
      await page.locator('.chat-side [data-call-id="fetch_a"][data-state="running"]').waitFor();
      await page.locator('.chat-side [data-call-id="fetch_b"]').waitFor();
      await page.locator('li.call[data-call-id="pay"] button[data-action="approve"]').click();
      await page.locator('li.call[data-call-id="pay"] .call-status[data-state="ok"]').waitFor({ timeout: 10_000 });
      await page.locator('li.call[data-call-id="fetch_a"] .call-status[data-state="ok"]').waitFor({ timeout: 10_000 });
      await expect
        .poll(() => page.locator(".message.assistant").last().textContent(), { timeout: 10_000 })
        .toContain("All done.");

      // Model and tool text is shown as text.
      const messages = page.locator(".messages");
      expect(await messages.textContent()).toContain(hostile);
      expect(await messages.textContent()).toContain("<script>window.__pwned = 'answer'</script>All done.");
      expect(await page.locator('li.call[data-call-id="pay"] code').textContent()).toContain("<b>ada</b>");
      expect(await messages.locator("img, script, b").count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();
      await page.screenshot({ path: join(ARTIFACTS, "dashboard-chat.png"), fullPage: true });

      // The conversation is listed, and reopens from the history with its calls and their run's timeline.
      const address = page.url();
      expect(address).toMatch(/#\/chat\/chat-/);
      await page.locator(".conversation-list a", { hasText: "Fetch both pages and pay <b>ada</b>" }).waitFor();
      await page.goto(`${served.url}#/`);
      await page.goto(address);
      await page.locator('.messages li.call[data-call-id="html"] .call-status[data-state="ok"]').waitFor();
      await expect.poll(() => page.locator(".messages").textContent()).toContain("All done.");
      await page.locator('.chat-side [data-call-id="fetch_b"][data-state="ok"]').waitFor();
      // The step's run is in the runs list, named by its conversation and question.
      await page.goto(`${served.url}#/`);
      await page.getByText("step 1: Fetch both pages and pay <b>ada</b>").first().waitFor();
      await done();
    } finally {
      served.child.kill("SIGTERM");
      await model.close();
    }
  });

  it("shows plan mode's plan, task by task, with its tasks on the timeline, and the joiner's answer", async () => {
    const model = await startMockOpenAI({
      tokensPerSecond: 200,
      script: [
        {
          content:
            '1. slow_fetch({"url": "https://a.example", "ms": 600})\n2. slow_fetch({"url": "https://bb.example", "ms": 600})\n3. combine({"counts": ["$1.words", "$2.words"]})\njoin()\n',
        },
        { content: "FINAL: Together they have 3500 words." },
      ],
    });
    writeFileSync(
      join(work, "plan.config.json"),
      JSON.stringify({
        tools: [resolve("test/fixtures/cli-tools.ts")],
        history: "plan-history.db",
        agent: { baseURL: model.baseURL, model: "mock-model", mode: "plan" },
      }),
    );
    const served = await startServe(["--config", "plan.config.json"]);
    try {
      const { page, done } = await newPage();
      await page.goto(`${served.url}#/chat`);
      await page.locator('textarea[name="message"]').fill("How many words on both pages?");
      await page.locator('form.composer button[type="submit"]').click();
      for (const task of ["task1", "task2", "task3"]) await page.locator(`.plan li[data-task="${task}"]`).waitFor();
      await page.locator('.chat-side [data-call-id="task1"]').waitFor();
      await page.locator('.chat-side [data-call-id="task3"][data-state="ok"]').waitFor({ timeout: 10_000 });
      await expect
        .poll(() => page.locator(".message.assistant").last().textContent(), { timeout: 10_000 })
        .toContain("Together they have 3500 words.");
      await done();
    } finally {
      served.child.kill("SIGTERM");
      await model.close();
    }
  });
});
