export { aiSdkTools, type AiSdkToolsOptions, type ToolSetLike } from "./ai-sdk-tools.ts";
export { aiSdkModel } from "./ai-sdk-model.ts";
export { fromAiSdkTools, type FromAiSdkToolsOptions } from "./from-ai-sdk-tools.ts";
