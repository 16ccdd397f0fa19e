import { describe, expect, it } from "vitest";
import { decide, expectedPosition, HARD_SEEK_ERROR_S, IN_SYNC_ERROR_S, MAX_RATE_CORRECTION, PAUSED_SEEK_ERROR_S, type DriftDecision, type DriftInput } from "./drift.js";

const AT = 1_000_000;

/** The sharer was at 10 s at AT; `elapsedMs` later on its clock the viewer is at `local`. */
function input(options: {
  playing?: boolean;
  buffering?: boolean;
  rate?: number;
  elapsedMs?: number;
  currentTime: number;
  paused?: boolean;
  bufferedAhead?: number;
  bufferedBehind?: number;
  seekLeadS?: number;
}): DriftInput {
  return {
    sharer: { playing: options.playing ?? true, buffering: options.buffering ?? false, pos: 10, rate: options.rate ?? 1, at: AT },
    sharerNow: AT + (options.elapsedMs ?? 0),
    local: {
      currentTime: options.currentTime,
      paused: options.paused ?? false,
      bufferedAhead: options.bufferedAhead ?? 30,
      ...(options.bufferedBehind === undefined ? {} : { bufferedBehind: options.bufferedBehind }),
    },
    seekLeadS: options.seekLeadS ?? 0.5,
  };
}

describe("decide", () => {
  // expected = 10 + elapsed (rate 1); err = currentTime − expected.
  const cases: Array<[string, DriftInput, DriftDecision]> = [
    ["in sync", input({ currentTime: 12, elapsedMs: 2000 }), { play: true, rate: 1 }],
    ["35 ms ahead is in sync", input({ currentTime: 10.035 }), { play: true, rate: 1 }],
    ["35 ms behind is in sync", input({ currentTime: 9.965 }), { play: true, rate: 1 }],
    ["75 ms ahead → slightly slower", input({ currentTime: 10.075 }), { play: true, rate: 1 - 0.5 * 0.075 }],
    ["85 ms ahead → nudge", input({ currentTime: 10.085 }), { play: true, rate: 1 - 0.0425 }],
    ["0.1 s ahead → 5 % slower", input({ currentTime: 10.1 }), { play: true, rate: 0.95 }],
    ["0.1 s behind → 5 % faster", input({ currentTime: 9.9 }), { play: true, rate: 1.05 }],
    ["1 s ahead → capped 10 % slower", input({ currentTime: 11 }), { play: true, rate: 1 - MAX_RATE_CORRECTION }],
    ["1.9 s behind, buffered → a cheap seek into the buffer", input({ currentTime: 8.1, bufferedAhead: 5 }), { play: true, seekTo: 10.5, rate: 1 }],
    ["0.3 s behind, buffered → a cheap seek into the buffer", input({ currentTime: 9.7, bufferedAhead: 5 }), { play: true, seekTo: 10.5, rate: 1 }],
    ["0.2 s behind, buffered → nudge (a seek is not worth it)", input({ currentTime: 9.8, bufferedAhead: 5 }), { play: true, rate: 1.1 }],
    ["1 s ahead with 2 s behind buffered → seek back", input({ currentTime: 11, bufferedBehind: 2 }), { play: true, seekTo: 10.5, rate: 1 }],
    ["1 s ahead, nothing behind known → nudge", input({ currentTime: 11 }), { play: true, rate: 0.9 }],
    ["exactly 2 s ahead still nudges", input({ currentTime: 10 + HARD_SEEK_ERROR_S }), { play: true, rate: 0.9 }],
    ["2.5 s ahead → seek to expected + lead", input({ currentTime: 12.5, elapsedMs: 0 }), { play: true, seekTo: 10.5, rate: 1 }],
    ["3 s behind → seek", input({ currentTime: 9, elapsedMs: 2000, seekLeadS: 0.25 }), { play: true, seekTo: 12.25, rate: 1 }],
    ["behind past the buffer → seek", input({ currentTime: 9.5, bufferedAhead: 0.3 }), { play: true, seekTo: 10.5, rate: 1 }],
    ["behind within the buffer → nudge", input({ currentTime: 9.5, bufferedAhead: 0.6 }), { play: true, rate: 1.1 }],
    ["ahead with nothing buffered → nudge, not seek", input({ currentTime: 10.1, bufferedAhead: 0 }), { play: true, rate: 0.95 }],
    ["local paused, sharer playing → play", input({ currentTime: 10, paused: true }), { play: true, rate: 1 }],
    ["sharer paused, close → pause only", input({ playing: false, currentTime: 10.2, elapsedMs: 5000 }), { play: false, rate: 1 }],
    ["sharer paused, 0.25 s off → pause only", input({ playing: false, currentTime: 10 - PAUSED_SEEK_ERROR_S }), { play: false, rate: 1 }],
    ["sharer paused, 0.3 s off → pause and seek without lead", input({ playing: false, currentTime: 9.7, elapsedMs: 5000 }), { play: false, seekTo: 10, rate: 1 }],
    ["sharer buffering → pause, hold position", input({ buffering: true, currentTime: 13, elapsedMs: 3000 }), { play: false, seekTo: 10, rate: 1 }],
    ["sharer at 2×: in sync keeps 2×", input({ rate: 2, currentTime: 12, elapsedMs: 1000 }), { play: true, rate: 2 }],
    ["sharer at 2×: 0.1 s behind → 2 × 1.05", input({ rate: 2, currentTime: 11.9, elapsedMs: 1000 }), { play: true, rate: 2.1 }],
    ["sharer paused far away → seek to its position", input({ playing: false, currentTime: 30 }), { play: false, seekTo: 10, rate: 1 }],
    ["NaN local time changes nothing", input({ currentTime: Number.NaN, paused: true }), { play: false, rate: 1 }],
  ];

  it.each(cases)("%s", (_name, given, expected) => {
    const decision = decide(given);
    expect(decision.play).toBe(expected.play);
    expect(decision.rate).toBeCloseTo(expected.rate, 10);
    if (expected.seekTo === undefined) expect(decision.seekTo).toBeUndefined();
    else expect(decision.seekTo).toBeCloseTo(expected.seekTo, 10);
  });

  it("clamps a seek target at 0", () => {
    const decision = decide({ ...input({ currentTime: 5 }), sharer: { playing: true, buffering: false, pos: 0, rate: 1, at: AT }, sharerNow: AT - 3000, seekLeadS: 0 });
    expect(decision.seekTo).toBe(0);
  });

  it(`holds the sharer's rate for errors within ±${IN_SYNC_ERROR_S} s`, () => {
    for (const error of [-IN_SYNC_ERROR_S + 0.001, -0.04, 0, 0.04, IN_SYNC_ERROR_S - 0.001]) {
      expect(decide(input({ currentTime: 10 + error })).rate).toBe(1);
    }
  });

  it("the rate is monotonic in the error and stays within ±10 % (where no cheap seek applies)", () => {
    let previous = Infinity;
    // Behind beyond BUFFERED_SEEK_ERROR_S with a buffer is a seek (above); ahead with no known
    // back buffer is always a nudge up to HARD_SEEK_ERROR_S.
    for (let ms = -250; ms <= 1990; ms += 10) {
      const { rate, seekTo } = decide(input({ currentTime: 10 + ms / 1000, bufferedAhead: 5 }));
      expect(seekTo).toBeUndefined();
      expect(rate).toBeLessThanOrEqual(previous);
      expect(Math.abs(rate - 1)).toBeLessThanOrEqual(MAX_RATE_CORRECTION + 1e-12);
      previous = rate;
    }
  });
});

describe("expectedPosition", () => {
  it("advances only while playing and not buffering", () => {
    const sharer = { playing: true, buffering: false, pos: 10, rate: 1.5, at: AT };
    expect(expectedPosition(sharer, AT + 2000)).toBe(13);
    expect(expectedPosition({ ...sharer, playing: false }, AT + 2000)).toBe(10);
    expect(expectedPosition({ ...sharer, buffering: true }, AT + 2000)).toBe(10);
  });
});
