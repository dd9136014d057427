import type { ToolCall } from "../run/types.ts";

/** What one line of a plan turned out to be. */
export type PlanLine =
  | { kind: "task"; task: number; call: ToolCall & { id: string } }
  | { kind: "join" }
  | { kind: "invalid"; line: string; reason: string }
  | { kind: "other" };

/** The id of plan task `n` in its Volley run. */
export const taskId = (task: number): string => `task${task}`;

const TASK_LINE = /^\s*(\d+)\s*[.)]\s*([A-Za-z0-9_.-]+)\s*\((.*)\)\s*$/;
const JOIN_LINE = /^\s*(?:\d+\s*[.)]\s*)?join\s*\(\s*\)\s*$/i;
/** `$2`, `$2.items[0].title` (a dotted path) or `$2/items/0/title` (a JSON Pointer), as a whole string. */
const WHOLE_REFERENCE = /^\$(\d+)((?:\.[\p{L}\p{N}_$-]+|\[\d+\])*|\/.*)$/u;

/** The JSON Pointer a reference's path stands for: `.items[0].title` and `/items/0/title` both give `/items/0/title`. */
function pointerOf(path: string): string {
  if (path === "" || path.startsWith("/")) return path;
  const keys = [...path.matchAll(/\.([\p{L}\p{N}_$-]+)|\[(\d+)\]/gu)].map((match) => match[1] ?? match[2] ?? "");
  return keys.map((key) => `/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/**
 * Reads one complete line of a plan: `3. tool_name({"arg": "$1"})` is task 3, whose argument
 * takes task 1's output (a string that is exactly `$n` becomes a reference to task n, and
 * `$n.field[0].name` or `$n/field/0/name` to a value inside its output); `join()` ends the plan. Lines that look like tasks but can't be read are `invalid`, with the reason;
 * anything else (prose, blank lines) is `other`.
 */
export function parsePlanLine(line: string): PlanLine {
  if (JOIN_LINE.test(line)) return { kind: "join" };
  const match = TASK_LINE.exec(line);
  if (match === null)
    return /^\s*\d+\s*[.)]/.test(line)
      ? { kind: "invalid", line: line.trim(), reason: "expected `n. tool_name({json arguments})`" }
      : { kind: "other" };
  const [, number, name, argumentText] = match as unknown as [string, string, string, string];
  const task = Number(number);
  let args: unknown = {};
  if (argumentText.trim() !== "") {
    try {
      args = JSON.parse(argumentText) as unknown;
    } catch (error) {
      return {
        kind: "invalid",
        line: line.trim(),
        reason: `the arguments are not a JSON object: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
  if (args === null || typeof args !== "object" || Array.isArray(args))
    return { kind: "invalid", line: line.trim(), reason: "the arguments must be a JSON object" };
  const dependsOn = new Set<string>();
  const withReferences = (value: unknown): unknown => {
    if (typeof value === "string") {
      const reference = WHOLE_REFERENCE.exec(value);
      if (reference) {
        const pointer = pointerOf(reference[2] ?? "");
        return pointer === ""
          ? { $ref: taskId(Number(reference[1])) }
          : { $ref: taskId(Number(reference[1])), path: pointer };
      }
      // A reference inside a longer string can't be filled in; still, the task must wait for it.
      for (const inner of value.matchAll(/\$(\d+)\b/g)) dependsOn.add(taskId(Number(inner[1])));
      return value;
    }
    if (Array.isArray(value)) return value.map(withReferences);
    if (value !== null && typeof value === "object") {
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value))
        Object.defineProperty(copy, key, { value: withReferences(item), enumerable: true });
      return copy;
    }
    return value;
  };
  let resolved: Record<string, unknown>;
  try {
    resolved = withReferences(args) as Record<string, unknown>;
  } catch {
    return { kind: "invalid", line: line.slice(0, 200).trim(), reason: "the arguments are nested too deeply" };
  }
  return {
    kind: "task",
    task,
    call: { id: taskId(task), name, args: resolved, ...(dependsOn.size > 0 ? { dependsOn: [...dependsOn] } : {}) },
  };
}

/** Splits streamed text into complete lines as they arrive; `flush` returns the last, unfinished one. */
export class LineSplitter {
  #buffer = "";

  push(text: string): string[] {
    this.#buffer += text;
    const lines = this.#buffer.split("\n");
    this.#buffer = lines.pop() ?? "";
    return lines;
  }

  flush(): string[] {
    const rest = this.#buffer;
    this.#buffer = "";
    return rest.trim() === "" ? [] : [rest];
  }
}
