// Session claims: how a page proves, after a relay reconnect gave it a new client id, that it is
// the same page the others already know, so that they keep its tile, name and running peer
// connection. Each page makes an ECDSA P-256 key pair when it opens a room; the private key is
// non-extractable and never leaves the page. Its `identify` carries the public key and a
// signature over the room hash and the client id it speaks under. Everyone in the room sees that
// identify, but a copy is worth nothing under any other id, and no one else can sign for a new
// one: a member cannot take over another's tile by replaying what it was sent.
//
// The signed text names the room (its public hash) and the id, so a claim made in one room or
// under one id does not carry over (ECDSA P-256, see ecdsa-p256.ts).

import type { ClientId } from "../wire/packets.js";
import { utf8Encode } from "./encoding.js";
import { exportPublicKey, generateSigningPair, P256_PUBLIC_KEY_BYTES, P256_SIGNATURE_BYTES, signText, verifyText } from "./ecdsa-p256.js";

export const SESSION_KEY_BYTES = P256_PUBLIC_KEY_BYTES;
export const SESSION_PROOF_BYTES = P256_SIGNATURE_BYTES;

/** What the signature covers: a fixed label, the room's public hash and the speaker's client id. */
function claimText(roomHash: string, clientId: ClientId): Uint8Array<ArrayBuffer> {
  return utf8Encode(`meshmeet session claim v1\n${roomHash}\n${clientId}`);
}

export interface SessionClaim {
  /** The public key, base64 (the same for every id this page speaks under). */
  readonly key: string;
  /** base64 signature for speaking as `clientId` in the room with `roomHash`. */
  proofFor(roomHash: string, clientId: ClientId): Promise<string>;
}

/** A new key pair for this page's stay in a room. */
export async function createSessionClaim(subtle: SubtleCrypto = crypto.subtle): Promise<SessionClaim> {
  const pair = await generateSigningPair(subtle);
  const key = await exportPublicKey(pair.publicKey, subtle);
  // One signature per id: identify goes to every member, and again on each rename.
  const proofs = new Map<string, Promise<string>>();
  return {
    key,
    proofFor(roomHash, clientId) {
      const at = `${roomHash}\n${clientId}`;
      let proof = proofs.get(at);
      if (!proof) {
        proof = signText(pair.privateKey, claimText(roomHash, clientId), subtle);
        proofs.set(at, proof);
      }
      return proof;
    },
  };
}

/** Whether `proof` is `key`'s signature for speaking as `clientId` in the room with `roomHash`. */
export function verifySessionClaim(key: string, proof: string, roomHash: string, clientId: ClientId, subtle: SubtleCrypto = crypto.subtle): Promise<boolean> {
  return verifyText(key, proof, claimText(roomHash, clientId), subtle);
}
