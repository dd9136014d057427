export { createServerApp, DEFAULT_MAX_BODY_BYTES, type ServerAppOptions } from "./create-server-app.ts";
export { DEFAULT_PORT, startServer, type RunningServer, type StartServerOptions } from "./start-server.ts";
export type { LiveRunEntry, LiveRuns } from "./live-runs.ts";
export { MAX_WIRE_OUTPUT_CHARS } from "./wire-format.ts";
