import type { StepFigures } from "../agent/step-figures.ts";
import { configuredAgent } from "./agent-config.ts";
import { CliError } from "./cli-error.ts";
import { formatMs, paint, plural } from "./format.ts";
import { ApprovalPrompter } from "./approval-prompt.ts";
import { approvalPolicy, openWorkspace, type ApprovalMode } from "./workspace.ts";

export interface AgentCommandOptions {
  /** Undefined: resume the conversation (`conversationId`, then required; main.ts checks) without a new message. */
  question: string | undefined;
  configPath: string | undefined;
  cwd: string;
  baseUrl: string | undefined;
  model: string | undefined;
  plan: boolean;
  maxSteps: number | undefined;
  conversationId: string | undefined;
  timeoutMs: number | undefined;
  /** Approve every tool call that needs approval, without asking. */
  yes: boolean;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/**
 * `volley agent "<question>"`: the agent on any OpenAI-compatible endpoint with the config's
 * tools. The answer streams to stdout; tool calls and figures go to stderr, so the answer pipes cleanly.
 * `volley agent --conversation <id>` alone resumes that conversation, finishing the step it left open.
 */
export async function agentCommand(options: AgentCommandOptions): Promise<number> {
  const { stdout, stderr, env, question, conversationId } = options;
  if (question === undefined && options.plan)
    throw new CliError("--plan needs a question: plan mode leaves no open step to resume");
  const approvals: ApprovalMode = options.yes ? "approve-all" : options.stdin.isTTY && stderr.isTTY ? "ask" : "deny";
  const workspace = await openWorkspace({
    configPath: options.configPath,
    cwd: options.cwd,
    needsTools: false,
    approve: approvalPolicy(approvals),
  });
  const prompter = approvals === "ask" ? new ApprovalPrompter(options.stdin, stderr) : undefined;
  const controller = new AbortController();
  const interrupt = () => controller.abort(new Error("interrupted (Ctrl-C)"));
  process.once("SIGINT", interrupt);
  try {
    if (conversationId !== undefined && workspace.store === undefined) {
      throw new CliError('--conversation needs a history to keep the conversation in: set "history" in the config');
    }
    const { agent } = await configuredAgent({
      config: workspace.config.agent,
      overrides: {
        model: options.model,
        baseUrl: options.baseUrl,
        plan: options.plan,
        maxSteps: options.maxSteps,
        timeoutMs: options.timeoutMs,
      },
      env,
      executor: workspace.executor,
      store: workspace.store,
    });
    const planMode = options.plan || workspace.config.agent?.mode === "plan";
    let wroteText = false;
    /** The step whose text stdout showed last, and whether its last line is still open. */
    let spokenStep: number | undefined;
    let lineOpen = false;
    const events =
      question === undefined
        ? agent.streamResume(conversationId as string, { signal: controller.signal })
        : agent.stream(question, { signal: controller.signal, ...(conversationId ? { conversationId } : {}) });
    for await (const event of events) {
      switch (event.type) {
        case "text-delta":
          // A plan and its joiner's reply are the work, not the answer: they go with the progress.
          if (planMode) {
            stderr.write(paint("gray", event.text, stderr));
          } else {
            // Each step's text is a paragraph of its own: "Let me look." and the answer never run together.
            if (spokenStep !== undefined && event.step !== spokenStep) stdout.write(lineOpen ? "\n\n" : "\n");
            spokenStep = event.step;
            stdout.write(event.text);
            lineOpen = !event.text.endsWith("\n");
          }
          wroteText = true;
          break;
        case "tool-call-start":
          stderr.write(
            paint(
              "cyan",
              `${wroteText ? "\n" : ""}▶ ${event.name} ${event.callId}${event.attempt > 1 ? ` attempt ${event.attempt}` : ""}\n`,
              stderr,
            ),
          );
          wroteText = false;
          break;
        case "tool-approval-start":
          prompter?.ask(event, (approved, reason) => void (approved ? event.approve(reason) : event.deny(reason)));
          break;
        case "tool-approval-end":
          prompter?.withdraw(event.callId);
          stderr.write(
            paint(
              event.approved ? "green" : "red",
              `${event.approved ? "approved" : "denied"} ${event.name} ${event.callId}${event.reason ? ` (${event.reason})` : ""}\n`,
              stderr,
            ),
          );
          break;
        case "tool-call-end": {
          const { result } = event;
          const status = result.ok ? "✓" : `✗ ${result.error?.type ?? "error"}`;
          stderr.write(
            paint(
              result.ok ? "green" : "red",
              `${status} ${result.name} ${result.id} ${formatMs(result.durationMs)}\n`,
              stderr,
            ),
          );
          break;
        }
        case "step-end": {
          const { run, figures } = event.step;
          if (run) stderr.write(paint("gray", `  ${stepLine(run.stats.calls, figures)}\n`, stderr));
          break;
        }
        case "answer": {
          const { result } = event;
          const calls = result.steps.reduce((sum, step) => sum + (step.run?.stats.calls ?? 0), 0);
          if (planMode) {
            if (wroteText) stderr.write("\n");
            stdout.write(`${result.answer}\n`);
          } else if (wroteText) {
            stdout.write("\n");
          }
          stderr.write(
            paint(
              "gray",
              `${plural(result.steps.length, "step")}, ${plural(calls, "tool call")}, ${plural(result.usage.inputTokens, "token")} in, ${result.usage.outputTokens.toLocaleString("en-US")} out, ${formatMs(result.durationMs)}${result.finish === "max-steps" ? " (stopped at --max-steps)" : result.finish === "timeout" ? " (stopped at --timeout: the calls still running were answered timeout)" : ""}\n`,
              stderr,
            ),
          );
          return result.finish === "answer" ? 0 : 1;
        }
      }
    }
    return 1;
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (controller.signal.aborted) throw new CliError("Interrupted", { exitCode: 130 });
    throw new CliError(`The model failed: ${(error as Error).message.split("\n")[0] ?? ""}`, { cause: error });
  } finally {
    process.off("SIGINT", interrupt);
    await workspace.close();
  }
}

/** A step's figures in a line: the tools' own speedup, kept apart from the model's writing, and what starting them early saved. */
export function stepLine(calls: number, figures: StepFigures | undefined): string {
  const parts = [`step: ${plural(calls, "call")}`];
  if (figures !== undefined) {
    parts.push(
      `tools busy ${formatMs(figures.toolsBusyMs)} for ${formatMs(figures.toolsSumMs)} of work${figures.toolsSpeedup === null ? "" : ` (${figures.toolsSpeedup.toFixed(2)}×)`}`,
    );
    if (figures.overlapMs > 0) parts.push(`${formatMs(figures.overlapMs)} of it while the model wrote`);
    if (figures.savedMs > 0) parts.push(`done ${formatMs(figures.savedMs)} sooner than after the whole message`);
  }
  return parts.join(", ");
}
