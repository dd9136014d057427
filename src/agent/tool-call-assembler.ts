import { randomUUID } from "node:crypto";

/** One piece of a streamed tool call, as OpenAI-compatible servers send it in `delta.tool_calls`. */
export interface ToolCallPart {
  index?: number | null;
  id?: string | null;
  function?: { name?: string | null; arguments?: string | null } | null;
}

export interface AssembledToolCall {
  id: string;
  name: string;
  arguments: string;
}

interface OpenCall extends AssembledToolCall {
  readonly index: number | undefined;
}

/**
 * Puts streamed tool calls together from their pieces, whatever shape the server streams:
 * - OpenAI: an `index` per call, its `id` and name on the first piece, the arguments in pieces;
 * - Ollama: each call whole, with its own `id`, every one at `index` 0;
 * - Gemini's OpenAI-compatible endpoint: each call with its own `id` and no `index`;
 * - no `id` at all: one is made up, unique in the stream.
 * A piece with an index or id not seen before starts a new call, and every call before it is
 * then complete (servers stream calls one after another); so is a new name at the same place,
 * once the call there has arguments. `add` returns the calls that became complete; `finish`
 * the rest.
 */
export class ToolCallAssembler {
  /** Calls started and not yet handed out, in the order they started. */
  #open: OpenCall[] = [];
  readonly #idPrefix = `call_${randomUUID().slice(0, 8)}_`;
  #made = 0;

  add(part: ToolCallPart): AssembledToolCall[] {
    const index = typeof part.index === "number" ? part.index : undefined;
    const id = typeof part.id === "string" && part.id !== "" ? part.id : undefined;
    const name = typeof part.function?.name === "string" && part.function.name !== "" ? part.function.name : undefined;
    const pieceOfArguments = typeof part.function?.arguments === "string" ? part.function.arguments : "";
    const current = index === undefined ? this.#open.at(-1) : this.#open.findLast((call) => call.index === index);
    let completed: AssembledToolCall[] = [];
    let call = current;
    if (call === undefined || this.#startsAnother(call, id, name)) {
      completed = this.#takeOpen();
      call = { index, id: id ?? "", name: "", arguments: "" };
      this.#open.push(call);
    }
    if (id !== undefined) call.id = id;
    if (name !== undefined) call.name = name;
    call.arguments += pieceOfArguments;
    return completed;
  }

  /** The stream ended: every call still open is complete. */
  finish(): AssembledToolCall[] {
    return this.#takeOpen();
  }

  #startsAnother(call: OpenCall, id: string | undefined, name: string | undefined): boolean {
    if (id !== undefined && call.id !== "" && id !== call.id) return true;
    return id === undefined && name !== undefined && call.name !== "" && call.arguments !== "";
  }

  #takeOpen(): AssembledToolCall[] {
    const open = this.#open;
    this.#open = [];
    return open.map(({ id, name, arguments: text }) => ({
      id: id === "" ? `${this.#idPrefix}${this.#made++}` : id,
      name,
      arguments: text,
    }));
  }
}
