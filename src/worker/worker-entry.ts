// The code a pool thread runs: it loads tools from their modules and runs one attempt at a time.
import { parentPort } from "node:worker_threads";
import { exportedTools, type Tool, type ToolContext } from "../tool/define-tool.ts";
import { serializeError, type RunMessage, type ThreadMessage } from "./worker-messages.ts";

const port = parentPort;
if (port === null) throw new Error("volley's worker entry runs only in a worker thread");

/** Each module's tools by name, loaded once per thread. */
const modules = new Map<string, Promise<Map<string, Tool>>>();

function toolsOf(module: string): Promise<Map<string, Tool>> {
  let loaded = modules.get(module);
  if (loaded === undefined) {
    loaded = import(module).then(
      (exports: Record<string, unknown>) => new Map(exportedTools(exports).map((tool) => [tool.name, tool])),
    );
    modules.set(module, loaded);
  }
  return loaded;
}

function send(message: ThreadMessage): void {
  try {
    (port as NonNullable<typeof port>).postMessage(message);
  } catch (error) {
    // The output could not be cloned: say so, rather than leave the caller waiting.
    if (message.type !== "result") return;
    const why = error instanceof Error ? error.message : String(error);
    port?.postMessage({
      type: "result",
      taskId: message.taskId,
      ok: false,
      error: { name: "DataCloneError", message: `its output cannot cross from the worker thread: ${why}` },
    } satisfies ThreadMessage);
  }
}

port.on("message", (message: RunMessage) => {
  void run(message);
});

async function run(message: RunMessage): Promise<void> {
  const { taskId } = message;
  try {
    const tool = (await toolsOf(message.module)).get(message.toolName);
    if (tool === undefined) throw new Error(`${message.module} exports no tool named "${message.toolName}"`);
    // Stopping a call terminates its thread, so this signal never aborts; it is here for tools that read it.
    const signal = new AbortController().signal;
    const context: ToolContext = {
      signal,
      abortSignal: signal,
      callId: message.callId,
      toolCallId: message.callId,
      runId: message.runId,
      name: message.toolName,
      attempt: message.attempt,
      progress: (update) => send({ type: "progress", taskId, update }),
    };
    const output = await (tool.execute as (args: unknown, context: ToolContext) => unknown)(message.args, context);
    send({ type: "result", taskId, ok: true, output });
  } catch (error) {
    send({ type: "result", taskId, ok: false, error: serializeError(error) });
  }
}
