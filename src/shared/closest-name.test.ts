import { describe, expect, it } from "vitest";
import { closestName } from "./closest-name.ts";

describe("closestName", () => {
  const tools = ["get_weather", "get_time", "search", "flights"];

  it("finds the name a slip was meant to be: a letter dropped, added, changed or swapped, or another case", () => {
    expect(closestName("get_wether", tools)).toBe("get_weather");
    expect(closestName("flight", tools)).toBe("flights");
    expect(closestName("serach", tools)).toBe("search");
    expect(closestName("Get_Time", tools)).toBe("get_time");
    expect(closestName("get_tim", tools)).toBe("get_time");
  });

  it("suggests nothing when no name is close, or there are none", () => {
    expect(closestName("translate", tools)).toBeUndefined();
    expect(closestName("sea", tools)).toBeUndefined();
    expect(closestName("x", tools)).toBeUndefined();
    expect(closestName("search", [])).toBeUndefined();
  });

  it("takes the closest of several close names", () => {
    expect(closestName("get_tme", ["get_name", "get_time"])).toBe("get_time");
  });
});
