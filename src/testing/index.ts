export { fakeTool, type FakeToolOptions } from "./fake-tool.ts";
export { deferred, type Deferred } from "./deferred.ts";
