import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import { ToolError } from "../errors/tool-error.ts";
import { invalidOption } from "../errors/volley-error.ts";
import {
  defineTool,
  type RateLimit,
  type ResourceClaim,
  type Tool,
  type ToolCacheOptions,
} from "../tool/define-tool.ts";
import type { RetryPolicy } from "../tool/retry-policy.ts";
import { McpConnection, type McpServerSource } from "./mcp-connection.ts";

/** MCP tool annotations, as Volley reads them. Missing hints take the MCP spec's defaults. */
export interface McpHints {
  /** Only reads: calls share the server. @default false */
  readOnly?: boolean;
  /** May destroy or overwrite: calls never overlap on the same server. Ignored when read-only. @default true */
  destructive?: boolean;
  /** Safe to repeat: timeouts are retried and identical calls in flight run once. @default false */
  idempotent?: boolean;
  /** Reaches the outside world, so results go stale: no caching. @default true */
  openWorld?: boolean;
}

/** What can be set for one tool, over what the server says. */
export interface McpToolOverrides extends McpHints {
  concurrency?: number;
  rateLimit?: RateLimit;
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** Used only when the tool is not open-world. */
  cache?: ToolCacheOptions;
  priority?: number;
  /** A person approves each call first. @default false */
  needsApproval?: boolean;
  /** Whether `$ref` objects in its arguments are references to other calls. @default false when its input schema has a `$ref` property, true otherwise */
  references?: boolean;
}

export interface McpToolsOptions {
  /** Put before each tool's name, to keep names unique across servers. @default "" */
  prefix?: string;
  /** Hints for every tool of the server, over its annotations. */
  hints?: McpHints;
  /** Per tool, by the server's name for it: hints and limits over everything else. */
  tools?: Record<string, McpToolOverrides>;
  /** How long connecting may take before it fails. @default 10000 */
  connectTimeoutMs?: number;
  /** Warn (once, as a process warning) when tools without annotations are run one at a time. @default true */
  warnWhenSerialising?: boolean;
}

export interface McpToolSet {
  /** The server's tools, as Volley tools: the latest list, when the server's list changes. */
  readonly tools: Tool[];
  /**
   * Calls `listener` with the server's tools whenever its list changes (the server announces it,
   * or it was connected again after it stopped), so that an executor can follow
   * (`executor.setTools`). A tool whose definition did not change stays the same object.
   * Returns a function that stops it.
   */
  onChange(listener: (tools: Tool[]) => void): () => void;
  /** Disconnects from the server (a client you passed in is left open). */
  close(): Promise<void>;
}

/** What an MCP server said of each of its tools, kept for a gateway that lists them again. */
const annotationsOf = new WeakMap<Tool, NonNullable<McpTool["annotations"]>>();

/** The annotations the MCP server gave a tool that `mcpTools` made, if any. */
export function mcpAnnotationsOf(tool: Tool): McpTool["annotations"] | undefined {
  return annotationsOf.get(tool);
}

/** Whether a schema has a property named `$ref` anywhere: its arguments carry `$ref` objects as data. */
function describesRefs(schema: unknown, depth = 0): boolean {
  if (schema === null || typeof schema !== "object" || depth > 32) return false;
  const properties = (schema as { properties?: unknown }).properties;
  if (properties !== null && typeof properties === "object" && Object.hasOwn(properties, "$ref")) return true;
  return Object.values(schema).some((nested) => describesRefs(nested, depth + 1));
}

function effectiveHints(tool: McpTool, serverHints: McpHints, overrides: McpToolOverrides): Required<McpHints> {
  const annotations = tool.annotations ?? {};
  const pick = <K extends keyof McpHints>(key: K, annotation: boolean | undefined, fallback: boolean): boolean =>
    overrides[key] ?? serverHints[key] ?? annotation ?? fallback;
  return {
    readOnly: pick("readOnly", annotations.readOnlyHint, false),
    destructive: pick("destructive", annotations.destructiveHint, true),
    idempotent: pick("idempotent", annotations.idempotentHint, false),
    openWorld: pick("openWorld", annotations.openWorldHint, true),
  };
}

/** Text of a result's content blocks, for errors and for text-only results. */
function contentText(content: CallToolResult["content"]): string {
  return content
    .filter((block) => block.type === "text")
    .map((block) => block.text)
    .join("\n");
}

/** A call's output: its structured content when the server gave some, its text when all is text, else its blocks. */
function outputOf(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const content = result.content ?? [];
  return content.every((block) => block.type === "text") ? contentText(content) : content;
}

/**
 * Connects to an MCP server, lists its tools (every page), and returns them as Volley tools,
 * validated against each tool's JSON Schema. Annotations become scheduling facts: read-only
 * calls share the server, possibly destructive ones never overlap on it, idempotent ones may
 * be retried on timeout and shared, open-world ones are never cached.
 */
export async function mcpTools(source: McpServerSource, options: McpToolsOptions = {}): Promise<McpToolSet> {
  const where = "mcpTools";
  if (
    source === null ||
    typeof source !== "object" ||
    !("command" in source || "url" in source || "client" in source)
  ) {
    invalidOption(where, "source", "{ command, args? } for stdio, { url } for Streamable HTTP, or { client }", source);
  }
  if (options === null || typeof options !== "object") invalidOption(where, "options", "an options object", options);
  const {
    prefix = "",
    hints = {},
    tools: overrides = {},
    connectTimeoutMs = 10_000,
    warnWhenSerialising = true,
  } = options;
  if (typeof prefix !== "string") invalidOption(where, "prefix", "a string", prefix);
  if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs < 1)
    invalidOption(where, "connectTimeoutMs", "an integer number of milliseconds from 1 and up", connectTimeoutMs);

  const connection = new McpConnection(source, connectTimeoutMs);
  const listed = await connection.listTools();
  for (const name of Object.keys(overrides)) {
    if (!listed.some((tool) => tool.name === name))
      invalidOption(
        where,
        `tools.${name}`,
        `a tool of the server (${listed.map((tool) => tool.name).join(", ")})`,
        name,
      );
  }
  // One lock key per server: destructive calls never overlap on it, read-only ones share it.
  const serverKey = `mcp:${connection.label}`;
  const serialised: string[] = [];

  const build = (mcpTool: McpTool): Tool => {
    const override = overrides[mcpTool.name] ?? {};
    const effective = effectiveHints(mcpTool, hints, override);
    const unannotated =
      mcpTool.annotations?.readOnlyHint === undefined && mcpTool.annotations?.destructiveHint === undefined;
    const claims: ResourceClaim[] = effective.readOnly
      ? [{ key: serverKey, mode: "read" }]
      : effective.destructive
        ? [{ key: serverKey, mode: "write" }]
        : [];
    if (
      unannotated &&
      !effective.readOnly &&
      effective.destructive &&
      override.destructive === undefined &&
      hints.destructive === undefined
    )
      serialised.push(mcpTool.name);
    const { concurrency, rateLimit, timeoutMs, retry, cache, priority } = override;
    const tool = defineTool({
      name: `${prefix}${mcpTool.name}`,
      description: mcpTool.description ?? mcpTool.title ?? "",
      input: mcpTool.inputSchema,
      idempotent: effective.idempotent,
      ...(claims.length > 0 ? { resources: () => claims } : {}),
      ...(cache !== undefined && !effective.openWorld ? { cache } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(rateLimit !== undefined ? { rateLimit } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(retry !== undefined ? { retry } : {}),
      ...(priority !== undefined ? { priority } : {}),
      ...(override.needsApproval === true ? { needsApproval: true } : {}),
      references: override.references ?? !describesRefs(mcpTool.inputSchema),
      execute: async (args: Record<string, unknown>, context) => {
        let result: CallToolResult;
        try {
          result = await connection.callTool(mcpTool.name, args, context.signal, (update) => context.progress(update));
        } catch (error) {
          // The server went away mid-call: an idempotent call may safely be tried again.
          throw new ToolError(
            `${connection.label} failed during "${mcpTool.name}": ${error instanceof Error ? error.message : String(error)}`,
            { retryable: effective.idempotent, cause: error },
          );
        }
        if (result.isError === true)
          throw new ToolError(contentText(result.content ?? []) || `"${mcpTool.name}" reported an error`);
        return outputOf(result);
      },
    });
    if (mcpTool.annotations !== undefined) annotationsOf.set(tool, mcpTool.annotations);
    return tool;
  };

  /** Each tool made so far, with what it was made from: a tool listed again unchanged is the same object. */
  const made = new Map<string, { from: string; tool: Tool }>();
  const toolFor = (mcpTool: McpTool): Tool => {
    const from = JSON.stringify([mcpTool.title, mcpTool.description, mcpTool.inputSchema, mcpTool.annotations]);
    const known = made.get(mcpTool.name);
    if (known?.from === from) return known.tool;
    const tool = build(mcpTool);
    made.set(mcpTool.name, { from, tool });
    return tool;
  };
  let tools = listed.map(toolFor);

  if (warnWhenSerialising && serialised.length > 0) {
    process.emitWarning(
      `${connection.label}: ${serialised.length} tool(s) carry no readOnlyHint or destructiveHint (${serialised.join(", ")}), so by the MCP spec's defaults Volley treats them as possibly destructive and runs them one at a time on this server. If they are safe to run together, say so with mcpTools(source, { hints: { destructive: false } }) or per tool with { tools: { name: { readOnly: true } } }.`,
      { code: "VOLLEY_MCP_SERIALISED" },
    );
  }
  const listeners = new Set<(tools: Tool[]) => void>();
  let relisting = Promise.resolve();
  let relistQueued = false;
  // Announcements may come in bursts: one listing answers all those that came while it was queued.
  const relist = (): void => {
    if (relistQueued) return;
    relistQueued = true;
    relisting = relisting.then(async () => {
      relistQueued = false;
      let fresh: McpTool[];
      try {
        fresh = await connection.listTools();
      } catch (error) {
        process.emitWarning(
          `${connection.label} announced a new tool list, but listing it failed; its tools stay as they were: ${error instanceof Error ? error.message : String(error)}`,
          { code: "VOLLEY_MCP_RELIST" },
        );
        return;
      }
      const next = fresh.map(toolFor);
      for (const name of [...made.keys()]) if (!fresh.some((tool) => tool.name === name)) made.delete(name);
      if (next.length === tools.length && next.every((tool, index) => tool === tools[index])) return;
      tools = next;
      for (const listener of listeners) {
        try {
          listener(tools);
        } catch (error) {
          process.emitWarning(`A listener of ${connection.label}'s tool list threw: ${String(error)}`, {
            code: "VOLLEY_LISTENER",
          });
        }
      }
    });
  };
  const stopWatching = connection.onToolListChanged(relist);
  return {
    get tools() {
      return tools;
    },
    onChange(listener) {
      if (typeof listener !== "function") invalidOption("McpToolSet.onChange", "listener", "a function", listener);
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close: () => {
      stopWatching();
      return connection.close();
    },
  };
}
