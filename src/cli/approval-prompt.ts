import { createInterface } from "node:readline/promises";
import { oneLine, paint } from "./format.ts";

export interface ApprovalQuestion {
  callId: string;
  name: string;
  args: unknown;
}

/**
 * Asks a person at the terminal about each call that needs approval, one question at a time,
 * in the order they came. `y` or `yes` approves; anything else denies, and any other text is
 * the reason the model reads.
 */
export class ApprovalPrompter {
  readonly #input: NodeJS.ReadableStream;
  readonly #output: NodeJS.WriteStream;
  readonly #around: { before(): void; after(): void };
  #queue: Promise<void> = Promise.resolve();

  constructor(input: NodeJS.ReadableStream, output: NodeJS.WriteStream, around: { before(): void; after(): void } = { before() {}, after() {} }) {
    this.#input = input;
    this.#output = output;
    this.#around = around;
  }

  ask(question: ApprovalQuestion, decide: (approved: boolean, reason?: string) => void): void {
    this.#queue = this.#queue.then(async () => {
      this.#around.before();
      const lines = createInterface({ input: this.#input, output: this.#output, terminal: false });
      try {
        const shown = oneLine(question.args, Math.max((this.#output.columns || 100) - question.name.length - question.callId.length - 50, 20));
        const answer = (await lines.question(`${paint("magenta", "?", this.#output)} Approve ${paint("bold", question.name, this.#output)} ${question.callId} ${shown}  [y/N, or a reason to deny] `)).trim();
        if (/^y(es)?$/i.test(answer)) decide(true);
        else decide(false, answer === "" || /^no?$/i.test(answer) ? "denied at the terminal" : answer);
      } catch {
        // The input ended (Ctrl-D): no one will answer, so the call is denied.
        decide(false, "no answer at the terminal");
      } finally {
        lines.close();
        this.#around.after();
      }
    });
  }
}
