import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runStoreContract } from "./run-store.contract.ts";
import { SqliteRunStore } from "./sqlite-run-store.ts";

const folder = mkdtempSync(join(tmpdir(), "volley-store-"));
let databases = 0;
afterAll(() => rmSync(folder, { recursive: true, force: true }));

runStoreContract("SqliteRunStore", () => new SqliteRunStore({ path: join(folder, `contract-${databases++}.db`) }));

describe("SqliteRunStore on disk", () => {
  const writer = fileURLToPath(new URL("../../test/fixtures/store-writer.ts", import.meta.url));

  it("upgrades an older database and refuses a newer one", async () => {
    const path = join(folder, "versions.db");
    const old = new DatabaseSync(path);
    old.exec("CREATE TABLE unrelated (x); PRAGMA user_version = 0;");
    old.close();
    const store = new SqliteRunStore({ path });
    await store.write([{ kind: "run-start", runId: "r", startedAt: 1, options: {} }]);
    await store.close();
    const check = new DatabaseSync(path);
    expect(check.prepare("PRAGMA user_version").get()).toEqual({ user_version: SqliteRunStore.SCHEMA_VERSION });
    check.exec("PRAGMA user_version = 99");
    check.close();
    expect(() => new SqliteRunStore({ path })).toThrow(
      expect.objectContaining({
        code: "store_version",
        message: expect.stringContaining("schema version 99, newer than this Volley understands") as unknown,
      }) as Error,
    );
  });

  it("takes writes from two processes at once without losing or corrupting any", async () => {
    const path = join(folder, "shared.db");
    const children = ["left", "right"].map((prefix) =>
      spawn(process.execPath, [writer, path, prefix, "150"], { stdio: "pipe" }),
    );
    const codes = await Promise.all(
      children.map((child) => new Promise<number | null>((resolve) => child.on("exit", resolve))),
    );
    expect(codes).toEqual([0, 0]);
    const store = new SqliteRunStore({ path });
    const runs = await store.listRuns({ limit: 1000 });
    expect(runs).toHaveLength(300);
    expect(runs.every((run) => run.status === "completed" && run.calls === 1)).toBe(true);
    await store.close();
    const check = new DatabaseSync(path);
    expect(check.prepare("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    check.close();
  });

  it("shows a run whose process was killed mid-run as interrupted when reopened", async () => {
    const path = join(folder, "killed.db");
    const child = spawn(process.execPath, [writer, path, "doomed", "1", "hang"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    const store = new SqliteRunStore({ path });
    expect((await store.getRun("doomed"))?.run.status).toBe("interrupted");
    await store.close();
  });

  it("shows a run whose process was killed as interrupted to a reader that was open all along", async () => {
    const path = join(folder, "killed-while-open.db");
    const reader = new SqliteRunStore({ path });
    const child = spawn(process.execPath, [writer, path, "doomed", "1", "hang"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    expect((await reader.listRuns()).map((run) => run.status)).toEqual(["running"]);
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    // Readers look for dead processes at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await reader.listRuns()).map((run) => run.status)).toEqual(["interrupted"]);
    expect((await reader.getRun("doomed"))?.run.status).toBe("interrupted");
    await reader.close();
  });

  it("keeps a conversation's claim for a live process, and lets another take it over once that process is dead", async () => {
    const path = join(folder, "claims.db");
    const child = spawn(process.execPath, [writer, path, "talk", "0", "claim"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const claimed = await new Promise<string>((resolve) =>
      child.stdout.once("data", (chunk: Buffer) => resolve(String(chunk))),
    );
    expect(claimed.trim()).toBe("true");
    const store = new SqliteRunStore({ path });
    expect(await store.claimConversation("talk", "parent-turn")).toBe(false);
    expect((await store.conversations())[0]?.busy).toBe(true);
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect((await store.conversations())[0]?.busy).toBe(false);
    expect(await store.claimConversation("talk", "parent-turn")).toBe(true);
    await store.close();
  });
});
