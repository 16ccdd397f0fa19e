import { describe, expect, it } from "vitest";
import type { ClientId } from "../wire/packets.js";
import { base64ToBytes, bytesToBase64 } from "./encoding.js";
import { createSessionClaim, SESSION_KEY_BYTES, SESSION_PROOF_BYTES, verifySessionClaim } from "./session-claim.js";

const HASH = "a".repeat(64);
const id = (n: number) => n as ClientId;

describe("session claims", () => {
  it("hold for the room and id they were signed for, and for nothing else", async () => {
    const claim = await createSessionClaim();
    const proof = await claim.proofFor(HASH, id(3));
    expect(base64ToBytes(claim.key)?.length).toBe(SESSION_KEY_BYTES);
    expect(base64ToBytes(proof)?.length).toBe(SESSION_PROOF_BYTES);
    expect(await verifySessionClaim(claim.key, proof, HASH, id(3))).toBe(true);
    // Replayed by another member (another id), or carried into another room: worthless.
    expect(await verifySessionClaim(claim.key, proof, HASH, id(4))).toBe(false);
    expect(await verifySessionClaim(claim.key, proof, "b".repeat(64), id(3))).toBe(false);
    // Someone else's key with this proof.
    const other = await createSessionClaim();
    expect(await verifySessionClaim(other.key, proof, HASH, id(3))).toBe(false);
  });

  it("signs once per room and id", async () => {
    const claim = await createSessionClaim();
    expect(await claim.proofFor(HASH, id(1))).toBe(await claim.proofFor(HASH, id(1)));
    expect(await claim.proofFor(HASH, id(1))).not.toBe(await claim.proofFor(HASH, id(2)));
  });

  it("answers false, not an exception, for keys and proofs that are not what they claim", async () => {
    const claim = await createSessionClaim();
    const proof = await claim.proofFor(HASH, id(1));
    const offCurve = bytesToBase64(Uint8Array.from({ length: SESSION_KEY_BYTES }, (_, i) => (i === 0 ? 4 : 0x55)));
    expect(await verifySessionClaim(offCurve, proof, HASH, id(1))).toBe(false);
    expect(await verifySessionClaim("not base64!", proof, HASH, id(1))).toBe(false);
    expect(await verifySessionClaim(claim.key, bytesToBase64(new Uint8Array(SESSION_PROOF_BYTES)), HASH, id(1))).toBe(false);
  });
});
