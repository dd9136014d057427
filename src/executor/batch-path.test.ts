import { afterEach, describe, expect, it, vi } from "vitest";
import { QueuedRange } from "../scheduler/queued-range.ts";
import { createExecutor } from "./create-executor.ts";
import { BATCH_PATH_ON } from "./batch-path.ts";
import { defineTool } from "../tool/define-tool.ts";

const noop = defineTool({ name: "noop", execute: () => "done" });

describe("the batch path switch", () => {
  afterEach(() => vi.restoreAllMocks());

  it("follows VOLLEY_BATCH_PATH, so that the suites run both ways", () => {
    expect(BATCH_PATH_ON).toBe(process.env.VOLLEY_BATCH_PATH !== "off");
  });

  it("queues independent calls in ranges when on, and never when off, with the same results", async () => {
    const joined = vi.spyOn(QueuedRange.prototype, "append");
    const executor = createExecutor({ tools: [noop] });
    const result = await executor.run(Array.from({ length: 100 }, (_, index) => ({ name: "noop", id: `c${index}` })));
    expect(result.results.map((each) => [each.id, each.ok && each.output])).toEqual(Array.from({ length: 100 }, (_, index) => [`c${index}`, "done"]));
    expect(joined).toHaveBeenCalledTimes(BATCH_PATH_ON ? 100 : 0);
  });
});
