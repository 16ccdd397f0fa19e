import { afterEach, describe, expect, it, vi } from "vitest";
import { startSweep } from "./sweep.js";

describe("startSweep", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function counting(size: number): { members: Map<number, number>; visits: Map<number, number>; visit: (member: number) => void } {
    const members = new Map<number, number>();
    for (let key = 0; key < size; key++) members.set(key, key);
    const visits = new Map<number, number>();
    return { members, visits, visit: (member) => visits.set(member, (visits.get(member) ?? 0) + 1) };
  }

  it("visits every member once per period, a share per tick", () => {
    vi.useFakeTimers();
    const { members, visits, visit } = counting(512);
    const timer = startSweep(members, 2560, visit, 10);
    vi.advanceTimersByTime(100);
    // 256 ticks per period, 10 ms apart: 2 members a tick, never all at once.
    expect(visits.size).toBe(20);
    vi.advanceTimersByTime(2460);
    expect(visits.size).toBe(512);
    expect(new Set(visits.values())).toEqual(new Set([1]));
    vi.advanceTimersByTime(2560);
    expect(new Set(visits.values())).toEqual(new Set([2]));
    clearInterval(timer);
  });

  it("never visits a member twice in a period when the map shrinks, and reaches members added", () => {
    vi.useFakeTimers();
    const { members, visits, visit } = counting(64);
    const timer = startSweep(members, 640, visit, 10);
    vi.advanceTimersByTime(100);
    for (let key = 0; key < 32; key++) members.delete(key);
    members.set(100, 100);
    vi.advanceTimersByTime(540);
    expect(Math.max(...visits.values())).toBe(1);
    vi.advanceTimersByTime(640);
    expect(visits.get(100)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...visits.values())).toBeLessThanOrEqual(2);
    clearInterval(timer);
  });

  it("uses fewer ticks for a short period", () => {
    vi.useFakeTimers();
    const { members, visits, visit } = counting(10);
    const timer = startSweep(members, 50, visit, 10);
    vi.advanceTimersByTime(500);
    expect(new Set(visits.values())).toEqual(new Set([10]));
    clearInterval(timer);
  });
});
