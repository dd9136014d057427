/** Where a call's attempt executes. */
export { inProcessBackend, type Backend } from "./backend.ts";
