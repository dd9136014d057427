export {
  createAgent,
  type Agent,
  type AgentEvent,
  type AgentOptions,
  type AgentResult,
  type AgentRunOptions,
  type AgentStep,
} from "./create-agent.ts";
export type { ChatMessage, ChatModel, ChatModelEvent, ChatModelRequest, TokenUsage } from "./chat-model.ts";
export { openaiModel, type OpenAIChatClient, type OpenAIModelOptions } from "./openai-model.ts";
