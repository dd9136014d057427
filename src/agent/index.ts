export { createAgent } from "./create-agent.ts";
export type { Agent, AgentEvent, AgentOptions, AgentResult, AgentRunOptions, AgentStep } from "./agent-types.ts";
export type { ChatMessage, ChatModel, ChatModelEvent, ChatModelRequest, TokenUsage } from "./chat-model.ts";
export { openaiModel, type OpenAIChatClient, type OpenAIModelOptions } from "./openai-model.ts";
export type { StepFigures } from "./step-figures.ts";
