// ECDSA over P-256 with SHA-256, as WebCrypto does it everywhere (browsers and Node): the one
// signature scheme meshmeet uses for its own keys (session claims, identity keys). Ed25519 would
// be smaller, but Chromium only gained it recently and werift's Node peers need nothing new.
// Public keys travel as the 65-byte uncompressed point, signatures in the raw (IEEE P1363) form
// of 64 bytes, both as standard base64.

import { base64ToBytes, bytesToBase64 } from "./encoding.js";

export const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNATURE = { name: "ECDSA", hash: "SHA-256" } as const;
export const P256_PUBLIC_KEY_BYTES = 65;
export const P256_SIGNATURE_BYTES = 64;

/** A key pair whose private half cannot be read out of WebCrypto (nor out of IndexedDB). */
export function generateSigningPair(subtle: SubtleCrypto = crypto.subtle): Promise<CryptoKeyPair> {
  return subtle.generateKey(ECDSA_P256, false, ["sign", "verify"]);
}

/** The public key as base64 of its uncompressed point (public keys are always exportable). */
export async function exportPublicKey(publicKey: CryptoKey, subtle: SubtleCrypto = crypto.subtle): Promise<string> {
  return bytesToBase64(new Uint8Array(await subtle.exportKey("raw", publicKey)));
}

export async function signText(privateKey: CryptoKey, text: Uint8Array<ArrayBuffer>, subtle: SubtleCrypto = crypto.subtle): Promise<string> {
  return bytesToBase64(new Uint8Array(await subtle.sign(SIGNATURE, privateKey, text)));
}

/** Whether `signature` is `key`'s over `text`; false (never an exception) for anything malformed. */
export async function verifyText(key: string, signature: string, text: Uint8Array<ArrayBuffer>, subtle: SubtleCrypto = crypto.subtle): Promise<boolean> {
  const keyBytes = base64ToBytes(key);
  const signatureBytes = base64ToBytes(signature);
  if (keyBytes?.length !== P256_PUBLIC_KEY_BYTES || signatureBytes?.length !== P256_SIGNATURE_BYTES) return false;
  try {
    const publicKey = await subtle.importKey("raw", keyBytes, ECDSA_P256, false, ["verify"]);
    return await subtle.verify(SIGNATURE, publicKey, signatureBytes, text);
  } catch {
    // Not a point on the curve: a forged or mangled key, which proves nothing.
    return false;
  }
}
