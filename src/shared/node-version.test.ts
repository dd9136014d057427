import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { unsupportedNode } from "./node-version.ts";

describe("the Node.js version check", () => {
  it("accepts 22.13 and newer, and tells a person on an older Node what to do", () => {
    expect(unsupportedNode("22.13.0")).toBeUndefined();
    expect(unsupportedNode("24.11.1")).toBeUndefined();
    expect(unsupportedNode("22.12.0")).toMatch(
      /^Volley needs Node\.js 22\.13 or newer, and this is 22\.12\.0\. Install Node\.js 24 LTS/,
    );
    expect(unsupportedNode("20.20.2")).toMatch(/this is 20\.20\.2/);
  });

  // Where the machine has an older node beside the one running the tests (Debian's, here), the real bin says so in one line.
  const systemNode = "/usr/bin/node";
  const old = spawnSync(systemNode, ["-p", "process.versions.node"], { encoding: "utf8" });
  const oldVersion = old.status === 0 ? old.stdout.trim() : undefined;
  it.runIf(oldVersion !== undefined && unsupportedNode(oldVersion) !== undefined)(
    "the volley bin on an older Node prints one line and exits 2, never a stack trace",
    () => {
      const outcome = spawnSync(systemNode, [resolve("dist/cli/main.js"), "stats"], { encoding: "utf8" });
      expect(outcome.stderr.trim()).toBe(`volley: ${unsupportedNode(oldVersion as string) as string}`);
      expect(outcome.status).toBe(2);
    },
  );

  it.runIf(oldVersion !== undefined && unsupportedNode(oldVersion) !== undefined)(
    "volley/store loads on an older Node, and opening a SQLite history says why it can't",
    () => {
      const script = `
        const { MemoryRunStore, SqliteRunStore } = await import(${JSON.stringify(resolve("dist/store/index.js"))});
        new MemoryRunStore();
        try { new SqliteRunStore({ path: ":memory:" }); } catch (error) { console.log(error.code + ": " + error.message); }`;
      const outcome = spawnSync(systemNode, ["--input-type=module", "-e", script], { encoding: "utf8" });
      expect(outcome.stderr).toBe("");
      expect(outcome.stdout.trim()).toBe(
        `unsupported_node: ${unsupportedNode(oldVersion as string, "SqliteRunStore", "open the history again") as string}`,
      );
    },
  );
});
