// @ts-check
// What the run page knows of a run: built from its live events, or from its stored record.

/**
 * @typedef {"queued" | "approval" | "running" | "retrying" | "ok" | "failed" | "cached"} CallState
 * @typedef {{ type: string, message: string, retryable?: boolean, callIds?: string[] }} CallError
 * @typedef {{
 *   id: string, index: number, name: string, args: unknown, dependsOn: string[],
 *   state: CallState, addedAt: number, startedAt: number | undefined, endedAt: number | undefined,
 *   attempts: number, retries: { at: number, delayMs: number, error: CallError }[],
 *   progress: { progress: number, total?: number, message?: string } | undefined,
 *   output: unknown, outputTruncated: boolean, error: CallError | undefined,
 *   approval: { approved: boolean, reason?: string } | undefined,
 *   approvalWait: { from: number, to: number | undefined } | undefined,
 * }} CallView
 */

export class RunModel {
  /** @param {string} runId */
  constructor(runId) {
    this.runId = runId;
    /** @type {Map<string, CallView>} */
    this.calls = new Map();
    /** @type {number | undefined} */
    this.startedAt = undefined;
    /** @type {number | undefined} */
    this.endedAt = undefined;
    /** @type {string} */
    this.status = "running";
    /** @type {Record<string, any> | undefined} */
    this.stats = undefined;
    /** The earlier run whose unfinished work this one took over. @type {string | undefined} */
    this.resumes = undefined;
    /** Later runs that took over this one's unfinished work. @type {string[]} */
    this.resumedBy = [];
  }

  /**
   * Applies one event of the run's stream.
   * @param {any} event
   */
  apply(event) {
    switch (event.type) {
      case "run-start":
        this.startedAt = event.at;
        break;
      case "call-add":
        this.calls.set(event.callId, {
          id: event.callId,
          index: this.calls.size,
          name: event.name,
          args: event.args ?? {},
          dependsOn: event.dependsOn ?? [],
          state: "queued",
          addedAt: event.at,
          startedAt: undefined,
          endedAt: undefined,
          attempts: 0,
          retries: [],
          progress: undefined,
          output: undefined,
          outputTruncated: false,
          error: undefined,
          approval: undefined,
          approvalWait: undefined,
        });
        break;
      case "call-start":
        this.#update(event.callId, (call) => {
          call.state = "running";
          call.startedAt ??= event.at;
          call.attempts = event.attempt;
        });
        break;
      case "call-retry":
        this.#update(event.callId, (call) => {
          call.state = "retrying";
          call.retries.push({ at: event.at, delayMs: event.delayMs, error: event.error });
        });
        break;
      case "approval-start":
        this.#update(event.callId, (call) => {
          call.state = "approval";
          call.approvalWait = { from: event.at, to: undefined };
        });
        break;
      case "approval-end":
        this.#update(event.callId, (call) => {
          call.approval = { approved: event.approved, reason: event.reason };
          if (call.approvalWait) call.approvalWait.to = event.at;
          // Approved: queued for its turn. Denied: its call-end follows at once.
          if (event.approved) call.state = "queued";
        });
        break;
      case "call-progress":
        this.#update(event.callId, (call) => {
          call.progress = { progress: event.progress, total: event.total, message: event.message };
        });
        break;
      case "call-end":
        this.#update(event.callId, (call) => settle(call, event.result));
        break;
      case "run-end":
        this.status = event.result.status;
        this.stats = event.result.stats;
        this.endedAt = event.at;
        break;
    }
  }

  /**
   * The model of a run as the history keeps it (`GET /api/runs/:runId`).
   * @param {any} record
   */
  static fromRecord(record) {
    const model = new RunModel(record.run.runId);
    model.startedAt = record.run.startedAt;
    model.endedAt = record.run.endedAt ?? undefined;
    model.status = record.run.status;
    model.stats = record.run.stats ?? undefined;
    model.resumes = record.run.resumes ?? undefined;
    model.resumedBy = record.run.resumedBy ?? [];
    for (const stored of record.calls) {
      /** @type {CallView} */
      const call = {
        id: stored.callId,
        index: stored.index,
        name: stored.name,
        args: stored.args,
        dependsOn: stored.dependsOn ?? [],
        state: "queued",
        addedAt: stored.queuedAt ?? record.run.startedAt,
        startedAt: undefined,
        endedAt: undefined,
        attempts: 0,
        // The history keeps each retry; a live run's calls so far have none to give.
        retries: stored.retries ?? [],
        progress: undefined,
        output: undefined,
        outputTruncated: false,
        error: undefined,
        approval: undefined,
        approvalWait: undefined,
      };
      // A stored call has ended; a call of a live run may carry its result so far.
      const result = stored.result ?? (stored.endedAt === undefined ? undefined : stored);
      if (result !== undefined) settle(call, result);
      model.calls.set(call.id, call);
    }
    return model;
  }

  /** Calls in the order they were added. */
  ordered() {
    return [...this.calls.values()].sort((a, b) => a.index - b.index);
  }

  /**
   * Calls that wait for this one.
   * @param {string} callId
   */
  dependentsOf(callId) {
    return this.ordered().filter((call) => call.dependsOn.includes(callId));
  }

  /**
   * @param {string} callId
   * @param {(call: CallView) => void} change
   */
  #update(callId, change) {
    const call = this.calls.get(callId);
    if (call !== undefined) change(call);
  }
}

/**
 * @param {CallView} call
 * @param {any} result a ToolResult, or a stored call
 */
function settle(call, result) {
  call.state = result.ok ? (result.cached ? "cached" : "ok") : "failed";
  call.startedAt = result.startedAt;
  call.endedAt = result.endedAt;
  call.attempts = result.attempts;
  call.output = result.output;
  call.outputTruncated = result.outputTruncated === true;
  call.error = result.error ?? undefined;
  call.progress = undefined;
}
