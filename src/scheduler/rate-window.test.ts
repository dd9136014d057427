import { describe, expect, it } from "vitest";
import { RateWindow } from "./rate-window.ts";

describe("RateWindow", () => {
  it("allows `limit` starts in any window and says when the next one may go", () => {
    const window = new RateWindow(2, 100);
    expect(window.available(0)).toBe(2);
    window.take(0);
    window.take(30);
    expect(window.available(99)).toBe(0);
    expect(window.nextAllowedAt(99)).toBe(100);
    expect(window.available(100)).toBe(1);
    window.take(100);
    expect(window.nextAllowedAt(100)).toBe(130);
    expect(window.available(150)).toBe(1);
    expect(window.available(500)).toBe(2);
  });
});
