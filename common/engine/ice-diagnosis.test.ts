import { describe, expect, it } from "vitest";
import { IceDiagnosis, summarizeIceServers } from "./ice-diagnosis.js";

const STUN_AND_TURN = { hasStun: true, hasTurn: true, relayOnly: false };
const STUN_ONLY = { hasStun: true, hasTurn: false, relayOnly: false };

function diagnosis(candidates: string[], errors: Array<[string, number]> = []): IceDiagnosis {
  const d = new IceDiagnosis();
  for (const c of candidates) d.noteLocalCandidate(`candidate:1 1 udp 2122 10.0.0.2 5000 typ ${c} generation 0`);
  for (const [url, code] of errors) d.noteCandidateError(url, code);
  return d;
}

describe("IceDiagnosis", () => {
  it("blames missing TURN when everything was gathered and no TURN server exists", () => {
    expect(diagnosis(["host", "srflx"]).diagnose(STUN_ONLY)).toBe("no-turn");
  });

  it("blames the credential when TURN answered 401 and gave no relay candidate", () => {
    expect(diagnosis(["host", "srflx"], [["turn:t.example:3478?transport=udp", 401]]).diagnose(STUN_AND_TURN)).toBe("turn-refused");
    // A 401 is also the first step of every TURN allocation; once a relay candidate came, it was fine.
    expect(diagnosis(["host", "relay"], [["turn:t.example:3478", 401]]).diagnose(STUN_AND_TURN)).toBe("unknown");
  });

  it("tells an unreachable TURN server from a network that blocks all UDP", () => {
    expect(diagnosis(["host", "srflx"], [["turn:t.example:3478", 701]]).diagnose(STUN_AND_TURN)).toBe("turn-unreachable");
    expect(diagnosis(["host"], [["stun:s.example:3478", 701], ["turn:t.example:3478", 701]]).diagnose(STUN_AND_TURN)).toBe("udp-blocked");
    expect(diagnosis(["host"], [["stun:s.example:3478", 701]]).diagnose(STUN_ONLY)).toBe("udp-blocked");
  });

  it("says relay-only cannot work without TURN, and starts over on reset", () => {
    expect(diagnosis([]).diagnose({ hasStun: true, hasTurn: false, relayOnly: true })).toBe("relay-only-without-turn");
    const d = diagnosis(["host"], [["turn:t.example:3478", 401]]);
    d.reset();
    expect(d.diagnose(STUN_AND_TURN)).toBe("unknown");
  });
});

describe("summarizeIceServers", () => {
  it("reads URL schemes from strings and lists, and the transport policy", () => {
    expect(summarizeIceServers({ iceServers: [{ urls: "stun:s.example" }, { urls: ["turns:t.example:443"] }], iceTransportPolicy: "relay" })).toEqual({
      hasStun: true,
      hasTurn: true,
      relayOnly: true,
    });
    expect(summarizeIceServers({})).toEqual({ hasStun: false, hasTurn: false, relayOnly: false });
  });
});
