import { describe, expect, it } from "vitest";
import {
  bandwidthScale,
  decideFit,
  displayScale,
  fitChanged,
  HOLD_SAMPLES,
  INITIAL_FIT,
  MIN_BITRATE_BPS,
  UPGRADE_SAMPLES,
  type FitInput,
  type FitState,
  type LinkSample,
} from "./link-fit.js";
import { readLinkStats, sentRate } from "./link-fit-stats.js";

const VGA = { width: 640, height: 480, frameRate: 30 };
const FAST: LinkSample = { availableBps: 5_000_000, sentBps: 1_200_000, loss: 0, rttS: 0.02, videoSenders: 1 };

function run(inputs: readonly FitInput[], start: FitState = INITIAL_FIT): FitState[] {
  const states: FitState[] = [];
  let state = start;
  for (const input of inputs) {
    state = decideFit(state, input);
    states.push(state);
  }
  return states;
}

const times = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => value);

describe("displayScale", () => {
  it("is the factor of the side that fills the box, never below 1", () => {
    expect(displayScale({ width: 1280, height: 720 }, { width: 320, height: 180 })).toBe(4);
    // A 4:3 picture in a 16:9 box: the height fills it.
    expect(displayScale({ width: 640, height: 480 }, { width: 640, height: 240 })).toBe(2);
    expect(displayScale({ width: 640, height: 480 }, { width: 1920, height: 1080 })).toBe(1);
  });
});

describe("bandwidthScale", () => {
  it("keeps a VGA picture whole on a fast link and shrinks it on a thin one", () => {
    expect(bandwidthScale(VGA, 2_000_000)).toBe(1);
    expect(bandwidthScale(VGA, 200_000)).toBeGreaterThan(1.2);
    expect(bandwidthScale(VGA, 50_000)).toBeGreaterThan(bandwidthScale(VGA, 200_000));
  });
});

describe("decideFit", () => {
  it("leaves a full-size stream on a fast link alone", () => {
    const [state] = run([{ source: VGA, display: { width: 1280, height: 960 }, link: FAST }]);
    expect(state).toMatchObject({ scale: 1, maxBitrate: undefined });
    expect(fitChanged(undefined, state!)).toBe(false);
  });

  it("encodes no larger than the receiver's tile, with a ceiling for that size", () => {
    const [state] = run([{ source: { width: 1280, height: 720, frameRate: 30 }, display: { width: 320, height: 180 }, link: FAST }]);
    expect(state?.scale).toBe(4);
    expect(state?.maxBitrate).toBeGreaterThan(MIN_BITRATE_BPS);
    expect(state?.maxBitrate).toBeLessThan(600_000);
    expect(fitChanged(undefined, state!)).toBe(true);
  });

  it("rounds the display scale down the ladder: never blurrier than shown", () => {
    const [state] = run([{ source: VGA, display: { width: 400, height: 300 }, link: FAST }]);
    expect(state?.scale).toBe(1.5); // 1.6 asked
  });

  it("shrinks the picture at once on a thin link, and enlarges it only after several good readings", () => {
    const thin: LinkSample = { availableBps: 300_000, sentBps: 250_000, loss: 0, rttS: 0.05, videoSenders: 1 };
    const states = run([
      { source: VGA, display: undefined, link: thin },
      ...times(UPGRADE_SAMPLES - 1, { source: VGA, display: undefined, link: FAST }),
      { source: VGA, display: undefined, link: FAST },
    ]);
    expect(states[0]?.scale).toBeGreaterThan(1);
    for (const state of states.slice(0, UPGRADE_SAMPLES)) expect(state.scale).toBe(states[0]?.scale);
    expect(states[UPGRADE_SAMPLES]?.scale).toBe(1);
  });

  it("sets no ceiling for a picture the bandwidth made small: the estimate could never grow back", () => {
    const thin: LinkSample = { availableBps: 300_000, sentBps: 250_000, loss: 0, rttS: 0.05, videoSenders: 1 };
    const [state] = run([{ source: VGA, display: { width: 1280, height: 960 }, link: thin }]);
    expect(state?.scale).toBeGreaterThan(1);
    expect(state?.maxBitrate).toBeUndefined();
    // A small tile's ceiling stays that of the tile's size.
    const [tile] = run([{ source: VGA, display: { width: 320, height: 240 }, link: { ...thin, availableBps: 100_000 } }]);
    expect(tile?.scale).toBeGreaterThan(2);
    expect(tile?.maxBitrate).toBe(345_600); // 320×240 × 30 fps × 0.15 bit
  });

  it("keeps its size while the budget stays within the margins around a step", () => {
    // 1.5× (427×320) at 20 fps needs 109 kbit/s; readings of 105–135 kbit/s of budget change nothing.
    const at = (availableBps: number): FitInput => ({ source: { ...VGA, frameRate: 20 }, display: undefined, link: { ...FAST, availableBps, reservedBps: 0 } });
    const start: FitState = { ...INITIAL_FIT, scale: 1.5, displayStep: 1 };
    const states = run([at(105_000 / 0.85), at(135_000 / 0.85), at(110_000 / 0.85), at(130_000 / 0.85)], start);
    expect(states.map((state) => state.scale)).toEqual([1.5, 1.5, 1.5, 1.5]);
  });

  it("does not oscillate when the estimate wobbles around a step", () => {
    // Alternating readings either side of the 1 → 1.5 boundary.
    const low: LinkSample = { ...FAST, availableBps: 380_000 };
    const high: LinkSample = { ...FAST, availableBps: 520_000 };
    const states = run(Array.from({ length: 12 }, (_, i) => ({ source: VGA, display: undefined, link: i % 2 === 0 ? low : high })));
    const scales = states.map((state) => state.scale);
    const changes = scales.filter((scale, i) => i > 0 && scale !== scales[i - 1]).length;
    expect(changes).toBe(0);
  });

  it("cuts the bitrate below what was sent on loss, holds, and recovers when calm", () => {
    const lossy: LinkSample = { availableBps: 1_000_000, sentBps: 800_000, loss: 0.2, rttS: 0.05, videoSenders: 1 };
    const calm: LinkSample = { availableBps: 1_000_000, sentBps: 500_000, loss: 0, rttS: 0.05, videoSenders: 1 };
    const states = run([
      { source: VGA, display: undefined, link: lossy },
      ...times(HOLD_SAMPLES - 1, { source: VGA, display: undefined, link: lossy }),
      ...times(8, { source: VGA, display: undefined, link: calm }),
    ]);
    expect(states[0]?.maxBitrate).toBe(600_000);
    // Held: the second lossy reading does not cut again at once.
    expect(states[HOLD_SAMPLES - 1]?.maxBitrate).toBe(600_000);
    const later = states.slice(HOLD_SAMPLES).map((state) => state.maxBitrate ?? Number.POSITIVE_INFINITY);
    expect(later.at(-1)).toBeGreaterThan(600_000);
    for (let i = 1; i < later.length; i++) expect(later[i]).toBeGreaterThanOrEqual(later[i - 1]!);
  });

  it("treats a growing round trip as a filling queue", () => {
    const base: LinkSample = { availableBps: 1_000_000, sentBps: 700_000, loss: 0, rttS: 0.03, videoSenders: 1 };
    const states = run([
      { source: VGA, display: undefined, link: base },
      { source: VGA, display: undefined, link: { ...base, rttS: 0.4 } },
    ]);
    expect(states[0]?.congestionCap).toBeUndefined();
    expect(states[1]?.congestionCap).toBe(595_000);
  });

  it("never caps below the minimum", () => {
    const lossy: LinkSample = { availableBps: 70_000, sentBps: 20_000, loss: 0.5, rttS: 0.05, videoSenders: 1 };
    const [state] = run([{ source: VGA, display: undefined, link: lossy }]);
    expect(state?.maxBitrate).toBe(MIN_BITRATE_BPS);
    expect(state?.scale).toBeGreaterThanOrEqual(4);
  });

  it("enlarges at once when the receiver's tile grows and the link allows it", () => {
    const states = run([
      { source: VGA, display: { width: 160, height: 120 }, link: FAST },
      { source: VGA, display: { width: 640, height: 480 }, link: FAST },
    ]);
    expect(states.map((state) => state.scale)).toEqual([4, 1]);
  });

  it("fits the bitrate alone where the engine gives no source size (werift)", () => {
    const [state] = run([{ source: undefined, display: { width: 100, height: 100 }, link: { videoSenders: 1, loss: 0.3, sentBps: 400_000 } }]);
    expect(state).toMatchObject({ scale: 1, maxBitrate: 300_000 });
  });

  it("splits the estimate among the video senders of one connection", () => {
    const one = run([{ source: VGA, display: undefined, link: { ...FAST, availableBps: 900_000 } }])[0];
    const three = run([{ source: VGA, display: undefined, link: { ...FAST, availableBps: 900_000, videoSenders: 3 } }])[0];
    expect(three!.scale).toBeGreaterThan(one!.scale);
  });
});

describe("fitChanged", () => {
  it("ignores bitrate changes under a tenth", () => {
    expect(fitChanged({ scale: 2, maxBitrate: 500_000 }, { scale: 2, maxBitrate: 540_000 })).toBe(false);
    expect(fitChanged({ scale: 2, maxBitrate: 500_000 }, { scale: 2, maxBitrate: 560_000 })).toBe(true);
    expect(fitChanged({ scale: 2, maxBitrate: 500_000 }, { scale: 1.5, maxBitrate: 500_000 })).toBe(true);
    expect(fitChanged({ scale: 1, maxBitrate: 500_000 }, { scale: 1, maxBitrate: undefined })).toBe(true);
  });
});

describe("readLinkStats", () => {
  it("reads the estimate, and per sent video track its bytes and its receiver's report", () => {
    const reading = readLinkStats([
      { id: "T", type: "transport", selectedCandidatePairId: "CP" },
      { id: "CP", type: "candidate-pair", availableOutgoingBitrate: 812_000, currentRoundTripTime: 0.004 },
      { id: "MS", type: "media-source", kind: "video", trackIdentifier: "track-1" },
      { id: "OUT", type: "outbound-rtp", kind: "video", mediaSourceId: "MS", bytesSent: 1000, timestamp: 5000 },
      { id: "RIN", type: "remote-inbound-rtp", kind: "video", localId: "OUT", fractionLost: 0.1, roundTripTime: 0.03 },
      { id: "OUTA", type: "outbound-rtp", kind: "audio", mediaSourceId: "MSA", bytesSent: 50 },
    ]);
    expect(reading.availableBps).toBe(812_000);
    expect(reading.pairRttS).toBe(0.004);
    expect([...reading.tracks]).toEqual([["track-1", { bytesSent: 1000, timestampMs: 5000, loss: 0.1, rttS: 0.03 }]]);
  });

  it("gives nothing, not garbage, for an engine with sparse statistics", () => {
    const reading = readLinkStats([{ id: "OUT", type: "outbound-rtp", kind: "video", bytesSent: "x" }]);
    expect(reading).toEqual({ availableBps: undefined, pairRttS: undefined, tracks: new Map() });
  });

  it("turns two readings into a rate", () => {
    const a = { bytesSent: 0, timestampMs: 1000, loss: undefined, rttS: undefined };
    const b = { bytesSent: 125_000, timestampMs: 2000, loss: undefined, rttS: undefined };
    expect(sentRate(a, b)).toBe(1_000_000);
    expect(sentRate(undefined, b)).toBeUndefined();
    expect(sentRate(b, a)).toBeUndefined();
  });
});
