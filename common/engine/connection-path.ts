// How a peer connection's media actually travels, read from getStats(): the selected candidate
// pair, its two candidates, and the round-trip time. Pure functions over the stats reports, so
// they run the same on browsers' and werift's RTCStatsReport and in tests on plain objects.
//
//   direct: both ends use their own (host) addresses: the same network, or public addresses.
//   stun:   at least one end is seen through its NAT (server- or peer-reflexive): the NATs let
//           the packets through, helped by STUN.
//   turn:   at least one end sends through a TURN server, which relays every packet.

export type PathKind = "direct" | "stun" | "turn";

export interface ConnectionPath {
  readonly kind: PathKind;
  /** Transport between the two candidates (TURN over TCP/TLS shows in `turnProtocol`). */
  readonly protocol: "udp" | "tcp";
  /** For `turn`: the TURN server's host as our TURN URL names it, or its relayed address. */
  readonly turnHost?: string;
  /** For `turn` on our side: how we reach the TURN server. */
  readonly turnProtocol?: "udp" | "tcp" | "tls";
  /** Whether the TURN server is ours (we relay) or only the peer's. */
  readonly relayedBy?: "us" | "peer" | "both";
  /** The pair's current round-trip time (STUN consent checks), in milliseconds. */
  readonly rttMs?: number;
}

/** The fields of RTCStats reports we read; everything is optional because engines differ. */
export interface StatsLike {
  readonly id: string;
  readonly type: string;
  readonly [field: string]: unknown;
}

type CandidateType = "host" | "srflx" | "prflx" | "relay";

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function selectedPair(reports: ReadonlyMap<string, StatsLike>): StatsLike | undefined {
  for (const report of reports.values()) {
    if (report.type !== "transport") continue;
    const pair = reports.get(str(report.selectedCandidatePairId) ?? "");
    if (pair) return pair;
  }
  // Engines without transport stats flag the pair itself (Firefox: `selected`).
  const pairs = [...reports.values()].filter((r) => r.type === "candidate-pair");
  return pairs.find((p) => p.selected === true) ?? pairs.find((p) => p.nominated === true && p.state === "succeeded");
}

/** The host part of a stun:/turn:/turns: URL ("turn:[2001:db8::1]:3478?transport=tcp" → "2001:db8::1"). */
export function iceUrlHost(url: string): string | undefined {
  const match = /^(?:stuns?|turns?):(?:\[([^\]]+)\]|([^:?]+))/.exec(url);
  return match?.[1] ?? match?.[2];
}

function candidateType(candidate: StatsLike | undefined): CandidateType | undefined {
  const type = str(candidate?.candidateType);
  return type === "host" || type === "srflx" || type === "prflx" || type === "relay" ? type : undefined;
}

/**
 * A peer-reflexive remote candidate is often only a host candidate whose signaling was slower
 * than the first check; it is a NAT mapping only if the peer announced no host candidate there.
 */
function isAnnouncedHost(reports: ReadonlyMap<string, StatsLike>, remote: StatsLike): boolean {
  const address = str(remote.address) ?? str(remote.ip);
  if (address === undefined) return false;
  for (const report of reports.values()) {
    if (report.type === "remote-candidate" && report.candidateType === "host" && (str(report.address) ?? str(report.ip)) === address) return true;
  }
  return false;
}

/** The path of the selected candidate pair; undefined while none is selected. */
export function connectionPathFromStats(stats: Iterable<StatsLike>): ConnectionPath | undefined {
  const reports = new Map<string, StatsLike>();
  for (const report of stats) reports.set(report.id, report);
  const pair = selectedPair(reports);
  if (!pair) return undefined;
  const local = reports.get(str(pair.localCandidateId) ?? "");
  const remote = reports.get(str(pair.remoteCandidateId) ?? "");
  const localType = candidateType(local);
  let remoteType = candidateType(remote);
  if (remoteType === "prflx" && remote && isAnnouncedHost(reports, remote)) remoteType = "host";
  if (localType === undefined || remoteType === undefined) return undefined;

  const protocol = str(local?.protocol) === "tcp" ? "tcp" : "udp";
  const rtt = pair.currentRoundTripTime;
  const rttMs = typeof rtt === "number" && Number.isFinite(rtt) ? Math.round(rtt * 1000) : undefined;
  const common = { protocol, ...(rttMs === undefined ? {} : { rttMs }) } as const;

  if (localType === "relay" || remoteType === "relay") {
    const ours = localType === "relay";
    const relayedBy = ours && remoteType === "relay" ? "both" : ours ? "us" : "peer";
    const url = ours ? str(local?.url) : undefined;
    const turnHost = (url === undefined ? undefined : iceUrlHost(url)) ?? str((ours ? local : remote)?.address);
    const relayProtocol = str(local?.relayProtocol);
    const turnProtocol = relayProtocol === "udp" || relayProtocol === "tcp" || relayProtocol === "tls" ? relayProtocol : undefined;
    return {
      kind: "turn",
      ...common,
      relayedBy,
      ...(turnHost === undefined ? {} : { turnHost }),
      ...(ours && turnProtocol !== undefined ? { turnProtocol } : {}),
    };
  }
  if (localType === "host" && remoteType === "host") return { kind: "direct", ...common };
  return { kind: "stun", ...common };
}

/** Whether two readings differ enough to tell the user (kind or server changed, RTT moved by a fifth). */
export function pathChanged(before: ConnectionPath | undefined, after: ConnectionPath | undefined): boolean {
  if (before === undefined || after === undefined) return before !== after;
  if (before.kind !== after.kind || before.turnHost !== after.turnHost || before.protocol !== after.protocol) return true;
  if (before.turnProtocol !== after.turnProtocol || before.relayedBy !== after.relayedBy) return true;
  if (before.rttMs === undefined || after.rttMs === undefined) return before.rttMs !== after.rttMs;
  return Math.abs(before.rttMs - after.rttMs) > Math.max(5, before.rttMs * 0.2);
}
