import type { ResourceClaim } from "../tool/define-tool.ts";
import { PriorityHeap } from "../shared/priority-heap.ts";
import { startsBefore, type QueueItem } from "./call-state.ts";

interface KeyLock {
  readers: number;
  writer: boolean;
  /** Calls parked until this key frees, best first. */
  readonly waiting: PriorityHeap<QueueItem>;
}

/**
 * Read/write locks on resource keys. A call takes all its keys at once or none, so calls
 * never hold some keys while waiting for others and cannot deadlock. A call also waits behind
 * a better-ranked call already waiting for the key, so that a stream of readers can't starve
 * a writer.
 */
export class ResourceLocks {
  readonly #locks = new Map<string, KeyLock>();

  /** Takes every claim, or parks `call` on the first key in the way and returns false. */
  tryAcquire(call: QueueItem, claims: readonly ResourceClaim[]): boolean {
    for (const claim of claims) {
      const lock = this.#locks.get(claim.key);
      if (lock === undefined) continue;
      const busy = claim.mode === "write" ? lock.writer || lock.readers > 0 : lock.writer;
      const head = lock.waiting.peek();
      if (busy || (head !== undefined && startsBefore(head, call))) {
        lock.waiting.push(call);
        call.parkedIn = lock.waiting;
        return false;
      }
    }
    for (const claim of claims) {
      let lock = this.#locks.get(claim.key);
      if (lock === undefined) {
        lock = { readers: 0, writer: false, waiting: new PriorityHeap(startsBefore) };
        this.#locks.set(claim.key, lock);
      }
      if (claim.mode === "write") lock.writer = true;
      else lock.readers++;
    }
    return true;
  }

  /** Releases the claims and hands every call that waited on a freed key to `wake`. */
  release(claims: readonly ResourceClaim[], wake: (call: QueueItem) => void): void {
    for (const claim of claims) {
      const lock = this.#locks.get(claim.key);
      if (lock === undefined) continue;
      if (claim.mode === "write") lock.writer = false;
      else lock.readers--;
      if (lock.writer || lock.readers > 0) continue;
      for (const waiter of lock.waiting.drain()) wake(waiter);
      this.#locks.delete(claim.key);
    }
  }
}
