import { runStoreContract } from "./run-store.contract.ts";
import { MemoryRunStore } from "./memory-run-store.ts";

runStoreContract("MemoryRunStore", () => new MemoryRunStore());
