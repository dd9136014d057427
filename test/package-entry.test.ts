import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");

/** Every module reachable from `entry` through runtime imports, and the packages they name. */
function runtimeImports(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?["']([^"']+)["']/gm)) {
      const specifier = match[1] as string;
      if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier));
      else
        packages.add(
          specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : (specifier.split("/")[0] as string),
        );
    }
  };
  visit(entry);
  return { files, packages };
}

describe("package entry points", () => {
  it("keeps the root entry free of runtime dependencies beyond its JSON Schema validator", () => {
    const { packages } = runtimeImports(resolve(root, "src/index.ts"));
    const external = [...packages].filter((name) => !name.startsWith("node:"));
    expect(external).toEqual(["@cfworker/json-schema"]);
    // node:sqlite warns that it is experimental on Node 22 and is missing before 22.13: nothing
    // loads it on import, not even volley/store, which loads it when a SqliteRunStore opens.
    expect(packages.has("node:sqlite")).toBe(false);
    expect(runtimeImports(resolve(root, "src/store/index.ts")).packages.has("node:sqlite")).toBe(false);
  });

  it("keeps OpenTelemetry's API out of the root entry, in volley/otel alone", () => {
    const { packages } = runtimeImports(resolve(root, "src/otel/index.ts"));
    expect([...packages].filter((name) => !name.startsWith("node:"))).toEqual(["@opentelemetry/api"]);
  });

  it("keeps the AI SDK out of the root entry, in volley/ai-sdk alone", () => {
    const { packages } = runtimeImports(resolve(root, "src/ai-sdk/index.ts"));
    expect([...packages].filter((name) => !name.startsWith("node:")).sort()).toEqual(["@cfworker/json-schema", "ai"]);
  });

  it("keeps LangChain in volley/langchain alone", () => {
    const { packages } = runtimeImports(resolve(root, "src/langchain/index.ts"));
    expect([...packages].filter((name) => !name.startsWith("node:")).sort()).toEqual([
      "@cfworker/json-schema",
      "@langchain/core",
    ]);
    expect(runtimeImports(resolve(root, "src/index.ts")).packages.has("@langchain/core")).toBe(false);
  });

  it("loads nothing of the OpenAI Agents SDK in volley/openai-agents: its tools are taken as they are", () => {
    const { packages } = runtimeImports(resolve(root, "src/openai-agents/index.ts"));
    expect([...packages].filter((name) => !name.startsWith("node:"))).toEqual(["@cfworker/json-schema"]);
  });

  it("keeps BullMQ and its Redis client in volley/bullmq alone", () => {
    const { packages } = runtimeImports(resolve(root, "src/bullmq/index.ts"));
    expect([...packages].filter((name) => !name.startsWith("node:")).sort()).toEqual([
      "@cfworker/json-schema",
      "bullmq",
      "ioredis",
    ]);
  });

  it("keeps Hono in volley/server alone", () => {
    const { packages } = runtimeImports(resolve(root, "src/server/index.ts"));
    expect([...packages].filter((name) => !name.startsWith("node:")).sort()).toEqual([
      "@cfworker/json-schema",
      "@hono/node-server",
      "hono",
    ]);
  });

  it("lets `volley run` work with no optional peer installed: MCP, Hono and openai load only when a command needs them", () => {
    const entry = runtimeImports(resolve(root, "src/cli/main.ts"));
    expect([...entry.packages].filter((name) => !name.startsWith("node:"))).toEqual([]);
    const run = runtimeImports(resolve(root, "src/cli/run-command.ts"));
    expect([...run.packages].filter((name) => !name.startsWith("node:"))).toEqual(["@cfworker/json-schema"]);
  });

  it("keeps the MCP SDK out of the root entry, in volley/mcp alone", () => {
    const { packages } = runtimeImports(resolve(root, "src/mcp/index.ts"));
    expect([...packages].filter((name) => !name.startsWith("node:")).sort()).toEqual([
      "@cfworker/json-schema",
      "@modelcontextprotocol/sdk",
    ]);
  });

  it("keeps volley/agent free of provider SDKs: you hand it your own client", () => {
    const { packages } = runtimeImports(resolve(root, "src/agent/index.ts"));
    expect([...packages].filter((name) => !name.startsWith("node:"))).toEqual(["@cfworker/json-schema"]);
  });

  it("exports every subpath it declares, from files that exist", () => {
    const manifest = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as {
      exports: Record<string, { types: string; default: string } | string>;
    };
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === "string") continue;
      const source = target.default.replace("./dist/", "src/").replace(/\.js$/, ".ts");
      expect(() => readFileSync(resolve(root, source)), `${subpath} → ${source}`).not.toThrow();
    }
  });
});
