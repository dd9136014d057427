export {
  openaiChat,
  type OpenAIChatToolCall,
  type OpenAIChatToolDefinition,
  type OpenAIChatToolMessage,
} from "./openai-chat.ts";
export {
  openaiResponses,
  type OpenAIResponsesFunctionCallOutput,
  type OpenAIResponsesItem,
  type OpenAIResponsesToolDefinition,
} from "./openai-responses.ts";
export {
  anthropic,
  type AnthropicContentBlock,
  type AnthropicToolDefinition,
  type AnthropicToolResultBlock,
} from "./anthropic.ts";
export { gemini, type GeminiFunctionResponsePart, type GeminiPart, type GeminiTool } from "./gemini.ts";
export { resultText, toolJsonSchema } from "./tool-json-schema.ts";
export { detectCalls, type CallFormat, type DetectedCalls } from "./detect-calls.ts";
export {
  POSITIONAL_REFERENCES_PROMPT,
  resolvePositions,
  resolvePositionsOf,
  type CallsOptions,
} from "./positional-references.ts";
