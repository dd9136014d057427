import { createExecutor, defineTool } from "volley";

export interface MemoryFigures {
  calls: number;
  /** Heap still held per call while the run's result is kept, after a full GC. */
  retainedBytesPerCall: number;
  /** Heap left per call after the result is dropped: what the executor itself keeps. */
  leftoverBytesPerCall: number;
}

/** Retained heap per call after a 200k-call run. Needs `node --expose-gc`. */
export async function measureMemory(calls: number): Promise<MemoryFigures | undefined> {
  const gc = globalThis.gc;
  if (gc === undefined) return undefined;
  const executor = createExecutor({
    tools: [defineTool({ name: "noop", execute: () => Promise.resolve(undefined) })],
    maxConcurrency: 16,
  });
  await executor.run([{ name: "noop" }]);
  const settle = async (): Promise<number> => {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const before = await settle();
  // The result lives only inside this function, so that it can be collected once it returns.
  const measureHeld = async (): Promise<number> => {
    const result = await executor.run(Array.from({ length: calls }, () => ({ name: "noop" })));
    const heapUsed = await settle();
    if (result.results.length !== calls) throw new Error("lost calls");
    return heapUsed;
  };
  const held = await measureHeld();
  const after = await settle();
  return {
    calls,
    retainedBytesPerCall: (held - before) / calls,
    leftoverBytesPerCall: Math.max(0, after - before) / calls,
  };
}
