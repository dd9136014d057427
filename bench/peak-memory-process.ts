import pLimit from "p-limit";
import { createExecutor, defineTool } from "volley";

/**
 * One contender of section 1 run once in a process of its own, which prints its peak resident
 * memory (maxRSS) and that of the same process before the run: the rise is what the batch cost
 * at its peak. Usage: node peak-memory-process.ts <contender> <calls>
 */
const [contender, callsText] = process.argv.slice(2) as [string, string];
const calls = Number(callsText);
const noop = (): Promise<undefined> => Promise.resolve(undefined);
const limit = 16;
const executor = createExecutor({ tools: [defineTool({ name: "noop", execute: noop })], maxConcurrency: limit });
const shaped = () =>
  Array.from({ length: calls }, (_, index) => ({
    id: `toolu_${index.toString(36).padStart(8, "0")}`,
    name: "noop",
    args: { query: `item ${index}`, limit: 5 },
  }));
const runs: Record<string, () => Promise<unknown>> = {
  promiseAll: () => Promise.all(Array.from({ length: calls }, () => noop())),
  pLimit: () => {
    const limited = pLimit(limit);
    return Promise.all(Array.from({ length: calls }, () => limited(noop)));
  },
  volley: () => executor.run(Array.from({ length: calls }, () => ({ name: "noop" }))),
  idNameArgs: () => executor.run(shaped()),
};
const run = runs[contender];
if (run === undefined) throw new Error(`no contender ${contender}`);
// Everything loaded and compiled once, on a batch too small to move the peak.
await executor.run([{ name: "noop" }]);
const beforeKb = process.resourceUsage().maxRSS;
const outcome = await run();
const afterKb = process.resourceUsage().maxRSS;
if (outcome === undefined) throw new Error("no outcome");
process.stdout.write(`${JSON.stringify({ contender, calls, beforeKb, afterKb })}\n`);
