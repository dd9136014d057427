import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Backend } from "../backend/backend.ts";
import { invalidOption } from "../errors/volley-error.ts";
import type { Tool, ToolContext } from "../tool/define-tool.ts";
import { deserializeError, type RunMessage, type ThreadMessage } from "./worker-messages.ts";

export interface WorkerPoolOptions {
  /** Most threads at once; calls beyond them wait their turn. Minimum: 1. @default the machine's available parallelism */
  maxThreads?: number;
}

/** A pool of worker threads that runs tools declared with `worker` (or any tool with `worker.module`). */
export interface WorkerPool extends Backend {
  /** Threads alive now, busy or idle. */
  readonly threads: number;
}

/** The thread side, as a file next to this one: `.ts` when Volley runs from its sources, `.js` when built. */
const ENTRY = new URL(import.meta.url.endsWith(".ts") ? "./worker-entry.ts" : "./worker-entry.js", import.meta.url);

interface Task {
  readonly id: number;
  readonly tool: Tool;
  readonly args: unknown;
  readonly context: ToolContext;
  readonly profile: string;
  resolve(output: unknown): void;
  reject(error: unknown): void;
  detach(): void;
}

interface Thread {
  readonly worker: Worker;
  readonly profile: string;
  task: Task | undefined;
  cpuTimer: ReturnType<typeof setTimeout> | undefined;
  /** Being terminated: it takes no more work and its events are ignored. */
  gone: boolean;
}

/**
 * Threads of any pool in this process still being torn down. Node can crash the whole process
 * when a thread starts while another is being terminated (nodejs/node#56312), so no pool starts
 * a thread until these are gone.
 */
const terminating = new Set<Promise<unknown>>();

function terminate(worker: Worker): Promise<unknown> {
  const ended = worker.terminate().catch(() => undefined);
  terminating.add(ended);
  void ended.then(() => terminating.delete(ended));
  return ended;
}

/** An error the scheduler answers as `resource_exhausted`. */
function resourceExhausted(message: string): Error {
  return Object.assign(new Error(message), { code: "resource_exhausted", retryable: false });
}

/** Every ArrayBuffer inside a value, to move rather than copy. */
function buffersIn(value: unknown, found = new Set<ArrayBuffer>(), seen = new Set<object>()): ArrayBuffer[] {
  if (value === null || typeof value !== "object" || seen.has(value)) return [...found];
  seen.add(value);
  if (value instanceof ArrayBuffer) found.add(value);
  else if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer) found.add(value.buffer);
  else for (const item of Object.values(value)) buffersIn(item, found, seen);
  return [...found];
}

/**
 * Runs calls in worker threads, so that CPU-heavy tools never stall the event loop the other
 * calls share. Each thread runs one call at a time and loads each tool from its module, sharing
 * no closure with the caller. A thread is stopped (terminated, then replaced when needed) when
 * its call is aborted, goes over its CPU budget, or runs out of its heap; idle threads don't
 * keep the process alive.
 */
export function createWorkerPool(options: WorkerPoolOptions = {}): WorkerPool {
  if (options === null || typeof options !== "object")
    invalidOption("createWorkerPool", "options", "{ maxThreads? }", options);
  const { maxThreads = availableParallelism() } = options;
  if (!Number.isInteger(maxThreads) || maxThreads < 1)
    invalidOption("createWorkerPool", "maxThreads", "an integer from 1 and up", maxThreads);

  const threads = new Set<Thread>();
  const queue: Task[] = [];
  let nextTaskId = 0;
  let closed = false;
  /** Set while this pool waits for terminations to end before it starts a thread. */
  let awaitingTerminations: Promise<void> | undefined;

  function spawn(profile: string, tool: Tool): Thread {
    const memoryMb = tool.worker?.memoryMb;
    const worker = new Worker(ENTRY, {
      ...(memoryMb !== undefined
        ? {
            resourceLimits: {
              maxOldGenerationSizeMb: memoryMb,
              maxYoungGenerationSizeMb: Math.min(16, Math.max(2, Math.floor(memoryMb / 4))),
            },
          }
        : {}),
    });
    const thread: Thread = { worker, profile, task: undefined, cpuTimer: undefined, gone: false };
    worker.unref();
    worker.on("message", (message: ThreadMessage) => {
      const task = thread.task;
      if (thread.gone || task === undefined || message.taskId !== task.id) return;
      if (message.type === "progress") {
        task.context.progress(message.update);
        return;
      }
      finish(thread);
      if (message.ok) task.resolve(message.output);
      else task.reject(deserializeError(message.error));
      pump();
    });
    worker.on("error", (error: Error & { code?: string }) => {
      const limit = memoryMb === undefined ? "" : ` of ${memoryMb} MB`;
      const failure =
        error.code === "ERR_WORKER_OUT_OF_MEMORY"
          ? resourceExhausted(
              `"${thread.task?.tool.name ?? "tool"}" ran out of memory: it went over its heap limit${limit}, so its worker thread was stopped`,
            )
          : error;
      stop(thread, failure);
    });
    worker.on("exit", (code) => stop(thread, new Error(`the worker thread running it exited (code ${code})`)));
    threads.add(thread);
    return thread;
  }

  /** The thread is done with its task: it may take the next one. */
  function finish(thread: Thread): void {
    clearTimeout(thread.cpuTimer);
    thread.task?.detach();
    thread.task = undefined;
    thread.worker.unref();
  }

  /** Terminates a thread; its call, if any, fails with `error`. */
  function stop(thread: Thread, error: unknown): void {
    if (thread.gone) return;
    thread.gone = true;
    threads.delete(thread);
    const task = thread.task;
    finish(thread);
    task?.reject(error);
    void terminate(thread.worker);
    pump();
  }

  /** True when a thread may start now; otherwise pumps again once every termination has ended. */
  function mayStartThread(): boolean {
    if (terminating.size === 0) return true;
    awaitingTerminations ??= Promise.all(terminating).then(() => {
      awaitingTerminations = undefined;
      pump();
    });
    return false;
  }

  function assign(thread: Thread, task: Task): void {
    const worker = task.tool.worker;
    const message: RunMessage = {
      type: "run",
      taskId: task.id,
      module:
        worker === undefined
          ? ""
          : /^[a-z][a-z0-9+.-]*:/i.test(worker.module)
            ? worker.module
            : pathToFileURL(worker.module).href,
      toolName: task.tool.name,
      args: task.args,
      callId: task.context.callId,
      runId: task.context.runId,
      attempt: task.context.attempt,
    };
    try {
      thread.worker.postMessage(message, worker?.transfer ? buffersIn(task.args) : []);
    } catch (error) {
      task.detach();
      task.reject(
        new Error(
          `its arguments cannot cross to a worker thread: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
      return;
    }
    thread.task = task;
    thread.worker.ref();
    const budgetMs = worker?.cpuTimeMs;
    if (budgetMs !== undefined) watchCpu(thread, task, budgetMs);
  }

  /**
   * Checks the call's CPU time when its budget could first be spent, then again until the call
   * ends or goes over. CPU time is the time its thread runs code (its event loop's active time),
   * read from outside the thread, since a busy thread answers nothing; waiting on I/O is not counted.
   */
  function watchCpu(thread: Thread, task: Task, budgetMs: number): void {
    const baseline = thread.worker.performance.eventLoopUtilization();
    const check = (): void => {
      if (thread.task !== task || thread.gone) return;
      const used = thread.worker.performance.eventLoopUtilization(baseline).active;
      if (used >= budgetMs)
        stop(
          thread,
          resourceExhausted(
            `"${task.tool.name}" used ${Math.round(used)} ms of CPU, over its budget of ${budgetMs} ms, so its worker thread was stopped`,
          ),
        );
      else thread.cpuTimer = setTimeout(check, Math.max(budgetMs - used, 5));
    };
    thread.cpuTimer = setTimeout(check, budgetMs);
  }

  /** Gives waiting calls to idle threads of their profile, new threads, or threads of another profile replaced. */
  function pump(): void {
    while (queue.length > 0 && !closed) {
      const task = queue[0] as Task;
      let thread: Thread | undefined;
      for (const candidate of threads) {
        if (candidate.task === undefined && !candidate.gone && candidate.profile === task.profile) {
          thread = candidate;
          break;
        }
      }
      if (thread === undefined) {
        if (threads.size >= maxThreads) {
          const idle = [...threads].find((candidate) => candidate.task === undefined && !candidate.gone);
          if (idle === undefined) return;
          stop(idle, undefined);
        }
        if (!mayStartThread()) return;
        thread = spawn(task.profile, task.tool);
      }
      queue.shift();
      assign(thread, task);
    }
  }

  return {
    get threads() {
      return threads.size;
    },

    execute(tool, args, context) {
      if (closed) return Promise.reject(new Error("the worker pool is closed"));
      if (tool.worker === undefined) {
        return Promise.reject(
          new Error(
            `"${tool.name}" cannot run in a worker thread: its definition has no worker.module to load it from`,
          ),
        );
      }
      const { signal } = context;
      if (signal.aborted) return Promise.reject(signal.reason as Error);
      return new Promise((resolve, reject) => {
        const task: Task = {
          id: nextTaskId++,
          tool,
          args,
          context,
          profile: `${tool.worker?.memoryMb ?? "default"}`,
          resolve,
          reject,
          detach: () => signal.removeEventListener("abort", onAbort),
        };
        // A busy loop never sees an abort: stopping the call means terminating its thread.
        function onAbort(): void {
          const waiting = queue.indexOf(task);
          if (waiting >= 0) {
            queue.splice(waiting, 1);
            task.detach();
            reject(signal.reason as Error);
            return;
          }
          for (const thread of threads) if (thread.task === task) stop(thread, signal.reason);
        }
        signal.addEventListener("abort", onAbort, { once: true });
        queue.push(task);
        pump();
      });
    },

    async close() {
      closed = true;
      for (const task of queue.splice(0)) {
        task.detach();
        task.reject(new Error("the worker pool closed before the call started"));
      }
      const running = [...threads];
      for (const thread of running) stop(thread, new Error("the worker pool closed while the call ran"));
      await Promise.all(terminating);
    },
  };
}
