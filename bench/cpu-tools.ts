// A CPU-bound tool twice over: once in the caller's thread, once in a worker thread. The worker
// loads this module to find its tool, so the two share one body of code.
import { createHash } from "node:crypto";
import { defineTool } from "volley";

function hashRounds(args: unknown): string {
  const { rounds } = args as { rounds: number };
  let digest = "volley";
  for (let round = 0; round < rounds; round++) digest = createHash("sha256").update(digest).digest("hex");
  return digest;
}

export const hashInline = defineTool({ name: "hash", execute: hashRounds });
export const hashInWorker = defineTool({ name: "hash", worker: { module: import.meta.url }, execute: hashRounds });
