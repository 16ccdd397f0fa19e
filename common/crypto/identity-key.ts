// A browser's long-lived identity: an ECDSA P-256 key pair that stays with this browser profile
// across meetings (the web client keeps the pair in IndexedDB; the private key is created
// non-extractable, so no script, not even ours, can read it out). It is what a person verifies
// once by comparing a safety code and is recognised by afterwards.
//
// The key is tied to each peer connection by signing the DTLS certificate fingerprints of that
// connection, together with the room's public hash and the client id we speak under. The other
// side checks the fingerprints against the `a=fingerprint` lines of the SDP it received; the
// browser in turn refuses any DTLS peer whose certificate does not match those lines. So a key
// that verifies, over a connection whose fingerprints match, is the far end of that very
// connection: whoever relays or rewrites the signaling (a relay operator who knows the room
// secret) cannot put their own certificate in between without the check failing, and cannot
// sign for it without the private key.

import type { ClientId } from "../wire/packets.js";
import { utf8Encode } from "./encoding.js";
import { exportPublicKey, generateSigningPair, signText, verifyText } from "./ecdsa-p256.js";

export interface IdentityKey {
  /** The public key, base64 of the uncompressed P-256 point: the identity others remember. */
  readonly publicKey: string;
  /** Our signature binding this key to one connection's fingerprints, in one room, under one id. */
  sign(binding: IdentityBinding): Promise<string>;
}

export interface IdentityBinding {
  readonly roomHash: string;
  readonly clientId: ClientId;
  /** The DTLS fingerprints of our side of the connection, normalised and sorted (see wire/dtls-fingerprints.ts). */
  readonly fingerprints: readonly string[];
}

function bindingText({ roomHash, clientId, fingerprints }: IdentityBinding): Uint8Array<ArrayBuffer> {
  return utf8Encode(`meshmeet identity v1\n${roomHash}\n${clientId}\n${fingerprints.join("\n")}`);
}

/** An identity over an existing pair (e.g. read back from IndexedDB). */
export async function identityFromPair(pair: CryptoKeyPair, subtle: SubtleCrypto = crypto.subtle): Promise<IdentityKey> {
  const publicKey = await exportPublicKey(pair.publicKey, subtle);
  return { publicKey, sign: (binding) => signText(pair.privateKey, bindingText(binding), subtle) };
}

/** A fresh key pair: for a first visit, or for hosts that keep no identity between runs. */
export async function createIdentityPair(subtle: SubtleCrypto = crypto.subtle): Promise<CryptoKeyPair> {
  return generateSigningPair(subtle);
}

/** Whether `proof` is `publicKey`'s signature over exactly this binding. */
export function verifyIdentityProof(publicKey: string, proof: string, binding: IdentityBinding, subtle: SubtleCrypto = crypto.subtle): Promise<boolean> {
  return verifyText(publicKey, proof, bindingText(binding), subtle);
}
