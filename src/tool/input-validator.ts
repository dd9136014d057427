import { Validator } from "@cfworker/json-schema";
import type { StandardSchemaV1 } from "@standard-schema/spec";

export type ValidationOutcome = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

/** Checks arguments against a tool's input schema; may answer asynchronously. */
export type InputValidator = (args: Record<string, unknown>) => ValidationOutcome | Promise<ValidationOutcome>;

/** A plain JSON Schema object, as MCP servers and OpenAI function definitions carry. */
export type JsonSchema = Record<string, unknown>;

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const props = (value as { "~standard"?: { validate?: unknown } } | null)?.["~standard"];
  return typeof props?.validate === "function";
}

const MAX_ISSUES_IN_MESSAGE = 5;

function formatPath(path: StandardSchemaV1.Issue["path"]): string {
  if (!path || path.length === 0) return "";
  const keys = path.map((segment) => String(typeof segment === "object" ? segment.key : segment));
  return `/${keys.join("/")}: `;
}

function describeIssues(lines: string[]): string {
  const shown = lines.slice(0, MAX_ISSUES_IN_MESSAGE).join("; ");
  const more = lines.length - MAX_ISSUES_IN_MESSAGE;
  return more > 0 ? `${shown}; and ${more} more` : shown;
}

function fromStandardResult(result: StandardSchemaV1.Result<unknown>): ValidationOutcome {
  if (!result.issues) return { ok: true, value: result.value as Record<string, unknown> };
  return {
    ok: false,
    message: describeIssues(result.issues.map((issue) => `${formatPath(issue.path)}${issue.message}`)),
  };
}

/** Builds the validator for a tool's `input`: a Standard Schema, a JSON Schema, or none. */
export function createInputValidator(input: StandardSchemaV1 | JsonSchema | undefined): InputValidator | undefined {
  if (input === undefined) return undefined;
  if (isStandardSchema(input)) {
    const validate = input["~standard"].validate;
    return (args) => {
      const result = validate(args);
      return result instanceof Promise ? result.then(fromStandardResult) : fromStandardResult(result);
    };
  }
  // JSON Schema drafts 4 to 2020-12; no code generation, so it works under any CSP.
  const validator = new Validator(input, "2020-12", false);
  return (args) => {
    const result = validator.validate(args);
    if (result.valid) return { ok: true, value: args };
    // Each failure is reported at every level of the schema it bubbles through; the deepest
    // (most specific) ones are what a model can act on.
    const leaves = result.errors.filter(
      (error) =>
        !result.errors.some(
          (other) => other !== error && other.keywordLocation.startsWith(`${error.keywordLocation}/`),
        ),
    );
    return {
      ok: false,
      message: describeIssues(
        leaves.map((error) => `${error.instanceLocation.replace(/^#/, "") || "/"}: ${error.error}`),
      ),
    };
  };
}
