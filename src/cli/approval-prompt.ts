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
  /** Questions asked or still to ask, by call id: aborting one withdraws it. */
  readonly #open = new Map<string, AbortController>();

  constructor(
    input: NodeJS.ReadableStream,
    output: NodeJS.WriteStream,
    around: { before(): void; after(): void } = { before() {}, after() {} },
  ) {
    this.#input = input;
    this.#output = output;
    this.#around = around;
  }

  ask(question: ApprovalQuestion, decide: (approved: boolean, reason?: string) => void): void {
    const withdrawn = new AbortController();
    this.#open.set(question.callId, withdrawn);
    this.#queue = this.#queue.then(async () => {
      if (withdrawn.signal.aborted) return;
      this.#around.before();
      const lines = createInterface({ input: this.#input, output: this.#output, terminal: false });
      try {
        const shown = oneLine(
          question.args,
          Math.max((this.#output.columns || 100) - question.name.length - question.callId.length - 50, 20),
        );
        const prompt = `${paint("magenta", "?", this.#output)} Approve ${paint("bold", question.name, this.#output)} ${question.callId} ${shown}  [y/N, or a reason to deny] `;
        const answer = (await lines.question(prompt, { signal: withdrawn.signal })).trim();
        if (/^y(es)?$/i.test(answer)) decide(true);
        else decide(false, answer === "" || /^no?$/i.test(answer) ? "denied at the terminal" : answer);
      } catch {
        // Decided elsewhere: the question is gone. Otherwise the input ended (Ctrl-D): no one will answer, so the call is denied.
        if (withdrawn.signal.aborted) this.#output.write(paint("gray", "decided elsewhere\n", this.#output));
        else decide(false, "no answer at the terminal");
      } finally {
        lines.close();
        if (this.#open.get(question.callId) === withdrawn) this.#open.delete(question.callId);
        this.#around.after();
      }
    });
  }

  /** The call was decided some other way (the dashboard, the history): stop asking, or never ask. */
  withdraw(callId: string): void {
    this.#open.get(callId)?.abort();
    this.#open.delete(callId);
  }
}
