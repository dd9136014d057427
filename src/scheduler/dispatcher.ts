import type { Clock } from "../shared/clock.ts";
import { PriorityHeap } from "../shared/priority-heap.ts";
import { startsBefore, type Attempt, type CallState } from "./call-state.ts";
import { ResourceLocks } from "./resource-locks.ts";
import type { ToolGate } from "./tool-gate.ts";

/**
 * Decides which ready call starts next, across every run of an executor, and enforces the
 * limits: the executor's `maxConcurrency`, each run's, each tool's concurrency and rate, and
 * resource locks. It never polls: it pumps when a call becomes ready, when an attempt
 * settles, when a rate limit lifts and when limits change.
 */
export class Dispatcher {
  readonly ready = new PriorityHeap<CallState>(startsBefore);
  readonly locks = new ResourceLocks();
  maxConcurrency: number;
  /** Attempts holding a slot, including timed-out ones whose tool has not stopped yet. */
  inFlight = 0;
  #nextSeq = 0;
  #pumping = false;
  #pumpAgain = false;
  readonly #clock: Clock;
  /** Bound once: handed to gates and locks to send calls back to the ready heap. */
  readonly #requeue = (call: CallState): void => this.enqueue(call);
  readonly #onRateLift = (gate: ToolGate): void => {
    this.wakeGate(gate);
    this.pump();
  };

  constructor(maxConcurrency: number, clock: Clock) {
    this.maxConcurrency = maxConcurrency;
    this.#clock = clock;
  }

  nextSeq(): number {
    return this.#nextSeq++;
  }

  /** Puts a call whose inputs are ready in line to start. */
  enqueue(call: CallState): void {
    call.phase = "queued";
    this.ready.push(call);
    call.parkedIn = this.ready;
  }

  /** Takes a queued call out of whatever heap holds it (on cancellation). */
  withdraw(call: CallState): void {
    call.parkedIn?.remove(call);
    call.parkedIn = undefined;
  }

  /**
   * Starts ready calls while there is room. Re-entrant calls fold into the running loop.
   * `now`: a time the caller has just read, with no code outside Volley run since; the first
   * call started takes it as its start time (the next ones follow a tool's code, so they read
   * the clock again).
   */
  pump(now?: number): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    let startedAt = now;
    try {
      do {
        this.#pumpAgain = false;
        while (this.inFlight < this.maxConcurrency) {
          const call = this.ready.pop();
          if (call === undefined) break;
          call.parkedIn = undefined;
          if (!this.#admit(call)) continue;
          this.#start(call, startedAt ?? this.#clock.now());
          startedAt = undefined;
        }
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  /** Frees what an attempt held, once its promise has really settled, and wakes who waited. */
  release(attempt: Attempt): void {
    const call = attempt.call;
    const run = call.run;
    const gate = call.gate as ToolGate;
    this.inFlight--;
    run.active--;
    gate.active--;
    if (run.waiting.size > 0) this.enqueue(run.waiting.pop() as CallState);
    if (gate.waiting.size > 0) gate.wakeWaiting(this.#clock.now(), this.#requeue, this.#onRateLift);
    if (attempt.claims) this.locks.release(attempt.claims, this.#requeue);
  }

  /** Lets more calls through after a limit was raised at runtime. */
  wakeGate(gate: ToolGate): void {
    gate.wakeWaiting(this.#clock.now(), this.#requeue, this.#onRateLift);
  }

  /** Checks every limit in turn; a call that can't pass waits in the gate that stopped it. */
  #admit(call: CallState): boolean {
    const run = call.run;
    if (run.active >= run.maxConcurrency) {
      run.waiting.push(call);
      call.parkedIn = run.waiting;
      return false;
    }
    const gate = call.gate as ToolGate;
    if (gate.active >= gate.concurrency) {
      gate.park(call);
      return false;
    }
    const rate = gate.rate;
    if (rate !== undefined && rate.available(this.#clock.now()) === 0) {
      gate.park(call);
      gate.wakeWaiting(this.#clock.now(), this.#requeue, this.#onRateLift);
      return false;
    }
    if (call.claims !== undefined && !this.locks.tryAcquire(call, call.claims)) return false;
    rate?.take(this.#clock.now());
    return true;
  }

  #start(call: CallState, now: number): void {
    const run = call.run;
    this.inFlight++;
    (call.gate as ToolGate).active++;
    if (++run.active > run.maxInFlight) run.maxInFlight = run.active;
    run.execute(call, now);
  }
}
