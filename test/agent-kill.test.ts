// A conversation survives its process being killed at any moment of a turn: while the model
// streams, while tools run, between steps. After each kill a new process takes the turn up, and
// the stored conversation is checked: the question kept once, every call answered once, no call
// that ran started again, the answer last.
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteRunStore } from "../src/store/index.ts";
import { startMockOpenAI, type MockOpenAIServer, type MockRequest, type MockTurn } from "../src/testing/index.ts";

const CHILD = fileURLToPath(new URL("./fixtures/agent-kill-child.ts", import.meta.url));
const KILLS = 24;
const AT_ONCE = 4;
/** Past the end of a whole turn (about 0.6 s here), so that some kills land after it ended. */
const LATEST_KILL_MS = 900;

/** Three steps: three calls streamed one after another, then two, then the answer. */
function script(request: MockRequest): MockTurn {
  const messages = (request.messages ?? []) as { role: string; tool_calls?: unknown[] }[];
  const lastQuestion = messages.findLastIndex((message) => message.role === "user");
  const steps = messages.slice(lastQuestion).filter((message) => message.tool_calls !== undefined).length;
  if (steps === 0)
    return {
      content: "Working on it.",
      toolCalls: [
        { id: "s1_a", name: "work", arguments: { ms: 120 } },
        { id: "s1_b", name: "work", arguments: { ms: 60 } },
        { id: "s1_c", name: "work", arguments: { ms: 200 } },
      ],
    };
  if (steps === 1)
    return {
      toolCalls: [
        { id: "s2_a", name: "work", arguments: { ms: 80 } },
        { id: "s2_b", name: "work", arguments: { ms: 40 } },
      ],
    };
  return { content: "All done." };
}

let folder: string;
let model: MockOpenAIServer;
beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "volley-kill-"));
  model = await startMockOpenAI({ script, tokensPerSecond: 600 });
});
afterAll(async () => {
  await model?.close();
  if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
});

/** Runs the child; kills it `killAfterMs` after it starts its turn, unless it ends first. Resolves with what it printed. */
function runChild(args: string[], killAfterMs: number | undefined): Promise<string> {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
    if (killAfterMs !== undefined && output.startsWith("turn\n") && !output.includes("armed")) {
      output += "armed";
      setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  return new Promise((resolve) => child.on("exit", () => resolve(output)));
}

/** What the stored conversation must be after its turn is done, however often it was cut. */
async function checkConversation(path: string, conversationId: string, log: string, context: string): Promise<void> {
  const store = new SqliteRunStore({ path });
  try {
    const messages = (await store.messages(conversationId)).map(
      ({ message }) =>
        message as { role: string; content?: string; tool_calls?: { id: string }[]; tool_call_id?: string },
    );
    expect(
      messages.filter((message) => message.role === "user").map((message) => message.content),
      context,
    ).toEqual(["go"]);
    expect(messages.at(-1), context).toMatchObject({ role: "assistant", content: "All done." });
    // Every call the model made is answered once, right after the message that made it.
    const steps: string[][] = [];
    messages.forEach((message, index) => {
      if (message.tool_calls === undefined) return;
      const ids = message.tool_calls.map((call) => call.id);
      const results = messages.slice(index + 1, index + 1 + ids.length).map((result) => result.tool_call_id);
      expect(results, context).toEqual(ids);
      steps.push(ids);
    });
    const answered = steps.flat();
    expect(new Set(answered).size, context).toBe(answered.length);
    expect(await store.stepInProgress(conversationId)).toBeUndefined();
    // No call started twice: one that ran was answered from the history, or as cut off.
    const lines = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : [];
    const starts = lines.filter((line) => line.startsWith("start "));
    expect(new Set(starts).size, `${context}; the tools' log: ${lines.join(", ")}`).toBe(starts.length);
    // A step cut off while the model wrote it keeps the calls written so far (a prefix of what the
    // model was writing, never empty), and the model goes on from there: so each step holds the
    // first calls of its script, in order, and a step cut short is not written again.
    expect(steps.length, context).toBe(2);
    const [first, second] = steps as [string[], string[]];
    expect(["s1_a", "s1_b", "s1_c"].slice(0, first.length), context).toEqual(first);
    expect(["s2_a", "s2_b"].slice(0, second.length), context).toEqual(second);
    expect(first.length * second.length, context).toBeGreaterThan(0);
  } finally {
    await store.close();
  }
}

describe("an agent killed at random moments of a turn", () => {
  it(`keeps the conversation whole across ${KILLS} kills: no message lost, no call run twice, each call answered once`, async () => {
    const seed = Date.now();
    let state = seed;
    // A small seeded generator, so that a failure can be replayed from the seed it prints.
    const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const kills = Array.from({ length: KILLS }, () => Math.round(random() * LATEST_KILL_MS));
    for (let round = 0; round < KILLS; round += AT_ONCE) {
      await Promise.all(
        kills.slice(round, round + AT_ONCE).map(async (killAfterMs, offset) => {
          const conversationId = `kill-${round + offset}`;
          const path = join(folder, `${conversationId}.db`);
          const log = join(folder, `${conversationId}.log`);
          const args = [path, conversationId, model.baseURL, log];
          const killed = await runChild(args, killAfterMs);
          appendFileSync(log, "");
          // The next process takes the turn up; a turn can need a second resume when the first
          // found it ended (it then just answers), so it runs until the answer is printed.
          const resumed = await runChild(args, undefined);
          expect(resumed, `seed ${seed}, kill at ${killAfterMs} ms; first process: ${killed}`).toMatch(
            /answer All done\./,
          );
          await checkConversation(path, conversationId, log, `seed ${seed}, kill at ${killAfterMs} ms`);
        }),
      );
    }
  }, 120_000);
});
