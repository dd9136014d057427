import type { Queue } from "bullmq";

/** What Redis holds of a job, read straight from it: the caller's event stream may have missed it. */
export type JobOutcome =
  | { kind: "completed"; returnvalue: string }
  | { kind: "failed"; reason: string | undefined }
  /** Redis has no such job: it lost it (a restart without persistence), or removed it long after it finished. */
  | { kind: "gone" }
  /** Waiting, delayed or running: its events will come, or the next look will find it done. */
  | { kind: "unfinished" };

/** Fields of BullMQ's job hash that say whether and how a job finished. */
const FIELDS = ["timestamp", "finishedOn", "returnvalue", "failedReason"] as const;

/** Reads the outcomes of these jobs of `queue`, in one round trip. */
export async function readJobOutcomes(queue: Queue, jobIds: readonly string[]): Promise<JobOutcome[]> {
  if (jobIds.length === 0) return [];
  // The Redis backend's own client: one round trip for all the jobs, not a script per job.
  const client = await queue.getBackend().client;
  const pipeline = client.pipeline();
  for (const jobId of jobIds) pipeline.runCommand("hmget", [queue.toKey(jobId), ...FIELDS]);
  const replies = (await pipeline.exec()) ?? [];
  return jobIds.map((_, index) => {
    const reply: [Error | null, unknown] = replies[index] ?? [new Error("Redis gave no reply for a job"), undefined];
    if (reply[0] !== null) throw reply[0];
    const [timestamp, finishedOn, returnvalue, failedReason] = reply[1] as (string | null)[];
    if (timestamp === null || timestamp === undefined) return { kind: "gone" };
    if (finishedOn === null || finishedOn === undefined) return { kind: "unfinished" };
    // Each job has one attempt: a job that finished with a reason failed for good.
    if (returnvalue !== null && returnvalue !== undefined && (failedReason === null || failedReason === undefined))
      return { kind: "completed", returnvalue };
    return { kind: "failed", reason: failedReason ?? undefined };
  });
}
