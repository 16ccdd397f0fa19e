import { describe, expect, it } from "vitest";
import { connectionPathFromStats, iceUrlHost, pathChanged, type StatsLike } from "./connection-path.js";

function stats(local: Record<string, unknown>, remote: Record<string, unknown>, pair: Record<string, unknown> = {}, extra: StatsLike[] = []): StatsLike[] {
  return [
    { id: "T1", type: "transport", selectedCandidatePairId: "CP1" },
    { id: "CP1", type: "candidate-pair", localCandidateId: "L1", remoteCandidateId: "R1", currentRoundTripTime: 0.0123, ...pair },
    { id: "L1", type: "local-candidate", protocol: "udp", ...local },
    { id: "R1", type: "remote-candidate", protocol: "udp", ...remote },
    ...extra,
  ];
}

describe("connectionPathFromStats", () => {
  it("calls host ↔ host direct, with the round trip in ms", () => {
    expect(connectionPathFromStats(stats({ candidateType: "host" }, { candidateType: "host" }))).toEqual({ kind: "direct", protocol: "udp", rttMs: 12 });
  });

  it("calls a reflexive end a path through the NATs", () => {
    expect(connectionPathFromStats(stats({ candidateType: "srflx" }, { candidateType: "host" }))?.kind).toBe("stun");
    expect(connectionPathFromStats(stats({ candidateType: "host" }, { candidateType: "prflx", address: "203.0.113.9" }))?.kind).toBe("stun");
  });

  it("takes a peer-reflexive remote that the peer announced as a host candidate for what it is", () => {
    const announced: StatsLike = { id: "R2", type: "remote-candidate", candidateType: "host", address: "10.0.0.2" };
    expect(connectionPathFromStats(stats({ candidateType: "host" }, { candidateType: "prflx", address: "10.0.0.2" }, {}, [announced]))?.kind).toBe("direct");
  });

  it("names the TURN server from our relay candidate's URL, and how we reach it", () => {
    const path = connectionPathFromStats(
      stats({ candidateType: "relay", relayProtocol: "tcp", url: "turn:turn.example.org:3478?transport=tcp", address: "198.51.100.4" }, { candidateType: "srflx" }),
    );
    expect(path).toEqual({ kind: "turn", protocol: "udp", rttMs: 12, relayedBy: "us", turnHost: "turn.example.org", turnProtocol: "tcp" });
  });

  it("says when only the peer relays, naming its relayed address", () => {
    const path = connectionPathFromStats(stats({ candidateType: "srflx" }, { candidateType: "relay", address: "198.51.100.4" }));
    expect(path).toEqual({ kind: "turn", protocol: "udp", rttMs: 12, relayedBy: "peer", turnHost: "198.51.100.4" });
  });

  it("finds the pair without transport stats (selected, or nominated and succeeded), and is undefined with none", () => {
    const reports = stats({ candidateType: "host" }, { candidateType: "host" }, { selected: true }).filter((r) => r.type !== "transport");
    expect(connectionPathFromStats(reports)?.kind).toBe("direct");
    expect(connectionPathFromStats([])).toBeUndefined();
    expect(connectionPathFromStats(stats({ candidateType: "host" }, { candidateType: "host" }).filter((r) => r.type !== "transport"))).toBeUndefined();
  });
});

describe("iceUrlHost", () => {
  it("takes the host of stun:, turn: and turns: URLs", () => {
    expect(iceUrlHost("turn:turn.example.org:3478?transport=udp")).toBe("turn.example.org");
    expect(iceUrlHost("turns:[2001:db8::1]:443?transport=tcp")).toBe("2001:db8::1");
    expect(iceUrlHost("stun:10.0.0.1")).toBe("10.0.0.1");
    expect(iceUrlHost("https://x")).toBeUndefined();
  });
});

describe("pathChanged", () => {
  it("reports kind changes and round trips that moved by more than a fifth (at least 5 ms)", () => {
    const a = { kind: "direct", protocol: "udp", rttMs: 40 } as const;
    expect(pathChanged(a, { ...a, rttMs: 45 })).toBe(false);
    expect(pathChanged(a, { ...a, rttMs: 60 })).toBe(true);
    expect(pathChanged(a, { ...a, kind: "turn" })).toBe(true);
    expect(pathChanged(undefined, a)).toBe(true);
    expect(pathChanged(undefined, undefined)).toBe(false);
  });
});
