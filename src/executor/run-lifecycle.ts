/** Why running attempts are being stopped: their own time limit, the run's, or a cancel. */
export type Interruption =
  { kind: "timeout"; scope: "call" | "run"; limitMs: number } | { kind: "cancelled"; reason: string };

/** Why a call that had not started when the run was interrupted never will. */
export function notStartedReason(interruption: Interruption): string {
  return interruption.kind === "cancelled"
    ? interruption.reason
    : `the run's time limit of ${interruption.limitMs} ms was reached`;
}

/** Where a run is in its life, as the parts that handle its calls see it. */
export interface RunLifecycle {
  readonly id: string;
  /** No more calls can be added. */
  readonly ended: boolean;
  /** Why the run is stopping early, once it is. */
  readonly interruption: Interruption | undefined;
  /** Every call added so far has its result: the run finishes if no more can come. */
  allAnswered(): void;
}
