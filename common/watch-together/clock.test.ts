import { describe, expect, it } from "vitest";
import { CLOCK_SAMPLES, ClockOffset } from "./clock.js";

const TRUE_OFFSET_MS = 1234;

/** Deterministic PRNG (mulberry32) so a failure can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One ping/pong with the given one-way delays; the sharer's clock is ours + TRUE_OFFSET_MS. */
function exchange(clock: ClockOffset, localNow: number, upMs: number, downMs: number, processingMs = 0.2): number {
  const t0 = localNow;
  const t1 = t0 + upMs + TRUE_OFFSET_MS;
  const t2 = t1 + processingMs;
  const t3 = t2 - TRUE_OFFSET_MS + downMs;
  clock.addSample(t0, t1, t2, t3);
  return t3;
}

describe("ClockOffset", () => {
  it("has no estimate before a sample", () => {
    const clock = new ClockOffset();
    expect(clock.offsetMs).toBeUndefined();
    expect(clock.rttMs).toBeUndefined();
  });

  it("is exact with symmetric delays", () => {
    const clock = new ClockOffset();
    exchange(clock, 1_000_000, 30, 30, 2);
    expect(clock.offsetMs).toBe(TRUE_OFFSET_MS);
    expect(clock.rttMs).toBe(60);
  });

  it("uses the lowest round trip of the kept samples", () => {
    const clock = new ClockOffset();
    exchange(clock, 0, 100, 10); // rtt 110, offset off by +45
    exchange(clock, 1000, 5, 7); // rtt 12, off by −1
    exchange(clock, 2000, 10, 200); // rtt 210, off by −95
    expect(clock.rttMs).toBeCloseTo(12, 9);
    expect(clock.offsetMs).toBeCloseTo(TRUE_OFFSET_MS - 1, 9);
  });

  it(`forgets samples older than the last ${CLOCK_SAMPLES}`, () => {
    const clock = new ClockOffset();
    exchange(clock, 0, 1, 1); // the best ever, but it will age out
    for (let i = 1; i <= CLOCK_SAMPLES; i++) exchange(clock, i * 1000, 20, 40);
    expect(clock.sampleCount).toBe(CLOCK_SAMPLES);
    expect(clock.rttMs).toBeCloseTo(60, 9);
    expect(clock.offsetMs).toBeCloseTo(TRUE_OFFSET_MS - 10, 9);
  });

  it("ignores non-finite numbers and negative round trips", () => {
    const clock = new ClockOffset();
    expect(clock.addSample(Number.NaN, 1, 2, 3)).toBe(false);
    expect(clock.addSample(0, Infinity, 2, 3)).toBe(false);
    expect(clock.addSample(0, 1, 2, -Infinity)).toBe(false);
    // Reply "sent" 100 ms after receipt, but the whole round trip took 10 ms.
    expect(clock.addSample(0, 1000, 1100, 10)).toBe(false);
    expect(clock.offsetMs).toBeUndefined();
    expect(clock.sampleCount).toBe(0);
    expect(clock.addSample(0, 1239, 1240, 11)).toBe(true);
    expect(clock.offsetMs).toBe(1234);
  });

  it("reset forgets the estimate", () => {
    const clock = new ClockOffset();
    exchange(clock, 0, 5, 5);
    clock.reset();
    expect(clock.offsetMs).toBeUndefined();
    expect(clock.sampleCount).toBe(0);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])("estimates within 5 ms under jitter (seed %i)", (seed) => {
    const random = prng(seed);
    const clock = new ClockOffset();
    let now = 1_700_000_000_000 + seed * 12345.678;
    // An internet-ish path: 20 ms base each way, a few ms of jitter, and queueing spikes of up
    // to 300 ms in either direction on 15 % of packets (a spiked sample is off by up to 150 ms).
    const oneWay = (): number => 20 + random() * 4 + (random() < 0.15 ? random() * 300 : 0);
    for (let i = 0; i < 200; i++) {
      now = exchange(clock, now, oneWay(), oneWay(), random() * 2) + 200 + random() * 10_000;
      // Once the window is full, some sample in it is spike-free (all 8 spiked: p ≈ 4e-5).
      if (i >= CLOCK_SAMPLES - 1) expect(Math.abs((clock.offsetMs ?? Infinity) - TRUE_OFFSET_MS)).toBeLessThan(5);
    }
  });

  it("estimates within 5 ms with a fast LAN path (uniform 1–8 ms each way)", () => {
    const random = prng(99);
    const clock = new ClockOffset();
    let now = 5_000;
    for (let i = 0; i < 100; i++) now = exchange(clock, now, 1 + random() * 7, 1 + random() * 7) + 1000;
    expect(Math.abs((clock.offsetMs ?? Infinity) - TRUE_OFFSET_MS)).toBeLessThan(5);
  });
});
