import { measureOverhead, measureSingleCall } from "./overhead.ts";

/**
 * Section 1 on its own: `bench/run.ts` runs this file in a child process, where nothing but the
 * contenders is loaded, and reads the figures it prints as JSON. In the process that had loaded
 * every other section (the agent, BullMQ, SQLite, worker threads), the figures at 10,000 calls
 * swung with the heap and the compiler's background work: the record floor, a plain loop,
 * measured from 1.6× to 6.2× `Promise.all` between two such runs. Every contender is still
 * measured in this one process, interleaved, so its ratios come from one process run.
 */
const quick = process.argv.includes("--quick");
const overhead = [];
// [calls, measured rounds, warm-up ms]
for (const [calls, rounds, warmupMs] of quick
  ? [[10_000, 5, 300]]
  : [
      [10_000, 21, 2_000],
      [200_000, 7, 2_000],
      [1_000_000, 3, 2_000],
    ]) {
  overhead.push(await measureOverhead(calls as number, rounds as number, warmupMs as number));
}
const single = await measureSingleCall(quick ? 2_000 : 20_000, quick ? 3 : 7);
process.stdout.write(`${JSON.stringify({ overhead, single })}\n`);
