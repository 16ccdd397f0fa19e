import { describe, expect, it } from "vitest";
import { AddressCounter, SocketAllowance, TokenBucket } from "./limits.js";

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1000;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe("TokenBucket", () => {
  it("starts full, allows the burst, then refuses", () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(3, 1, clock.now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
  });

  it("refills at its rate, never past its capacity", () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(2, 4, clock.now);
    bucket.tryTake(2);
    clock.advance(250);
    expect(bucket.available()).toBeCloseTo(1);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(60_000);
    expect(bucket.available()).toBe(2);
  });

  it("takes nothing when a multi-token request does not fit", () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 1, clock.now);
    expect(bucket.tryTake(7)).toBe(true);
    expect(bucket.tryTake(4)).toBe(false);
    expect(bucket.available()).toBe(3);
  });

  it("ignores a clock that goes backwards", () => {
    let time = 5000;
    const bucket = new TokenBucket(1, 1, () => time);
    bucket.tryTake();
    time = 0;
    expect(bucket.available()).toBe(0);
  });
});

describe("SocketAllowance", () => {
  const limits = { messagesPerSecond: 1, messageBurst: 3, bytesPerSecond: 100, byteBurst: 1000, errorBurst: 2, errorsPerSecond: 0.2 };

  it("names the message limit when messages run out", () => {
    const clock = fakeClock();
    const rate = new SocketAllowance(limits, clock.now);
    expect([rate.charge(1), rate.charge(1), rate.charge(1), rate.charge(1)]).toEqual([null, null, null, "message_rate"]);
    clock.advance(1000);
    expect(rate.charge(1)).toBeNull();
  });

  it("names the byte limit, and a refused frame costs no message token", () => {
    const clock = fakeClock();
    const rate = new SocketAllowance(limits, clock.now);
    expect(rate.charge(900)).toBeNull();
    expect(rate.charge(200)).toBe("byte_rate");
    // Three messages in the burst: had the refused frame cost one, the second of these would fail.
    expect(rate.charge(50)).toBeNull();
    expect(rate.charge(50)).toBeNull();
    expect(rate.charge(0)).toBe("message_rate");
  });

  it("refills bytes at their rate, never past the burst", () => {
    const clock = fakeClock();
    const rate = new SocketAllowance(limits, clock.now);
    expect(rate.charge(1000)).toBeNull();
    clock.advance(500);
    expect(rate.charge(51)).toBe("byte_rate");
    expect(rate.charge(50)).toBeNull();
    clock.advance(3_600_000);
    expect(rate.charge(1001)).toBe("byte_rate");
    expect(rate.charge(1000)).toBeNull();
  });

  it("keeps an error budget of its own: one error forgiven every 1 / errors_per_second", () => {
    const clock = fakeClock();
    const rate = new SocketAllowance(limits, clock.now);
    expect([rate.takeError(), rate.takeError(), rate.takeError()]).toEqual([true, true, false]);
    clock.advance(4_999);
    expect(rate.takeError()).toBe(false);
    clock.advance(1);
    expect(rate.takeError()).toBe(true);
    expect(rate.takeError()).toBe(false);
    // Frames are charged apart from errors.
    expect(rate.charge(10)).toBeNull();
  });

  it("refuses everything until the clock is back when it went backwards", () => {
    let time = 5000;
    const rate = new SocketAllowance(limits, () => time);
    expect([rate.charge(1), rate.charge(1), rate.charge(1)]).toEqual([null, null, null]);
    time = 0;
    expect(rate.charge(1)).toBe("message_rate");
  });
});

describe("AddressCounter", () => {
  it("caps sockets per address and forgets addresses with none left", () => {
    const counter = new AddressCounter();
    expect(counter.tryAdd("a", 2)).toBe(true);
    expect(counter.tryAdd("a", 2)).toBe(true);
    expect(counter.tryAdd("a", 2)).toBe(false);
    expect(counter.tryAdd("b", 2)).toBe(true);
    counter.remove("a");
    expect(counter.tryAdd("a", 2)).toBe(true);
    counter.remove("a");
    counter.remove("a");
    counter.remove("b");
    expect(counter.size).toBe(0);
  });
});
