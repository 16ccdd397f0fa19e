import { describe, expect, it } from "vitest";
import { IdAllocator } from "./ids.js";

describe("IdAllocator", () => {
  it("gives positive JSON-safe integers that are not a counter", () => {
    const ids = new IdAllocator();
    const live = new Set<number>();
    const list = Array.from({ length: 200 }, () => {
      const id = ids.allocate((candidate) => live.has(candidate));
      live.add(id);
      return id;
    });
    for (const id of list) {
      expect(Number.isSafeInteger(id)).toBe(true);
      expect(id).toBeGreaterThan(0);
      expect(id).toBeLessThan(2 ** 48);
    }
    expect(new Set(list).size).toBe(200);
    const steps = list.slice(1).map((id, index) => id - (list[index] ?? 0));
    expect(steps.some((step) => step !== 1)).toBe(true);
  });

  it("never hands out a live id, and reuses ids no longer live", () => {
    const draws = [7, 7, 7, 9, 7];
    const ids = new IdAllocator(() => draws.shift() ?? 1);
    const live = new Set<number>();
    const isLive = (id: number): boolean => live.has(id);
    live.add(ids.allocate(isLive));
    expect([...live]).toEqual([7]);
    expect(ids.allocate(isLive)).toBe(9);
    live.add(9);
    live.delete(7);
    expect(ids.allocate(isLive)).toBe(7);
  });
});
