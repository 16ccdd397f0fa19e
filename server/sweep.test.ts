import { afterEach, describe, expect, it, vi } from "vitest";
import { SlottedSet, startSweep } from "./sweep.js";

describe("SlottedSet", () => {
  it("counts members once, deletes by the key they were added with, and iterates all", () => {
    const set = new SlottedSet<string>(4);
    set.add("a", 1);
    set.add("b", 6);
    set.add("a", 1);
    expect(set.size).toBe(2);
    expect(set.delete("b", 7)).toBe(false);
    expect([...set].sort()).toEqual(["a", "b"]);
    expect(set.delete("b", 6)).toBe(true);
    expect(set.size).toBe(1);
    expect([...set]).toEqual(["a"]);
  });
});

describe("startSweep", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("visits every member once per period, a few slots per tick", () => {
    vi.useFakeTimers();
    const set = new SlottedSet<number>(8);
    for (let key = 0; key < 80; key++) set.add(key, key);
    const visits = new Map<number, number>();
    const timer = startSweep(set, 800, (key) => visits.set(key, (visits.get(key) ?? 0) + 1), 10);
    vi.advanceTimersByTime(100);
    // One slot (10 members) per 100 ms tick: never all at once.
    expect(visits.size).toBe(10);
    vi.advanceTimersByTime(700);
    expect(visits.size).toBe(80);
    expect(new Set(visits.values())).toEqual(new Set([1]));
    vi.advanceTimersByTime(800);
    expect(new Set(visits.values())).toEqual(new Set([2]));
    clearInterval(timer);
  });

  it("takes several slots per tick when the period is short, still once per period", () => {
    vi.useFakeTimers();
    const set = new SlottedSet<number>(64);
    for (let key = 0; key < 64; key++) set.add(key, key);
    let visits = 0;
    const timer = startSweep(set, 64, () => visits++, 10);
    vi.advanceTimersByTime(640);
    expect(visits).toBeGreaterThanOrEqual(9 * 64);
    expect(visits).toBeLessThanOrEqual(10 * 64);
    clearInterval(timer);
  });
});
