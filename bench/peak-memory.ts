import { execFileSync } from "node:child_process";

export interface PeakMemoryFigures {
  calls: number;
  /** The rise of the process's peak resident memory over the batch, in MB, per contender. */
  peakRiseMb: Record<"promiseAll" | "pLimit" | "volley" | "idNameArgs", number>;
}

/**
 * Section 1's peak memory: each contender runs one batch in a fresh process, and the rise of
 * its peak resident memory (maxRSS) is read; a process measures its own peak only once.
 */
export function measurePeakMemory(calls: number): PeakMemoryFigures {
  const script = new URL("./peak-memory-process.ts", import.meta.url).pathname;
  const rise = (contender: string): number => {
    const { beforeKb, afterKb } = JSON.parse(
      execFileSync(process.execPath, [script, contender, String(calls)], { encoding: "utf8" }),
    ) as { beforeKb: number; afterKb: number };
    return (afterKb - beforeKb) / 1024;
  };
  return {
    calls,
    peakRiseMb: {
      promiseAll: rise("promiseAll"),
      pLimit: rise("pLimit"),
      volley: rise("volley"),
      idNameArgs: rise("idNameArgs"),
    },
  };
}
