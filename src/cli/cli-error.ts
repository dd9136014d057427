/** A problem a person running `volley` meets (a missing file, bad JSON, a server that won't start): shown as one line, no stack. */
export class CliError extends Error {
  override readonly name = "CliError";
  /** The process's exit status. @default 2 */
  readonly exitCode: number;

  constructor(message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, { cause: options.cause });
    this.exitCode = options.exitCode ?? 2;
  }
}
