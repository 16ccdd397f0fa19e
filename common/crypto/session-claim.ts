// Session claims: how a page proves, after a relay reconnect gave it a new client id, that it is
// the same page the others already know, so that they keep its tile, name and running peer
// connection. Each page makes an ECDSA P-256 key pair when it opens a room; the private key is
// non-extractable and never leaves the page. Its `identify` carries the public key and a
// signature over the room hash and the client id it speaks under. Everyone in the room sees that
// identify, but a copy is worth nothing under any other id, and no one else can sign for a new
// one: a member cannot take over another's tile by replaying what it was sent.
//
// The signed text names the room (its public hash) and the id, so a claim made in one room or
// under one id does not carry over. ECDSA over SHA-256 in WebCrypto's raw (IEEE P1363) form: 64
// bytes, the public key as the 65-byte uncompressed point. Both travel as standard base64.

import type { ClientId } from "../wire/packets.js";
import { base64ToBytes, bytesToBase64, utf8Encode } from "./encoding.js";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNATURE = { name: "ECDSA", hash: "SHA-256" } as const;
export const SESSION_KEY_BYTES = 65;
export const SESSION_PROOF_BYTES = 64;

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
  const pair = await subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
  const key = bytesToBase64(new Uint8Array(await subtle.exportKey("raw", pair.publicKey)));
  // One signature per id: identify goes to every member, and again on each rename.
  const proofs = new Map<string, Promise<string>>();
  return {
    key,
    proofFor(roomHash, clientId) {
      const at = `${roomHash}\n${clientId}`;
      let proof = proofs.get(at);
      if (!proof) {
        proof = subtle.sign(SIGNATURE, pair.privateKey, claimText(roomHash, clientId)).then((signature) => bytesToBase64(new Uint8Array(signature)));
        proofs.set(at, proof);
      }
      return proof;
    },
  };
}

/** Whether `proof` is `key`'s signature for speaking as `clientId` in the room with `roomHash`. */
export async function verifySessionClaim(key: string, proof: string, roomHash: string, clientId: ClientId, subtle: SubtleCrypto = crypto.subtle): Promise<boolean> {
  const keyBytes = base64ToBytes(key);
  const proofBytes = base64ToBytes(proof);
  if (keyBytes?.length !== SESSION_KEY_BYTES || proofBytes?.length !== SESSION_PROOF_BYTES) return false;
  try {
    const publicKey = await subtle.importKey("raw", keyBytes, ALGORITHM, false, ["verify"]);
    return await subtle.verify(SIGNATURE, publicKey, proofBytes, claimText(roomHash, clientId));
  } catch {
    // Not a point on the curve: a forged or mangled key, which proves nothing.
    return false;
  }
}
