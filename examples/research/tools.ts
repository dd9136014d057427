/**
 * The tools of a research agent, simulated with realistic latencies and limits (no network, no
 * API key), so that the example runs anywhere. `volley.config.json` loads them for the CLI.
 */
import { fakeTool } from "volley/testing";
import { z } from "zod";

let exchangeAttempts = 0;

export const webSearch = fakeTool({
  name: "web_search",
  description: "Search the web",
  input: z.object({ query: z.string() }),
  latencyMs: 420,
  idempotent: true,
  output: ({ query }) => [
    {
      title: `${query}: overview`,
      url: `https://example.org/${encodeURIComponent(query)}`,
      snippet: `What is known about ${query}.`,
    },
    { title: `${query}: latest`, url: "https://example.org/latest", snippet: "Recent findings." },
  ],
});

export const fetchPage = fakeTool({
  name: "fetch_page",
  description: "Download a page",
  input: z.object({ url: z.string() }),
  concurrency: 2, // the site allows two connections
  latencyMs: ({ url }) => 250 + (url.length % 7) * 40,
  output: ({ url }) => ({ url, words: 1200 + (url.length % 5) * 300 }),
});

export const exchangeRate = fakeTool({
  name: "exchange_rate",
  description: "Currency exchange rate",
  input: z.object({ from: z.string(), to: z.string() }),
  latencyMs: 150,
  retry: { attempts: 3, initialDelayMs: 100 },
  // The first attempt meets a 503: retryable, so Volley tries again after a back-off.
  fail: () => (++exchangeAttempts === 1 ? "503 Service Unavailable" : undefined),
  output: () => ({ rate: 1.0842 }),
});

export const summarize = fakeTool({
  name: "summarize",
  description: "Summarise texts",
  input: z.object({ texts: z.array(z.unknown()), words: z.number().default(80) }),
  latencyMs: 600,
  output: ({ texts, words }) => `A summary of ${texts.length} sources in ${words} words.`,
});

export const writeNote = fakeTool({
  name: "write_note",
  description: "Save a note",
  input: z.object({ title: z.string(), body: z.string() }),
  latencyMs: 80,
  resources: () => ["notebook"], // notes are written one at a time
  output: ({ title }) => ({ saved: title }),
});
