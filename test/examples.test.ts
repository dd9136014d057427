// The examples, run as a reader runs them (`node examples/...`, importing the built package),
// with no API key: each talks to Volley's mock model or needs none. An example that rots fails here.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, it } from "vitest";

const run = promisify(execFile);

async function example(path: string): Promise<string> {
  const env = { ...process.env };
  delete env.OPENAI_API_KEY;
  const { stdout } = await run(process.execPath, [resolve(path)], { env, timeout: 60_000 });
  return stdout;
}

describe("the examples' configs", () => {
  it("keep their history inside their own folder", ({ expect }) => {
    const configs = readdirSync("examples", { recursive: true, encoding: "utf8" }).filter((path) =>
      path.endsWith("volley.config.json"),
    );
    expect(configs.length).toBeGreaterThan(0);
    for (const path of configs) {
      const config = JSON.parse(readFileSync(join("examples", path), "utf8")) as { history?: string | false };
      if (config.history === false) continue;
      const history = resolve("examples", dirname(path), config.history ?? ".volley/volley.db");
      expect(relative(resolve("examples", dirname(path)), history).startsWith("..")).toBe(false);
    }
  });
});

describe.concurrent("the examples", () => {
  it("eager-agent: each call's start and end as the model streams, the step's figures, then the answer", async ({
    expect,
  }) => {
    const output = await example("examples/agents/eager-agent.ts");
    for (const id of ["rome_weather", "lima_weather", "to_rome", "to_lima"]) {
      expect(output).toMatch(new RegExp(`start \\w+ ${id}\\n`));
      expect(output).toMatch(new RegExp(`done  \\w+ ${id} \\(\\d+ ms\\)`));
    }
    expect(output).toMatch(/tools busy \d+ ms for \d+ ms of work \(\d\.\d\d×\)/);
    expect(output).toMatch(
      /\d+ ms of tool time ran while the model was still writing; \d of 4 calls had ended by then/,
    );
    expect(output).toContain("Lima is warmest at 19 °C");
    expect(output).toMatch(/2 model steps, [\d.]+ s in all\./);
  });

  it("openai-agents-tools: an Agents SDK agent whose calls Volley runs, a busy call retried", async ({ expect }) => {
    const output = await example("examples/agents/openai-agents-tools.ts");
    expect(output).toContain('✓ lima: {"city":"Lima","celsius":19}');
    expect(output).toContain("Cairo is warmest at 28 °C.");
    expect(output).toMatch(/weather: 4 calls, 1 retried, at most 2 at once/);
  });

  it("langgraph-tool-node: a LangGraph loop whose calls Volley runs, a failure as a message the model reads", async ({
    expect,
  }) => {
    const output = await example("examples/agents/langgraph-tool-node.ts");
    expect(output).toContain('✓ lima: {"city":"Lima","celsius":19}');
    expect(output).toContain("✗ atlantis: Error (tool_error): no airport serves Atlantis");
    expect(output).toContain("Lima is warmest at 19 °C; there is no flight to Atlantis.");
    expect(output).toMatch(/weather ran 3 calls within its limit of 2 at once/);
  });

  it("chat-completions-loop: a misspelt tool is answered with an error, and the model's correction runs", async ({
    expect,
  }) => {
    const output = await example("examples/agents/chat-completions-loop.ts");
    expect(output).toContain('✓ rome weather: {"city":"Rome","celsius":17}');
    expect(output).toContain(
      '✗ trip flight: unknown_tool: Unknown tool "flight". Did you mean "flights"? Available tools: weather, flights.',
    );
    expect(output).toContain('✓ trip_again flights: [{"from":"Oslo","to":"Rome","departs":"17:40","priceEur":129}]');
    expect(output).toContain("Rome is 13 °C warmer than Oslo today");
  });

  it("ai-sdk-generate-text: the AI SDK's loop, its step's calls as one Volley run", async ({ expect }) => {
    const output = await example("examples/agents/ai-sdk-generate-text.ts");
    expect(output).toContain('step 1: weather lima → {"city":"Lima","celsius":19}');
    expect(output).toContain(
      'step 1: flights to_lima → [{"from":"Oslo","to":"Lima","departs":"17:40","priceEur":129}]',
    );
    expect(output).toMatch(/Volley ran the step's 4 calls in \d+ ms:/);
    expect(output).toContain(
      "weather: 3 calls, at most 2 at once (the API allows 2; the AI SDK alone would send all 3 together)",
    );
    expect(output).toContain(
      "flights to_lima: answered after 2 attempts (the AI SDK alone would hand the model the 503)",
    );
    expect(output).toContain("Lima is the warmest at 19 °C");
  });

  it("anthropic-turn: tool_result blocks in call order, is_error on the call that failed", async ({ expect }) => {
    const output = await example("examples/agents/anthropic-turn.ts");
    const message = JSON.parse(output.slice(output.indexOf("{\n"))) as {
      role: string;
      content: { tool_use_id: string; is_error?: boolean; content: string }[];
    };
    expect(message.role).toBe("user");
    expect(message.content.map((block) => [block.tool_use_id, block.is_error ?? false])).toEqual([
      ["toolu_01", false],
      ["toolu_02", false],
      ["toolu_03", true],
    ]);
    expect(message.content[2]?.content).toMatch(/"flights" do not match its input schema: \/to/);
  });

  it("research/library-usage: the research turn through the library, each result and the speedup", async ({
    expect,
  }) => {
    const output = await example("examples/research/library-usage.ts");
    expect(output).toMatch(/✓ search_volcanoes/);
    expect(output).toMatch(/retrying rate in \d+ ms after: 503 Service Unavailable/);
    expect(output).toMatch(/\d+ succeeded, 0 failed\./);
    expect(output).toMatch(/Speedup [\d.]+×/);
  });
});
