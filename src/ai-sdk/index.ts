export { aiSdkTools, type AiSdkToolsOptions } from "./ai-sdk-tools.ts";
