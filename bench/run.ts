import { execFileSync } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import {
  agentCeilings,
  agentScenarios,
  measureAgentScenario,
  eagerModelRequests,
  measurePositionalChain,
  measureServedTurn,
} from "./agent.ts";
import { measureCluster } from "./cluster.ts";
import { measureDispatchOrder } from "./dispatch-order.ts";
import { measureGraphs } from "./graphs.ts";
import { measureHistory } from "./history.ts";
import { measureMcpGateway } from "./mcp-gateway.ts";
import { measureMemory } from "./memory.ts";
import { measureScaling } from "./scaling.ts";
import type { OverheadFigures, SingleCallFigures } from "./overhead.ts";
import { measurePeakMemory } from "./peak-memory.ts";
import { measureWorkers } from "./workers.ts";

/**
 * `npm run bench`: every figure is a ratio or a difference measured in this one process, so
 * that a shared, noisy machine shifts all contenders alike. Prints a table and writes JSON.
 */
const quick = process.argv.includes("--quick");
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const fixed = (value: number, digits = 2): string => value.toFixed(digits);

console.log(`Volley benchmark — ${new Date().toISOString().slice(0, 10)} — ${machine}\n`);

console.log("1. Overhead per call, no-op tools, limit 16 (median µs per call; ratio = Volley ÷ other)");
// In a child process of its own, with only the contenders loaded (see overhead-process.ts).
const sectionOne = execFileSync(
  process.execPath,
  ["--expose-gc", new URL("./overhead-process.ts", import.meta.url).pathname, ...(quick ? ["--quick"] : [])],
  { encoding: "utf8" },
);
const { overhead, single } = JSON.parse(sectionOne) as { overhead: OverheadFigures[]; single: SingleCallFigures };
for (const figures of overhead) {
  const { calls, microsPerCall: us, volleyRatio: ratio } = figures;
  console.log(
    `   ${String(calls).padStart(7)} calls  Promise.all ${fixed(us.promiseAll, 3)}  record floor ${fixed(us.recordFloor, 3)}  p-limit ${fixed(us.pLimit, 3)}  p-queue ${fixed(us.pQueue, 3)}  Volley ${fixed(us.volley, 3)}` +
      `   Volley ÷ Promise.all ${fixed(ratio.promiseAll)}×  ÷ record floor ${fixed(ratio.recordFloor)}×  ÷ p-limit ${fixed(ratio.pLimit)}×  ÷ p-queue ${fixed(ratio.pQueue)}×` +
      `   (record floor ÷ Promise.all ${fixed(figures.recordFloorOverPromiseAll)}×)`,
  );
}

for (const figures of overhead) {
  const { calls, shapes } = figures;
  const shape = (label: string, item: { micros: number; overPromiseAll: number; overPLimit: number }) =>
    `${label} ${fixed(item.micros, 3)} µs (${fixed(item.overPromiseAll)}× Promise.all, ${fixed(item.overPLimit)}× p-limit)`;
  console.log(
    `   ${String(calls).padStart(7)} calls as models send them: ${shape("{ id, name, args }", shapes.idNameArgs)}; ${shape("args as JSON text (p-limit parsing it too)", shapes.argsAsJsonText)}; ${shape("with a listener", shapes.withListener)}` +
      `   (record floor on given ids ÷ Promise.all ${fixed(figures.recordFloorWithIdsOverPromiseAll)}×)`,
  );
}
console.log(
  `   one call: run([call]) ${fixed(single.volleyMicros)} µs, calling the tool directly ${fixed(single.directMicros)} µs`,
);
// Peak memory: each contender once in a fresh process (a process measures its own peak only once).
const peakMemory = (quick ? [10_000] : [10_000, 200_000, 1_000_000]).map(measurePeakMemory);
for (const { calls, peakRiseMb: mb } of peakMemory)
  console.log(
    `   ${String(calls).padStart(7)} calls, peak memory rise (MB): Promise.all ${fixed(mb.promiseAll, 1)}, p-limit ${fixed(mb.pLimit, 1)}, Volley ${fixed(mb.volley, 1)}, Volley on { id, name, args } ${fixed(mb.idNameArgs, 1)} (the calls' own objects included)`,
  );

console.log("\n2. Dependency graphs (seeded random DAGs, log-normal latencies 5–100 ms)");
const graphs = await measureGraphs(quick ? [50, 100] : [50, 100, 200, 300, 400, 500], 8, quick ? 5 : 30);
console.log("   calls limit  planned-CP  bound(ms)  Volley  levels  polling   Volley vs bound");
for (const item of graphs.cases) {
  const versus =
    item.limit === "none"
      ? `+${fixed(item.volleyOverCriticalPathMs)} ms over critical path`
      : `${fixed(item.volleyMs / item.measuredBoundMs, 3)}× bound`;
  console.log(
    `   ${String(item.calls).padStart(5)} ${String(item.limit).padStart(5)}  ${fixed(item.plannedCriticalPathMs, 0).padStart(10)}  ${fixed(item.measuredBoundMs, 0).padStart(9)}  ${fixed(item.volleyMs, 0).padStart(6)}  ${fixed(item.levelsMs, 0).padStart(6)}  ${fixed(item.pollingMs, 0).padStart(7)}   ${versus}`,
  );
}
console.log(
  `   median, no limit: Volley − critical path ${fixed(graphs.unlimited.volleyOverCriticalPathMs)} ms; levels ${fixed(graphs.unlimited.levelsOverVolley)}× and polling ${fixed(graphs.unlimited.pollingOverVolley)}× Volley's time`,
);
console.log(
  `   median, limit ${graphs.limited.limit}: Volley ${fixed(graphs.limited.volleyOverBound, 3)}× the lower bound; levels ${fixed(graphs.limited.levelsOverVolley)}× and polling ${fixed(graphs.limited.pollingOverVolley)}× Volley's time`,
);

console.log("\n3. Memory after a 200k-call run");
const memory = await measureMemory(200_000);
if (memory)
  console.log(
    `   ${fixed(memory.retainedBytesPerCall, 0)} bytes per call held with the result; ${fixed(memory.leftoverBytesPerCall, 1)} bytes per call left once it is dropped`,
  );
else console.log("   skipped: run with node --expose-gc");

console.log("\n4. History: a 10k-call run with SQLite history on, against off");
const history = await measureHistory(10_000, quick ? 3 : 15);
console.log(
  `   run ${fixed(history.withoutHistoryMs, 1)} ms off, ${fixed(history.withHistoryMs, 1)} ms on (${fixed(history.runRatio)}×);` +
    ` until every record is written ${fixed(history.withHistoryWrittenMs, 1)} ms (${fixed(history.writtenRatio, 1)}×);` +
    ` ${history.recordsPerRun} records per run, ${Math.round(history.recordsPerSecond).toLocaleString("en")} records written per second`,
);

console.log("\n5. Dispatch order when durations differ a lot and the limit binds");
const order = await measureDispatchOrder(quick ? 3 : 7);
console.log(
  `   limit ${order.limit}, bound ${fixed(order.boundMs, 0)} ms: learned estimates ${fixed(order.learnedMs, 0)} ms (${fixed(order.learnedMs / order.boundMs, 3)}× bound),` +
    ` estimates off ${fixed(order.estimatesOffMs, 0)} ms (${fixed(order.estimatesOffMs / order.boundMs, 3)}×), FIFO ${fixed(order.fifoMs, 0)} ms (${fixed(order.fifoMs / order.boundMs, 3)}×)`,
);

console.log(
  "\n6. The agent end to end, on the mock model: first token 400 ms, then 40 tokens/s (wall ms, and the ideal for each loop)",
);
const agent = [];
console.log("   scenario                      sequential      wait-for-all    Volley eager    Volley plan");
for (const scenario of quick ? agentScenarios().slice(0, 1) : agentScenarios()) {
  const figures = await measureAgentScenario(scenario);
  agent.push(figures);
  const cell = (loop: { wallMs: number; idealMs: number }): string =>
    `${fixed(loop.wallMs, 0).padStart(6)} (${fixed(loop.idealMs, 0).padStart(6)})`;
  console.log(
    `   ${figures.scenario.padEnd(28)}  ${cell(figures.sequential)}  ${cell(figures.waitForAll)}  ${cell(figures.eager)}  ${cell(figures.plan)}`,
  );
}
const worstOverIdeal = Math.max(
  ...agent.flatMap((item) => [item.eager.wallMs / item.eager.idealMs, item.plan.wallMs / item.plan.idealMs]),
);
const planSpeedups = agent
  .filter((item) => !item.scenario.includes("slow"))
  .map((item) => item.sequential.wallMs / item.plan.wallMs);
const slow = agent.find((item) => item.scenario.includes("slow"));
console.log(
  `   eager and plan at most ${fixed(worstOverIdeal, 3)}× their ideal; plan ${fixed(Math.min(...planSpeedups))}–${fixed(Math.max(...planSpeedups))}× faster than sequential` +
    (slow
      ? `; eager ${fixed(slow.waitForAll.wallMs / slow.eager.wallMs)}× faster than wait-for-all with slow tools`
      : ""),
);
const ceilings = agentCeilings(quick ? 1_000 : 10_000);
console.log(
  `   the best any scheduler could do, mean over ${ceilings[0]?.draws ?? 0} draws of these latencies (ideal ÷ ideal):`,
);
for (const ceiling of ceilings) {
  console.log(
    `   ${ceiling.scenario.padEnd(28)}  plan ${fixed(ceiling.planOverSequential)}× faster than sequential;  eager ${fixed(ceiling.eagerOverWaitForAll)}× faster than wait-for-all`,
  );
}
const positional = [];
for (const scenario of (quick ? agentScenarios().slice(3, 4) : agentScenarios()).filter((item) =>
  item.name.includes("chain"),
)) {
  const figures = await measurePositionalChain(scenario);
  positional.push(figures);
  const eager = agent.find((item) => item.scenario === scenario.name)?.eager.wallMs;
  console.log(
    `   ${scenario.name.padEnd(28)}  by position in tools mode: ${figures.modelTurns} model requests (eager: ${eagerModelRequests(scenario)}), ${fixed(figures.wallMs, 0)} ms${eager === undefined ? "" : ` against eager's ${fixed(eager, 0)} ms`}`,
  );
}
const [fanOut] = agentScenarios();
if (fanOut === undefined) throw new Error("no agent scenario");
const servedTurn = await measureServedTurn(fanOut);
console.log(
  `   served over HTTP (SSE) by startServer, ${servedTurn.scenario}: first tool start ${fixed(servedTurn.served.firstToolStartMs, 0)} ms, answer ${fixed(servedTurn.served.answerMs, 0)} ms;` +
    ` in process ${fixed(servedTurn.inProcess.firstToolStartMs, 0)} ms and ${fixed(servedTurn.inProcess.answerMs, 0)} ms` +
    ` (+${fixed(servedTurn.served.answerMs - servedTurn.inProcess.answerMs, 1)} ms to the answer)`,
);

console.log(
  `\n7. CPU-bound tools: 4 hashing calls of about 200 ms beside 20 I/O calls of 100 ms, in the caller's thread and in the worker pool (medians)`,
);
const workers = await measureWorkers(quick ? 2 : 7);
const placement = (name: string, figures: typeof workers.inProcess): string =>
  `   ${name.padEnd(22)} wall ${fixed(figures.wallMs, 0).padStart(5)} ms   I/O calls late by ${fixed(figures.ioLateMedianMs, 0).padStart(4)} ms (worst ${fixed(figures.ioLateMaxMs, 0).padStart(4)} ms)   event-loop delay p99 ${fixed(figures.loopDelayP99Ms, 1).padStart(6)} ms, longest ${fixed(figures.loopDelayMaxMs, 0).padStart(4)} ms`;
console.log(
  `   one hashing call alone: ${fixed(workers.cpuCallMs, 0)} ms; ${workers.threads} worker threads on this ${cpus().length}-core machine`,
);
console.log(placement("in the caller's thread", workers.inProcess));
console.log(placement("in worker threads", workers.workers));
console.log(
  `   worker threads: wall ${fixed(workers.inProcess.wallMs / workers.workers.wallMs)}× shorter; I/O calls late by ${fixed(workers.workers.ioLateMedianMs, 0)} ms instead of ${fixed(workers.inProcess.ioLateMedianMs, 0)} ms`,
);

const clusterCalls = quick ? 80 : 160;
console.log(
  `\n8. BullMQ over loopback Redis: ${clusterCalls} I/O-bound calls of 200 ms, each worker process running 4 at once`,
);
const cluster = await measureCluster(clusterCalls, quick ? 100 : 300, quick ? 12_000 : 100_000);
for (const item of cluster.throughput) {
  console.log(
    `   ${item.workers} worker process${item.workers === 1 ? "  " : "es"}  wall ${fixed(item.wallMs, 0).padStart(5)} ms  ${fixed(item.callsPerSecond, 1).padStart(5)} calls/s`,
  );
}
console.log(`   4 workers ÷ 1: ${fixed(cluster.fourOverOne)}× the throughput`);
console.log(
  `   one no-op call through Redis and back, one at a time: p50 ${fixed(cluster.dispatch.p50Ms)} ms, p95 ${fixed(cluster.dispatch.p95Ms)} ms (${cluster.dispatch.calls} calls)`,
);
console.log(
  `   a tool limited to ${cluster.limit.limit} at once, ${cluster.limit.calls} calls on 4 workers that could take 32: at most ${cluster.limit.maxInFlight} in flight, on ${cluster.limit.workersUsed} workers`,
);
console.log(
  `   a burst of ${cluster.burst.calls.toLocaleString("en")} no-op calls at once on 4 workers: ${cluster.burst.answered.toLocaleString("en")} answered in ${fixed(cluster.burst.wallMs / 1000, 1)} s (${Math.round(cluster.burst.callsPerSecond).toLocaleString("en")} calls/s)`,
);

console.log(
  "\n9. Scaling: graphs added as one batch or call by call into a live run, no-op tools, limit 16, against the same graph as hand-written promises under p-limit (median ms)",
);
const scaling = await measureScaling(quick ? [1000, 10_000] : [1000, 10_000, 100_000], quick ? 3 : 5);
for (const item of scaling) {
  console.log(
    `   ${item.arrival.padEnd(5)} ${item.shape.padEnd(20)} ${String(item.calls).padStart(7)} calls ${String(item.edges).padStart(7)} edges  Volley ${fixed(item.volleyMs, 1).padStart(7)} ms (${fixed(item.microsPerCall, 2)} µs/call${item.edges ? `, ${fixed(item.microsPerEdge, 2)} µs/edge` : ""})  promises ${fixed(item.promisesMs, 1).padStart(7)} ms  ${fixed(item.ratio)}×`,
  );
}

console.log(
  "\n10. MCP: one tools/call at a time to the reference server's echo, straight to it and through volley mcp (both over stdio)",
);
const mcpGateway = await measureMcpGateway(quick ? 100 : 1000);
console.log(
  `   straight to the server: p50 ${fixed(mcpGateway.direct.p50Ms)} ms, p95 ${fixed(mcpGateway.direct.p95Ms)} ms;  through volley mcp: p50 ${fixed(mcpGateway.gateway.p50Ms)} ms, p95 ${fixed(mcpGateway.gateway.p95Ms)} ms  (+${fixed(mcpGateway.gateway.p50Ms - mcpGateway.direct.p50Ms)} ms at p50, ${mcpGateway.gateway.calls} calls each)`,
);

const report = {
  date: new Date().toISOString(),
  machine,
  quick,
  overhead,
  single,
  peakMemory,
  graphs,
  memory,
  history,
  order,
  agent,
  agentCeilings: ceilings,
  servedTurn,
  positional,
  workers,
  cluster,
  scaling,
  mcpGateway,
};
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const file = new URL(quick ? "./results/quick.local.json" : "./results/latest.json", import.meta.url);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nFigures written to ${file.pathname}`);
