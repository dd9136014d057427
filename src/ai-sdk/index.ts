export { aiSdkTools, type AiSdkToolsOptions } from "./ai-sdk-tools.ts";
export { aiSdkModel } from "./ai-sdk-model.ts";
