// This browser's identity key pair, kept in IndexedDB (idb-keyval) so that people who verified
// us once recognise us in later meetings. IndexedDB stores a CryptoKey as a structured clone and
// keeps it non-extractable: the private key can sign on this origin but never be read out.

import { get, set, type UseStore } from "idb-keyval";
import { createIdentityPair, identityFromPair, type IdentityKey } from "../../common/crypto/identity-key.js";

const KEY = "meshmeet.identity";

function isSigningPair(value: unknown): value is CryptoKeyPair {
  if (typeof value !== "object" || value === null) return false;
  const { privateKey, publicKey } = value as Partial<CryptoKeyPair>;
  return privateKey instanceof CryptoKey && publicKey instanceof CryptoKey && privateKey.algorithm.name === "ECDSA" && privateKey.usages.includes("sign");
}

/**
 * The stored identity, or a new one (stored for next time). Where storage is refused (a private
 * window) the identity lasts for this page only: verifying still works, remembering does not.
 */
export async function loadIdentity(store?: UseStore): Promise<IdentityKey> {
  try {
    const stored: unknown = await get(KEY, store);
    if (isSigningPair(stored)) return await identityFromPair(stored);
  } catch {
    // Storage blocked: fall through to a key for this page.
  }
  const pair = await createIdentityPair();
  await set(KEY, pair, store).catch(() => undefined);
  return identityFromPair(pair);
}
