import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { ApprovalPrompter } from "./approval-prompt.ts";

/** Lets the event loop turn until `condition` holds, or fails saying what never happened. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 100 && !condition(); turn++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error(`never happened: ${what}`);
}

/** A terminal: what the person types goes in, what the prompter writes is collected. */
function terminal() {
  const input = new PassThrough();
  const output = Object.assign(new PassThrough(), { columns: 100 }) as unknown as NodeJS.WriteStream & PassThrough;
  let written = "";
  output.on("data", (chunk: Buffer) => (written += chunk.toString()));
  const shown = (text: string) => until(() => written.includes(text), `${text} shown`);
  return { input, output, shown, written: () => written };
}

describe("the approval prompt", () => {
  it("asks one call at a time, in order; y approves, other text denies with that reason", async () => {
    const { input, output, shown } = terminal();
    const prompter = new ApprovalPrompter(input, output);
    const decisions: string[] = [];
    prompter.ask({ callId: "c1", name: "send_email", args: { to: "a" } }, (approved, reason) =>
      decisions.push(`c1 ${approved} ${reason}`),
    );
    prompter.ask({ callId: "c2", name: "send_email", args: { to: "b" } }, (approved, reason) =>
      decisions.push(`c2 ${approved} ${reason}`),
    );
    await shown("c1");
    input.write("y\n");
    await shown("c2");
    input.write("not to b\n");
    await until(() => decisions.length === 2, "both decided");
    expect(decisions).toEqual(["c1 true undefined", "c2 false not to b"]);
  });

  it("stops asking about a call decided elsewhere, and never asks about one decided before its turn", async () => {
    const { input, output, shown, written } = terminal();
    const prompter = new ApprovalPrompter(input, output);
    const decisions: string[] = [];
    for (const callId of ["c1", "c2", "c3"])
      prompter.ask({ callId, name: "send_email", args: {} }, (approved) => decisions.push(`${callId} ${approved}`));
    await shown("c1");
    prompter.withdraw("c2");
    prompter.withdraw("c1");
    await shown("decided elsewhere");
    await shown("c3");
    input.write("yes\n");
    await until(() => decisions.length === 1, "c3 decided");
    expect(decisions).toEqual(["c3 true"]);
    expect(written()).not.toContain("c2");
  });
});
