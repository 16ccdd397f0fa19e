// What link fitting reads from a connection's getStats(): the bandwidth estimate and round trip
// of the selected candidate pair, and per sent video track its bytes so far, the loss and round
// trip its receiver reports (remote-inbound-rtp). Pure functions over plain reports, so they run
// the same on browsers' and werift's RTCStatsReport (which lacks some of these) and in tests.

import type { StatsLike } from "./connection-path.js";

export interface SentTrackReading {
  /** Bytes sent on this track so far, and when (ms, the report's own clock). */
  readonly bytesSent: number | undefined;
  readonly timestampMs: number | undefined;
  /** The receiver's latest report: share lost (0–1) and round trip (s). */
  readonly loss: number | undefined;
  readonly rttS: number | undefined;
}

export interface LinkReading {
  /** Send-side bandwidth estimate of the connection, bit/s. */
  readonly availableBps: number | undefined;
  /** The selected pair's round trip (STUN consent checks), s. */
  readonly pairRttS: number | undefined;
  /** By track id (MediaStreamTrack.id). */
  readonly tracks: ReadonlyMap<string, SentTrackReading>;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function selectedPair(byId: ReadonlyMap<string, StatsLike>): StatsLike | undefined {
  for (const report of byId.values()) {
    if (report.type !== "transport") continue;
    const pair = byId.get(str(report.selectedCandidatePairId) ?? "");
    if (pair) return pair;
  }
  const pairs = [...byId.values()].filter((r) => r.type === "candidate-pair");
  return pairs.find((p) => p.selected === true) ?? pairs.find((p) => p.nominated === true && p.state === "succeeded");
}

export function readLinkStats(reports: readonly StatsLike[]): LinkReading {
  const byId = new Map(reports.map((report) => [report.id, report]));
  const pair = selectedPair(byId);
  const remoteByLocal = new Map<string, StatsLike>();
  for (const report of reports) {
    const local = str(report.localId);
    if (report.type === "remote-inbound-rtp" && local) remoteByLocal.set(local, report);
  }
  const tracks = new Map<string, SentTrackReading>();
  for (const report of reports) {
    if (report.type !== "outbound-rtp" || (report.kind !== undefined && report.kind !== "video")) continue;
    // The track is named on its media source (older engines put it on the outbound report).
    const source = byId.get(str(report.mediaSourceId) ?? "");
    const trackId = str(source?.trackIdentifier) ?? str(report.trackIdentifier);
    if (!trackId) continue;
    const remote = remoteByLocal.get(report.id);
    tracks.set(trackId, {
      bytesSent: num(report.bytesSent),
      timestampMs: num(report.timestamp),
      loss: num(remote?.fractionLost),
      rttS: num(remote?.roundTripTime),
    });
  }
  return { availableBps: num(pair?.availableOutgoingBitrate), pairRttS: num(pair?.currentRoundTripTime), tracks };
}

/** Bit/s between two readings of one track; undefined without two good readings. */
export function sentRate(previous: SentTrackReading | undefined, current: SentTrackReading): number | undefined {
  if (!previous || previous.bytesSent === undefined || current.bytesSent === undefined) return undefined;
  if (previous.timestampMs === undefined || current.timestampMs === undefined) return undefined;
  const ms = current.timestampMs - previous.timestampMs;
  const bytes = current.bytesSent - previous.bytesSent;
  if (ms <= 0 || bytes < 0) return undefined;
  return (bytes * 8 * 1000) / ms;
}
