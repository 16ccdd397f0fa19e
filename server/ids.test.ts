import { describe, expect, it } from "vitest";
import { IdAllocator } from "./ids.js";

describe("IdAllocator", () => {
  it("gives positive JSON-safe integers that are not a counter", () => {
    const ids = new IdAllocator();
    const list = Array.from({ length: 200 }, () => ids.allocate());
    for (const id of list) {
      expect(Number.isSafeInteger(id)).toBe(true);
      expect(id).toBeGreaterThan(0);
      expect(id).toBeLessThan(2 ** 48);
    }
    expect(new Set(list).size).toBe(200);
    const steps = list.slice(1).map((id, index) => id - (list[index] ?? 0));
    expect(steps.some((step) => step !== 1)).toBe(true);
  });

  it("never hands out a live id twice, and reuses released ones", () => {
    const draws = [7, 7, 7, 9, 7];
    const ids = new IdAllocator(() => draws.shift() ?? 1);
    expect(ids.allocate()).toBe(7);
    expect(ids.allocate()).toBe(9);
    ids.release(7);
    expect(ids.allocate()).toBe(7);
  });
});
