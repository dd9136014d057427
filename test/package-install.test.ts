// The package as a user gets it: packed, installed into a fresh project from the tarball, then
// imported and run there. What `files` leaves out, or an install script, shows here first.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const project = mkdtempSync(join(tmpdir(), "volley-install-"));
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe("the packed package", () => {
  it("installs into a fresh project with no warning, and its library and its bin work there", async () => {
    // dist/ is built already (npm test builds first): packing without scripts keeps other test files' dist/ still while they run.
    await run("npm", ["pack", "--ignore-scripts", "--pack-destination", project, "--silent"], {
      cwd: resolve("."),
      timeout: 120_000,
    });
    const tarball = readdirSync(project).find((file) => file.endsWith(".tgz")) as string;
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "fresh-project", version: "1.0.0", type: "module", private: true }),
    );
    const installed = await run("npm", ["install", `./${tarball}`, "--no-audit", "--no-fund"], {
      cwd: project,
      timeout: 120_000,
    });
    expect(installed.stderr.split("\n").filter((line) => /warn|ERR/i.test(line))).toEqual([]);

    writeFileSync(
      join(project, "turn.mjs"),
      `import { createExecutor, defineTool } from "volley";
const add = defineTool({ name: "add", input: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] }, execute: ({ a, b }) => a + b });
const { results } = await createExecutor({ tools: [add] }).run([{ id: "x", name: "add", args: { a: 1, b: 2 } }, { name: "add", args: { a: { $ref: "x" }, b: 4 } }]);
console.log(results.map((result) => result.output).join(" "));
`,
    );
    expect((await run(process.execPath, ["turn.mjs"], { cwd: project })).stdout.trim()).toBe("3 7");
    expect(
      (
        await run(process.execPath, [join(project, "node_modules/volley/dist/cli/main.js"), "--version"], {
          cwd: project,
        })
      ).stdout.trim(),
    ).toMatch(/^\d+\.\d+\.\d+$/);
  }, 240_000);
});
