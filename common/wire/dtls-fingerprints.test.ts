import { describe, expect, it } from "vitest";
import { dtlsFingerprints, FINGERPRINT_PATTERN, sameFingerprints } from "./dtls-fingerprints.js";

const HEX = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0")).join(":");

describe("DTLS fingerprints from an SDP", () => {
  it("reads session- and media-level lines, normalised, sorted and without repeats", () => {
    const sdp = [
      "v=0",
      `a=fingerprint:SHA-256 ${HEX}`,
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
      `a=fingerprint:sha-256 ${HEX.toUpperCase()}`,
      `a=fingerprint:sha-1 ${HEX.split(":").slice(0, 20).join(":")}`,
      "",
    ].join("\r\n");
    const found = dtlsFingerprints(sdp);
    expect(found).toEqual([`sha-1 ${HEX.toUpperCase().split(":").slice(0, 20).join(":")}`, `sha-256 ${HEX.toUpperCase()}`]);
    for (const fingerprint of found) expect(fingerprint).toMatch(FINGERPRINT_PATTERN);
  });

  it("finds nothing in a description without fingerprints or with malformed ones", () => {
    expect(dtlsFingerprints("v=0\r\na=fingerprint:sha-256 not-hex\r\na=fingerprint:sha-256 AB:CD\r\n")).toEqual([]);
  });

  it("compares lists exactly", () => {
    expect(sameFingerprints(["a"], ["a"])).toBe(true);
    expect(sameFingerprints(["a"], ["a", "b"])).toBe(false);
    expect(sameFingerprints(["a"], ["b"])).toBe(false);
  });
});
