import { inProcessBackend, type Backend } from "../backend/backend.ts";
import { ToolStatistics } from "../run/executor-stats.ts";
import { defineTool, type RateLimit, type Tool } from "../tool/define-tool.ts";
import { PriorityHeap } from "../shared/priority-heap.ts";
import { startsBefore, type QueueItem } from "./call-state.ts";
import { RateWindow } from "./rate-window.ts";

/** Weight of the newest duration in a tool's moving-average estimate. */
const SMOOTHING = 0.3;
/** What a tool never seen is assumed to take, so that a path's rank counts its calls. */
export const UNKNOWN_DURATION_MS = 1;

/**
 * A tool's own limits, shared by every run of an executor: how many of its calls may run at
 * once, and how many may start per interval. Calls it holds back wait in its waiting room.
 * It also carries what the executor learns about the tool, so that the hot path finds it
 * without a lookup.
 */
export class ToolGate {
  readonly tool: Tool;
  /** Learned duration (an exponentially weighted moving average), or the seed given. */
  estimateMs: number | undefined;
  concurrency: number;
  active = 0;
  rate: RateWindow | undefined;
  readonly waiting = new PriorityHeap<QueueItem>(startsBefore);
  /**
   * Its calls need nothing decided one by one before they queue (no approval, no sharing or
   * cache, no resource claims), so independent ones can wait in line together, as a range.
   */
  readonly queuesInRanges: boolean;
  #rateTimer: ReturnType<typeof setTimeout> | undefined;

  readonly statistics: ToolStatistics;
  /** Where this tool's attempts execute. */
  readonly backend: Backend;

  constructor(tool: Tool, estimateMs: number | undefined, statistics: ToolStatistics, backend: Backend) {
    this.tool = tool;
    this.backend = backend;
    this.estimateMs = estimateMs;
    this.statistics = statistics;
    this.concurrency = tool.concurrency;
    this.rate = tool.rateLimit && new RateWindow(tool.rateLimit.limit, tool.rateLimit.intervalMs);
    this.queuesInRanges =
      tool.needsApproval === false && tool.cache === undefined && !tool.idempotent && tool.resources === undefined;
  }

  get expectedDurationMs(): number {
    return this.estimateMs ?? UNKNOWN_DURATION_MS;
  }

  observeDuration(durationMs: number): void {
    const previous = this.estimateMs;
    this.estimateMs = previous === undefined ? durationMs : previous + SMOOTHING * (durationMs - previous);
  }

  setRateLimit(rateLimit: RateLimit | undefined): void {
    this.rate = rateLimit && new RateWindow(rateLimit.limit, rateLimit.intervalMs);
  }

  /**
   * Moves as many waiting items back to `wake` as the gate can now let through (a range counts
   * as one: the dispatcher parks it again when its next call can't pass); when the rate
   * limit is what holds them, sets one timer for the moment it lifts.
   */
  wakeWaiting(now: number, wake: (item: QueueItem) => void, onRateLift: (gate: ToolGate) => void): void {
    let room = this.concurrency - this.active;
    if (this.rate) {
      const available = this.rate.available(now);
      if (available < room && this.waiting.size > available) this.#armRateTimer(now, onRateLift);
      room = Math.min(room, available);
    }
    for (; room > 0 && this.waiting.size > 0; room--) wake(this.waiting.pop() as QueueItem);
  }

  #armRateTimer(now: number, onRateLift: (gate: ToolGate) => void): void {
    if (this.#rateTimer !== undefined || !this.rate) return;
    const delayMs = Math.max(0, this.rate.nextAllowedAt(now) - now);
    this.#rateTimer = setTimeout(() => {
      this.#rateTimer = undefined;
      onRateLift(this);
    }, delayMs);
  }
}

/**
 * The gate of a call refused before it reached a tool (an unknown tool, a field or an argument
 * that can't be read, an id already taken): every call has a gate, and this one is never
 * passed, nor counted in any tool's statistics.
 */
export const NO_TOOL_GATE = new ToolGate(
  defineTool({
    name: "volley.no-tool",
    execute: () => {
      throw new Error("A call refused before it reached a tool never runs");
    },
  }),
  undefined,
  new ToolStatistics(),
  inProcessBackend,
);
