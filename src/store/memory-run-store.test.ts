import { runStoreContract } from "../../test/run-store-contract.ts";
import { MemoryRunStore } from "./memory-run-store.ts";

runStoreContract("MemoryRunStore", () => new MemoryRunStore());
