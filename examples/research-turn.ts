/**
 * One turn of a research agent: the model asked for nine tool calls at once, some of which
 * need others' results. Volley runs each as soon as its inputs exist, within each tool's
 * limits, and reports what parallelism bought. The tools are simulated with realistic
 * latencies (no network, no API key), so this runs anywhere: `npm run example`.
 */
import { createExecutor, type RunEvent, type ToolCall } from "volley";
import { fakeTool } from "volley/testing";
import { z } from "zod";

let exchangeAttempts = 0;

const tools = [
  fakeTool({
    name: "web_search",
    description: "Search the web",
    input: z.object({ query: z.string() }),
    latencyMs: 420,
    idempotent: true,
    output: (args) => [
      { title: `${String(args.query)}: overview`, url: `https://example.org/${encodeURIComponent(String(args.query))}`, snippet: `What is known about ${String(args.query)}.` },
      { title: `${String(args.query)}: latest`, url: "https://example.org/latest", snippet: "Recent findings." },
    ],
  }),
  fakeTool({
    name: "fetch_page",
    description: "Download a page",
    input: z.object({ url: z.string() }),
    concurrency: 2, // the site allows two connections
    latencyMs: (args) => 250 + (String(args.url).length % 7) * 40,
    output: (args) => ({ url: args.url, words: 1200 + (String(args.url).length % 5) * 300 }),
  }),
  fakeTool({
    name: "exchange_rate",
    description: "Currency exchange rate",
    input: z.object({ from: z.string(), to: z.string() }),
    latencyMs: 150,
    retry: { attempts: 3, initialDelayMs: 100 },
    // The first attempt meets a 503: retryable, so Volley tries again after a back-off.
    fail: () => (++exchangeAttempts === 1 ? "503 Service Unavailable" : undefined),
    output: () => ({ rate: 1.0842 }),
  }),
  fakeTool({
    name: "summarize",
    description: "Summarise texts",
    input: z.object({ texts: z.array(z.unknown()), words: z.number().default(80) }),
    latencyMs: 600,
    output: (args) => `A summary of ${(args.texts as unknown[]).length} sources in ${String(args.words)} words.`,
  }),
  fakeTool({
    name: "write_note",
    description: "Save a note",
    input: z.object({ title: z.string(), body: z.string() }),
    latencyMs: 80,
    resources: () => ["notebook"], // notes are written one at a time
    output: (args) => ({ saved: args.title }),
  }),
];

// The calls as a model would send them: ids, JSON text for arguments, $refs between calls.
const calls: ToolCall[] = [
  { id: "search_volcanoes", name: "web_search", args: '{"query":"volcanic eruptions 2026"}' },
  { id: "search_tides", name: "web_search", args: { query: "king tides forecast" } },
  { id: "page_1", name: "fetch_page", args: { url: { $ref: "search_volcanoes", path: "/0/url" } } },
  { id: "page_2", name: "fetch_page", args: { url: { $ref: "search_volcanoes", path: "/1/url" } } },
  { id: "page_3", name: "fetch_page", args: { url: { $ref: "search_tides", path: "/0/url" } } },
  { id: "rate", name: "exchange_rate", args: { from: "EUR", to: "USD" } },
  { id: "summary", name: "summarize", args: { texts: [{ $ref: "page_1" }, { $ref: "page_2" }, { $ref: "page_3" }] } },
  { id: "note", name: "write_note", args: { title: "Volcanoes and tides", body: { $ref: "summary" } } },
  { id: "typo", name: "web_serach", args: { query: "a tool that does not exist" } },
];

const executor = createExecutor({ tools, maxConcurrency: 8 });
const retries: string[] = [];
const onEvent = (event: RunEvent): void => {
  if (event.type === "call-retry") retries.push(`${event.callId} attempt ${event.attempt} in ${event.delayMs.toFixed(0)} ms after: ${event.error.message}`);
};
const { results, stats } = await executor.run(calls, { onEvent });

const runStart = Math.min(...results.map((result) => result.startedAt));
const scale = 50 / Math.max(1, stats.wallMs);
console.log("Volley: one research turn, 9 tool calls\n");
for (const result of results) {
  const offset = Math.round((result.startedAt - runStart) * scale);
  const width = Math.max(1, Math.round(result.durationMs * scale));
  const bar = `${" ".repeat(offset)}${"█".repeat(result.attempts > 0 ? width : 1)}`.padEnd(52);
  const shown = result.ok ? JSON.stringify(result.output) : `${result.error?.type}: ${result.error?.message}`;
  console.log(`${result.id.padEnd(17)} ${bar} ${result.durationMs.toFixed(0).padStart(5)} ms  ${shown.length > 90 ? `${shown.slice(0, 87)}...` : shown}`);
}
if (retries.length > 0) console.log(`\nRetried: ${retries.join("; ")}`);
console.log(
  `\n${stats.succeeded} succeeded, ${stats.failed} failed. Wall ${stats.wallMs.toFixed(0)} ms; one after another would take ${stats.sumMs.toFixed(0)} ms.` +
    `\nSpeedup ${stats.speedup.toFixed(2)}×. Critical path ${stats.criticalPathMs.toFixed(0)} ms; at most ${stats.maxInFlight} calls ran at once.`,
);
