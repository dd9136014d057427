import { invalidOption } from "../errors/volley-error.ts";
import type { ChatModel, ChatModelEvent, ChatModelRequest } from "./chat-model.ts";
import { ToolCallAssembler, type ToolCallPart } from "./tool-call-assembler.ts";

/** A streaming Chat Completions request, as the agent sends it. */
interface StreamingRequest {
  model: string;
  messages: readonly unknown[];
  stream: true;
  stream_options?: { include_usage?: boolean | undefined } | null | undefined;
  tools?: readonly unknown[] | undefined;
}

/** The part of the official `openai` client the agent uses; any OpenAI-compatible endpoint serves it. */
export interface OpenAIChatClient {
  chat: {
    completions: {
      create(
        body: StreamingRequest,
        options?: { signal?: AbortSignal | undefined },
      ): PromiseLike<AsyncIterable<OpenAIChunk>>;
    };
  };
}

interface OpenAIChunk {
  model?: string;
  choices: { delta?: { content?: string | null; tool_calls?: ToolCallPart[] }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

export interface OpenAIModelOptions {
  /** An `OpenAI` client from the official `openai` package, pointed at OpenAI, Azure, Ollama, vLLM, OpenRouter… */
  client: OpenAIChatClient;
  model: string;
  /** More fields for each request (temperature, max_tokens…). */
  request?: Record<string, unknown>;
}

/**
 * A `ChatModel` on any OpenAI-compatible Chat Completions endpoint, streaming. Each tool call is
 * handed on as soon as its arguments are complete, which is when the next call starts or the
 * turn ends, so that the agent can start it while the model is still writing the rest.
 */
export function openaiModel(options: OpenAIModelOptions): ChatModel {
  if (options === null || typeof options !== "object")
    invalidOption("openaiModel", "options", "{ client, model }", options);
  if (typeof options.client?.chat?.completions?.create !== "function")
    invalidOption("openaiModel", "client", "an OpenAI client from the openai package", options.client);
  if (typeof options.model !== "string" || options.model === "")
    invalidOption("openaiModel", "model", "a model name", options.model);
  const { client, model, request = {} } = options;
  return {
    model,
    async *stream({ messages, tools, signal }: ChatModelRequest): AsyncGenerator<ChatModelEvent> {
      const body: StreamingRequest = {
        ...request,
        model,
        messages,
        stream: true,
        stream_options: { include_usage: true },
        ...(tools.length > 0 ? { tools } : {}),
      };
      const chunks = await client.chat.completions.create(body, signal ? { signal } : {});
      const calls = new ToolCallAssembler();
      let reason = "stop";
      let usage: { inputTokens: number; outputTokens: number } | undefined;
      let answeredBy: string | undefined;
      for await (const chunk of chunks) {
        if (typeof chunk.model === "string" && chunk.model !== "") answeredBy = chunk.model;
        if (chunk.usage)
          usage = { inputTokens: chunk.usage.prompt_tokens ?? 0, outputTokens: chunk.usage.completion_tokens ?? 0 };
        const choice = chunk.choices[0];
        if (choice === undefined) continue;
        const delta = choice.delta ?? {};
        if (delta.content) yield { type: "text-delta", text: delta.content };
        // Each call is handed on once the next one starts: its arguments are complete then.
        for (const part of delta.tool_calls ?? [])
          for (const call of calls.add(part)) yield { type: "tool-call", ...call };
        if (choice.finish_reason) reason = choice.finish_reason;
      }
      for (const call of calls.finish()) yield { type: "tool-call", ...call };
      yield { type: "finish", reason, usage, ...(answeredBy === undefined ? {} : { model: answeredBy }) };
    },
  };
}
