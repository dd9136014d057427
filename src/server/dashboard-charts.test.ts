import { describe, expect, it } from "vitest";
import { ticksUpTo } from "./dashboard/scale.js";

describe("the dashboard's chart axes", () => {
  it("tick at round steps from 0 to the first tick at or above the highest value", () => {
    expect(ticksUpTo(1200)).toEqual([0, 500, 1000, 1500]);
    expect(ticksUpTo(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(ticksUpTo(7)).toEqual([0, 2, 4, 6, 8]);
    expect(ticksUpTo(2.4).at(-1)).toBeGreaterThanOrEqual(2.4);
  });
});
