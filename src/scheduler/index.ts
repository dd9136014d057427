/** Deciding when calls start: the graph of their references, the dispatcher and its limits. */
export { MAX_ARGUMENT_DEPTH } from "./call-arguments.ts";
