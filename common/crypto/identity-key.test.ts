import { describe, expect, it } from "vitest";
import type { ClientId } from "../wire/packets.js";
import { createIdentityPair, identityFromPair, verifyIdentityProof } from "./identity-key.js";
import { safetyCode } from "./safety-code.js";

const binding = { roomHash: "a".repeat(64), clientId: 7 as ClientId, fingerprints: ["sha-256 AA:BB"] };

describe("identity keys", () => {
  it("bind a key to one room, one id and one connection's fingerprints", async () => {
    const identity = await identityFromPair(await createIdentityPair());
    const proof = await identity.sign(binding);
    expect(await verifyIdentityProof(identity.publicKey, proof, binding)).toBe(true);
    expect(await verifyIdentityProof(identity.publicKey, proof, { ...binding, fingerprints: ["sha-256 CC:DD"] })).toBe(false);
    expect(await verifyIdentityProof(identity.publicKey, proof, { ...binding, clientId: 8 as ClientId })).toBe(false);
    expect(await verifyIdentityProof(identity.publicKey, proof, { ...binding, roomHash: "b".repeat(64) })).toBe(false);
    const other = await identityFromPair(await createIdentityPair());
    expect(await verifyIdentityProof(other.publicKey, proof, binding)).toBe(false);
  });

  it("keep the private key out of reach", async () => {
    const pair = await createIdentityPair();
    expect(pair.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey("pkcs8", pair.privateKey)).rejects.toThrow();
  });
});

describe("safety codes", () => {
  const alice = { identityKey: "alice-key", fingerprints: ["sha-256 AA"] };
  const bob = { identityKey: "bob-key", fingerprints: ["sha-256 BB"] };

  it("are six groups of four digits, the same from both sides", async () => {
    const code = await safetyCode(alice, bob);
    expect(code).toMatch(/^\d{4}( \d{4}){5}$/);
    expect(await safetyCode(bob, alice)).toBe(code);
  });

  it("change with either key or either certificate", async () => {
    const code = await safetyCode(alice, bob);
    expect(await safetyCode(alice, { ...bob, fingerprints: ["sha-256 CC"] })).not.toBe(code);
    expect(await safetyCode({ ...alice, identityKey: "mallory-key" }, bob)).not.toBe(code);
    // Swapping which fingerprint goes with which key is a different pairing, not the same code.
    expect(await safetyCode({ ...alice, fingerprints: bob.fingerprints }, { ...bob, fingerprints: alice.fingerprints })).not.toBe(code);
  });
});
