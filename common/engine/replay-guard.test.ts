import { describe, expect, it } from "vitest";
import type { ClientId } from "../wire/packets.js";
import { MAX_TRACKED_STREAMS, ReplayGuard } from "./replay-guard.js";

const me = 7 as ClientId;
const order = (stream: string, seq: number, to: number | null = null) => ({ stream, seq, to: to as ClientId | null });

describe("ReplayGuard", () => {
  it("takes each stream's messages once and in increasing order, gaps allowed", () => {
    const guard = new ReplayGuard();
    expect(guard.admit(order("a", 1), me)).toBe("fresh");
    expect(guard.admit(order("a", 1), me)).toBe("replayed");
    expect(guard.admit(order("a", 4), me)).toBe("fresh"); // 2 and 3 went to other members
    expect(guard.admit(order("a", 3), me)).toBe("replayed");
    expect(guard.admit(order("b", 1), me)).toBe("fresh"); // another socket of the same sender
  });

  it("takes only what is meant for us or for everyone", () => {
    const guard = new ReplayGuard();
    expect(guard.admit(order("a", 1, 8), me)).toBe("misdirected");
    expect(guard.admit(order("a", 1, 7), me)).toBe("fresh");
    // A misdirected copy does not advance the stream: the real one for us still counts.
    expect(guard.admit(order("a", 3, 8), me)).toBe("misdirected");
    expect(guard.admit(order("a", 2, null), me)).toBe("fresh");
  });

  it("forgets the least recently used stream beyond its bound", () => {
    const guard = new ReplayGuard();
    for (let i = 0; i <= MAX_TRACKED_STREAMS; i++) guard.admit(order(`s${i}`, 1), me);
    expect(guard.admit(order(`s${MAX_TRACKED_STREAMS}`, 1), me)).toBe("replayed");
    expect(guard.admit(order("s0", 1), me)).toBe("fresh"); // forgotten
  });
});
