// Warm joins: the derived room hash and AES key of known rooms, kept in IndexedDB so that
// opening such a room again skips both PBKDF2 derivations (about 200–600 ms of CPU on a small
// machine). A CryptoKey is stored as a structured clone and stays non-extractable: this origin
// can seal and open with it, but no script can read it out.
//
// Entries are found by an HMAC of the secret under a random key of this browser (itself a
// non-extractable CryptoKey in the same store), never by the secret or a plain hash of it: a copy
// of the database files gives no fast way to test guesses of room names. Only rooms in the known
// rooms list are kept, and an entry goes when its room leaves the list.

import { createStore, del, get, set, type UseStore } from "idb-keyval";
import type { RoomSecrets } from "../../common/crypto/room-crypto.js";
import { bytesToHex, utf8Encode } from "../../common/crypto/encoding.js";

const LOOKUP_KEY = "lookup-key";
/**
 * Set (in localStorage, which a page reads at once) when this browser first keeps a room's
 * secrets. Without it, the boot starts deriving at once instead of waiting for an IndexedDB
 * lookup that would find nothing: in a fresh browser profile opening the database took longer
 * than a derivation. It tells only that some room was kept, never which.
 */
const KEPT_HINT = "meshmeet:room-secrets-kept";

/** False when this browser has surely never kept any room's secrets (so a lookup can be skipped). */
export function roomSecretsMayBeKept(): boolean {
  try {
    return localStorage.getItem(KEPT_HINT) !== null;
  } catch {
    return true; // storage blocked: we cannot tell, so look
  }
}

/** One store of its own: entries are cleared or counted without touching preferences. */
export function roomSecretsStore(): UseStore {
  return createStore("meshmeet-room-secrets", "secrets");
}

interface Entry {
  readonly hash: string;
  readonly key: CryptoKey;
}

function isEntry(value: unknown): value is Entry {
  if (typeof value !== "object" || value === null) return false;
  const { hash, key } = value as Partial<Entry>;
  return typeof hash === "string" && /^[0-9a-f]{64}$/.test(hash) && key instanceof CryptoKey && key.algorithm.name === "AES-GCM";
}

async function lookupKey(store: UseStore, create: boolean): Promise<CryptoKey | undefined> {
  const stored: unknown = await get(LOOKUP_KEY, store);
  if (stored instanceof CryptoKey && stored.algorithm.name === "HMAC") return stored;
  if (!create) return undefined;
  const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  await set(LOOKUP_KEY, key, store);
  return key;
}

async function entryId(secret: string, key: CryptoKey): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, utf8Encode(`meshmeet room secrets v1\n${secret}`));
  return `room:${bytesToHex(new Uint8Array(mac))}`;
}

/** The stored secrets of this room, if it is a known room joined before; undefined otherwise. */
export async function cachedRoomSecrets(secret: string, store: UseStore): Promise<RoomSecrets | undefined> {
  try {
    const key = await lookupKey(store, false);
    if (!key) return undefined;
    const entry: unknown = await get(await entryId(secret, key), store);
    return isEntry(entry) ? { hash: entry.hash, key: entry.key } : undefined;
  } catch {
    return undefined; // storage blocked or broken: derive as on a first visit
  }
}

export async function rememberRoomSecrets(secret: string, secrets: RoomSecrets, store: UseStore): Promise<void> {
  try {
    const key = await lookupKey(store, true);
    if (!key) return;
    // The hint first: an entry it does not announce would never be looked up.
    localStorage.setItem(KEPT_HINT, "1");
    await set(await entryId(secret, key), { hash: secrets.hash, key: secrets.key } satisfies Entry, store);
  } catch {
    // Not kept: the next visit derives again.
  }
}

export async function forgetRoomSecrets(secret: string, store: UseStore): Promise<void> {
  try {
    const key = await lookupKey(store, false);
    if (key) await del(await entryId(secret, key), store);
  } catch {
    // Nothing stored, or storage blocked.
  }
}
