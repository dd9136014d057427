import type { Clock } from "../shared/clock.ts";
import { PriorityHeap } from "../shared/priority-heap.ts";
import { freshRank } from "./call-ranks.ts";
import { startsBefore, type Attempt, type CallState, type QueueItem, type RunSlots } from "./call-state.ts";
import { ResourceLocks } from "./resource-locks.ts";
import type { ToolGate } from "./tool-gate.ts";

/**
 * Decides which ready call starts next, across every run of an executor, and enforces the
 * limits: the executor's `maxConcurrency`, each run's, each tool's concurrency and rate, and
 * resource locks. It never polls: it pumps when a call becomes ready, when an attempt
 * settles, when a rate limit lifts and when limits change.
 *
 * Work from outside (calls added, an attempt settling, a timer) happens in turns: a call lined
 * up during a turn starts when the outermost turn ends, so that everything the turn made ready
 * competes for the free slots by rank. A call lined up outside any turn starts pumping at once,
 * so no path can leave a ready call waiting for a pump that never comes.
 */
export class Dispatcher {
  readonly ready = new PriorityHeap<QueueItem>(startsBefore);
  readonly locks = new ResourceLocks();
  /**
   * Queued calls whose ranks may be stale: lined up stale, or marked stale in line because calls
   * were added below them (see call-ranks.ts). Their ranks are worked out just before the
   * dispatcher next compares queued calls, and not at all for a call that starts with no other
   * in line: so a chain that grows while its head runs is never walked to rank its next call.
   */
  readonly staleInLine: CallState[] = [];
  maxConcurrency: number;
  /** Attempts holding a slot, including timed-out ones whose tool has not stopped yet. */
  inFlight = 0;
  #nextSeq = 0;
  #pumping = false;
  #pumpAgain = false;
  /** Turns open now (see above); they nest. */
  #turns = 0;
  readonly #clock: Clock;
  /**
   * Bound once: handed to gates and locks to send what they held back to the ready heap. They
   * call it in the middle of their own bookkeeping, always inside a turn or a pump, so it
   * never starts a call itself.
   */
  readonly #requeue = (item: QueueItem): void => this.#putInLine(item);
  readonly #onRateLift = (gate: ToolGate): void => this.wakeGate(gate);

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
    if (call.rankStale) this.staleInLine.push(call);
    this.lineUp(call);
  }

  /** Puts a queued item (a call or a range) in the ready heap; outside a turn, it starts at once if there is room. */
  lineUp(item: QueueItem): void {
    this.#putInLine(item);
    this.#pumpUnlessInTurn();
  }

  /** Outside any turn (and any pump), what was just put in line starts now. */
  #pumpUnlessInTurn(): void {
    if (this.#turns === 0 && !this.#pumping) this.pump();
  }

  #putInLine(item: QueueItem): void {
    this.ready.push(item);
    item.parkedIn = this.ready;
  }

  /** Opens a turn; `endTurn` must close it (in a `finally`). */
  beginTurn(): void {
    this.#turns++;
  }

  /** Closes a turn; the outermost one pumps. `now`: as for `pump`. */
  endTurn(now?: number): void {
    if (--this.#turns === 0) this.pump(now);
  }

  /** Runs `body` as one turn. */
  inTurn(body: () => void): void {
    this.#turns++;
    try {
      body();
    } finally {
      this.endTurn();
    }
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
          const item = this.ready.peek();
          if (item === undefined) break;
          const room = this.#waitingRoomFor(item);
          const claims = item.claims;
          // Choosing among calls, joining a line and taking locks compare ranks, so stale ones are
          // worked out first. A lone call that starts at once compares none: a chain growing below
          // the calls that run is never walked just to start its next call.
          if (this.staleInLine.length > 0 && (this.ready.size > 1 || room !== undefined || claims !== undefined)) {
            this.#settleRanks();
            continue;
          }
          if (room !== undefined) {
            this.ready.pop();
            this.#park(item, room);
            continue;
          }
          if (claims !== undefined) {
            // A call that claims resources leaves the line to take its locks, or to wait for them.
            this.ready.pop();
            item.parkedIn = undefined;
            if (!this.locks.tryAcquire(item, claims)) {
              this.#offerRunSlot(item.run);
              continue;
            }
          }
          const now = startedAt ?? this.#clock.now();
          startedAt = undefined;
          const gate = item.gate;
          gate.rate?.take(now);
          const run = item.run;
          this.inFlight++;
          gate.active++;
          if (++run.active > run.maxInFlight) run.maxInFlight = run.active;
          // A call leaves the line as it starts; a range stays at its head until its last call has.
          item.startNext(now);
        }
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  /** Frees what an attempt held, once its promise has really settled, and wakes who waited; they start once all is freed. */
  release(attempt: Attempt): void {
    const run = attempt.run;
    const gate = attempt.gate;
    if (this.staleInLine.length > 0) this.#settleRanks();
    this.inFlight--;
    run.active--;
    gate.active--;
    if (run.waiting.size > 0) this.#putInLine(run.waiting.pop() as QueueItem);
    if (gate.waiting.size > 0) gate.wakeWaiting(this.#clock.now(), this.#requeue, this.#onRateLift);
    const claims = attempt.call?.claims;
    if (claims !== undefined) this.locks.release(claims, this.#requeue);
    this.#pumpUnlessInTurn();
  }

  /** Lets more calls through after a limit was raised at runtime, or a rate limit lifted. */
  wakeGate(gate: ToolGate): void {
    if (this.staleInLine.length > 0) this.#settleRanks();
    gate.wakeWaiting(this.#clock.now(), this.#requeue, this.#onRateLift);
    this.#pumpUnlessInTurn();
  }

  /** Works out the stale ranks of calls still in line, each moving to its place in the heap that holds it. */
  #settleRanks(): void {
    const stale = this.staleInLine;
    for (let i = 0; i < stale.length; i++) {
      const call = stale[i] as CallState;
      // Started or answered since: its rank no longer counts.
      if (!call.rankStale || call.phase !== "queued") continue;
      freshRank(call);
      call.parkedIn?.update(call);
    }
    stale.length = 0;
  }

  /**
   * Where an item must wait because its run or its tool is at a limit, or undefined when its
   * next call may start as far as they are concerned (resource locks are checked after).
   */
  #waitingRoomFor(item: QueueItem): PriorityHeap<QueueItem> | undefined {
    const run = item.run;
    if (run.active >= run.maxConcurrency) return run.waiting;
    const gate = item.gate;
    if (gate.active >= gate.concurrency) return gate.waiting;
    const rate = gate.rate;
    if (rate !== undefined && rate.available(this.#clock.now()) === 0) return gate.waiting;
    return undefined;
  }

  #park(item: QueueItem, room: PriorityHeap<QueueItem>): void {
    room.push(item);
    item.parkedIn = room;
    const run = item.run;
    if (room === run.waiting) return;
    const gate = item.gate;
    // Held back by a rate limit: make sure a timer will wake the gate when it lifts.
    if (room === gate.waiting && gate.rate !== undefined)
      gate.wakeWaiting(this.#clock.now(), this.#requeue, this.#onRateLift);
    this.#offerRunSlot(run);
  }

  /**
   * A freed run slot goes to one call waiting for it (see `release`). When that call is held
   * back by its tool or a lock instead, the slot goes to the next one, or it would sit idle.
   */
  #offerRunSlot(run: RunSlots): void {
    if (run.active < run.maxConcurrency && run.waiting.size > 0) this.#putInLine(run.waiting.pop() as QueueItem);
  }
}
