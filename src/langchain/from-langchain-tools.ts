import { invalidOption, unknownKeyMessage, VolleyError } from "../errors/volley-error.ts";
import { defineTool, withToolOptions, type Tool, type ToolOptions } from "../tool/define-tool.ts";

/**
 * The part of a LangChain tool that Volley uses: `tool()` from `@langchain/core/tools`,
 * `StructuredTool` and `DynamicStructuredTool` all have it.
 */
export interface LangChainToolLike {
  name: string;
  description?: string;
  /** A zod schema or a JSON Schema. */
  schema?: unknown;
  /** Typed `never` here: each tool types its own input, and Volley hands it the arguments its schema checked. */
  invoke(input: never, config?: { signal?: AbortSignal }): Promise<unknown>;
}

export interface FromLangChainToolsOptions {
  /** Volley's options per tool, by name: limits, retries, cache, approval, resource locks. */
  tools?: Record<string, ToolOptions>;
}

/** A schema Volley can check arguments against: a Standard Schema (zod, valibot…) or JSON Schema. */
function inputOf(schema: unknown): object | undefined {
  if (schema === null || typeof schema !== "object") return undefined;
  return schema;
}

/**
 * LangChain tools (`tool()` from `@langchain/core/tools`, `StructuredTool`s, `DynamicStructuredTool`s)
 * as Volley tools, with Volley's options per tool over them. Each call runs the tool's own
 * `invoke` with the call's abort signal, so a timeout or a cancel reaches it; its arguments are
 * checked against the tool's schema first, and a failure is answered in words the model can act on.
 */
export function fromLangChainTools(
  tools: readonly LangChainToolLike[],
  options: FromLangChainToolsOptions = {},
): Tool[] {
  const where = "fromLangChainTools";
  // Checked through an unknown: narrowing the typed list itself would make its items `any`.
  const given: unknown = tools;
  if (!Array.isArray(given)) invalidOption(where, "tools", "an array of LangChain tools", given);
  if (options === null || typeof options !== "object") invalidOption(where, "options", "an options object", options);
  const names = tools.map((each, index) => {
    if (typeof (each as Partial<LangChainToolLike> | null)?.invoke !== "function" || typeof each.name !== "string")
      invalidOption(where, `tools[${index}]`, "a LangChain tool, with a name and invoke()", each);
    return each.name;
  });
  const volleyOptions = options.tools ?? {};
  for (const name of Object.keys(volleyOptions)) {
    if (!names.includes(name))
      throw new VolleyError("invalid_option", `${where}: tools: ${unknownKeyMessage(name, names, "tool")}`);
  }
  return tools.map((langChainTool) => {
    const input = inputOf(langChainTool.schema);
    const tool = defineTool({
      name: langChainTool.name,
      ...(langChainTool.description ? { description: langChainTool.description } : {}),
      ...(input === undefined ? {} : { input: input as Record<string, unknown> }),
      execute: (args: Record<string, unknown>, { signal }) => langChainTool.invoke(args as never, { signal }),
    });
    const own = volleyOptions[langChainTool.name];
    return own === undefined ? tool : withToolOptions(tool, own);
  });
}
