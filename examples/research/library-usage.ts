/**
 * The same research turn as `volley run examples/research/calls.json`, through the library:
 * the calls as a model sent them, run by an executor, each result and the speedup printed.
 * (The CLI adds an MCP server; this script keeps to the simulated tools.) `npm run example`.
 */
import { readFileSync } from "node:fs";
import { createExecutor, type ToolCall } from "volley";
import { exchangeRate, fetchPage, summarize, webSearch, writeNote } from "./tools.ts";

const { calls } = JSON.parse(readFileSync(new URL("./calls.json", import.meta.url), "utf8")) as { calls: ToolCall[] };
const executor = createExecutor({
  tools: [webSearch, fetchPage, exchangeRate, summarize, writeNote],
  maxConcurrency: 8,
});

const { results, stats } = await executor.run(
  calls.filter((call) => !call.name.startsWith("everything_")),
  {
    onEvent: (event) => {
      if (event.type === "call-retry")
        console.log(`retrying ${event.callId} in ${event.delayMs.toFixed(0)} ms after: ${event.error.message}`);
    },
  },
);

for (const result of results) {
  const shown = result.ok ? JSON.stringify(result.output) : `${result.error?.type}: ${result.error?.message}`;
  console.log(
    `${result.ok ? "✓" : "✗"} ${result.id.padEnd(17)} ${result.durationMs.toFixed(0).padStart(5)} ms  ${shown.length > 90 ? `${shown.slice(0, 87)}...` : shown}`,
  );
}
console.log(
  `\n${stats.succeeded} succeeded, ${stats.failed} failed. Wall ${stats.wallMs.toFixed(0)} ms; a loop that awaits each call in turn would take ${stats.sumMs.toFixed(0)} ms.` +
    `\nSpeedup ${stats.speedup?.toFixed(2) ?? "–"}×. Critical path ${stats.criticalPathMs.toFixed(0)} ms; at most ${stats.maxInFlight} calls ran at once.`,
);
