export { fakeTool, type FakeToolOptions } from "./fake-tool.ts";
export { deferred, type Deferred } from "./deferred.ts";
export {
  startMockOpenAI,
  type MockOpenAIOptions,
  type MockOpenAIServer,
  type MockRequest,
  type MockToolCall,
  type MockTurn,
} from "./mock-openai.ts";
