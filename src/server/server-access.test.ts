import { afterEach, describe, expect, it } from "vitest";
import { controlledTool } from "../executor/executor.fixture.ts";
import { createExecutor } from "../index.ts";
import { createServerApp } from "./create-server-app.ts";
import { collect, echo, setUp, TOKEN } from "./server.fixture.ts";
import { startServer, type RunningServer } from "./start-server.ts";

describe("who may call the API", () => {
  it("with a token, every API request needs it; the dashboard's files do not", async () => {
    const { request } = setUp({ token: TOKEN });
    expect((await request("/api/health")).status).toBe(401);
    expect(
      (await request("/api/health", { headers: { authorization: "Bearer wrong-token-of-some-length" } })).status,
    ).toBe(401);
    expect((await request("/api/health", { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await request("/")).status).toBe(200);
  });

  it("without a token, answers only loopback host names (no DNS rebinding)", async () => {
    const { app } = setUp();
    expect((await app.request("http://127.0.0.1/api/health")).status).toBe(200);
    expect((await app.request("http://localhost/api/health")).status).toBe(200);
    const rebound = await app.request("http://attacker.example/api/health");
    expect(rebound.status).toBe(403);
    expect(await rebound.text()).toMatch(/not a loopback name/);
  });

  it("sends no CORS headers unless origins are given", async () => {
    const origin = { headers: { origin: "https://app.example" } };
    expect((await setUp().request("/api/health", origin)).headers.get("access-control-allow-origin")).toBeNull();
    expect(
      (await setUp({ corsOrigins: ["https://app.example"] }).request("/api/health", origin)).headers.get(
        "access-control-allow-origin",
      ),
    ).toBe("https://app.example");
  });

  it("refuses state-changing requests a browser sends from another site, on every route", async () => {
    const { post, request, slow, runs } = setUp({ corsOrigins: ["https://app.example"] });
    const started = (await (await post("/api/runs", { calls: [{ id: "s", name: "slow" }] })).json()) as {
      runId: string;
    };
    // A cross-site HTML form: no JSON, and the browser names the page's origin.
    const form = {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "https://evil.example",
        "sec-fetch-site": "cross-site",
      },
      body: "x=1",
    };
    const refused = await request(`/api/runs/${started.runId}/cancel`, form);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      error: {
        code: "cross_site",
        message: "Refused a POST from another site (https://evil.example); list its origin in corsOrigins to allow it",
      },
    });
    // A no-cors fetch with no body at all says only where it comes from.
    expect(
      (
        await request(`/api/runs/${started.runId}/cancel`, {
          method: "POST",
          headers: { "sec-fetch-site": "cross-site" },
        })
      ).status,
    ).toBe(403);
    expect((await post("/api/runs", { calls: [] }, { origin: "https://evil.example" })).status).toBe(403);
    expect(runs.get(started.runId)?.result).toBeUndefined();
    // The dashboard's own page, a listed origin, and clients that are not browsers are let through.
    expect(
      (
        await post(
          "/api/runs",
          { calls: [{ name: "echo" }] },
          { origin: "http://127.0.0.1", "sec-fetch-site": "same-origin" },
        )
      ).status,
    ).toBe(202);
    expect((await post("/api/runs", { calls: [{ name: "echo" }] }, { origin: "https://app.example" })).status).toBe(
      202,
    );
    expect((await request(`/api/runs/${started.runId}/cancel`, { method: "POST" })).status).toBe(202);
    slow.finish("s");
  });

  it("serves pages under a content security policy that runs no inline script", async () => {
    const page = await setUp().request("/");
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("rejects options it can't use", () => {
    const executor = createExecutor({ tools: [echo] });
    expect(() => createServerApp({ executor, token: "short" })).toThrow(/token.*16 characters or more/);
    // Bearer tokens can't carry spaces: such a token would pass here and fail every request.
    expect(() => createServerApp({ executor, token: "a token with spaces in it" })).toThrow(
      /token.*as a Bearer token allows, got "a token with spaces in it"/,
    );
    expect(() => createServerApp({ executor: {} as never })).toThrow(/executor.*createExecutor/);
    expect(() => createServerApp({ executor, corsOrigins: "*" as never })).toThrow(/corsOrigins.*array of origins/);
  });
});

describe("startServer", () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("listens on 127.0.0.1 by default and serves the API over real HTTP", async () => {
    server = await startServer({ executor: createExecutor({ tools: [echo] }), port: 0 });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const health = await fetch(new URL("/api/health", server.url));
    expect(await health.json()).toMatchObject({ ok: true, tools: 1 });
  });

  it("refuses any other address without a token", async () => {
    await expect(
      startServer({ executor: createExecutor({ tools: [echo] }), host: "0.0.0.0", port: 0 }),
    ).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without a token/);
    server = await startServer({ executor: createExecutor({ tools: [echo] }), host: "0.0.0.0", port: 0, token: TOKEN });
    const port = new URL(server.url).port;
    expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(401);
  });

  it("ends open event streams and cancels live runs when closed", async () => {
    const slow = controlledTool("slow");
    server = await startServer({ executor: createExecutor({ tools: [slow.tool] }), port: 0 });
    const started = await fetch(new URL("/api/runs", server.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ calls: [{ name: "slow" }] }),
    });
    const { events } = (await started.json()) as { events: string };
    const stream = collect(await fetch(new URL(events, server.url)));
    await server.close();
    server = undefined;
    expect(slow.started[0]?.context.signal.aborted).toBe(true);
    await expect(stream).resolves.toBeDefined();
  });
});
