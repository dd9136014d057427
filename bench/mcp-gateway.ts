import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

export interface RoundTrips {
  calls: number;
  p50Ms: number;
  p95Ms: number;
}

export interface McpGatewayFigures {
  direct: RoundTrips;
  gateway: RoundTrips;
}

const everything = fileURLToPath(
  new URL("../node_modules/@modelcontextprotocol/server-everything/dist/index.js", import.meta.url),
);
const volley = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

async function roundTrips(client: Client, tool: string, calls: number): Promise<RoundTrips> {
  const times: number[] = [];
  // Warm-up: the first calls pay for compilation on both sides.
  for (let call = 0; call < 50; call++) await client.callTool({ name: tool, arguments: { message: "warm" } });
  for (let call = 0; call < calls; call++) {
    const start = performance.now();
    await client.callTool({ name: tool, arguments: { message: `call ${call}` } });
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] ?? 0;
  return { calls, p50Ms: at(0.5), p95Ms: at(0.95) };
}

async function connected(command: string, args: string[], cwd?: string): Promise<Client> {
  const client = new Client({ name: "volley-bench", version: "1" });
  await client.connect(new StdioClientTransport({ command, args, stderr: "ignore", ...(cwd ? { cwd } : {}) }));
  return client;
}

/**
 * One `tools/call` at a time to the reference MCP server's `echo`: straight to the server over
 * stdio, and through `volley mcp` (a Volley run per call, then the upstream call) over stdio.
 */
export async function measureMcpGateway(calls: number): Promise<McpGatewayFigures> {
  const folder = mkdtempSync(join(tmpdir(), "volley-bench-mcp-"));
  writeFileSync(
    join(folder, "volley.config.json"),
    JSON.stringify({
      mcpServers: { everything: { command: process.execPath, args: [everything, "stdio"], hints: { readOnly: true } } },
      history: false,
    }),
  );
  try {
    const direct = await connected(process.execPath, [everything, "stdio"]);
    const gateway = await connected(process.execPath, [volley, "mcp"], folder);
    try {
      // Interleaved halves, so that a slow moment of the machine falls on both.
      const half = Math.floor(calls / 2);
      const [d1, g1, d2, g2] = [
        await roundTrips(direct, "echo", half),
        await roundTrips(gateway, "echo", half),
        await roundTrips(direct, "echo", half),
        await roundTrips(gateway, "echo", half),
      ];
      const merge = (a: RoundTrips, b: RoundTrips): RoundTrips => ({
        calls: a.calls + b.calls,
        p50Ms: (a.p50Ms + b.p50Ms) / 2,
        p95Ms: (a.p95Ms + b.p95Ms) / 2,
      });
      return { direct: merge(d1, d2), gateway: merge(g1, g2) };
    } finally {
      await Promise.all([direct.close(), gateway.close()]);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
