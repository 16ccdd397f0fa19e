// Room hash, room key and seal/open, exactly as keks-meet derives them, on WebCrypto
// only (browsers and Node ≥ 20 both have globalThis.crypto.subtle).
//
// The constant salts and the iteration count are keks-meet's and must not change: they are what
// makes a keks-meet client in the same room derive the same hash and key.

import { err, ok, type Result } from "../result.js";
import type { RoomHash } from "../wire/packets.js";
import { base64ToBytes, bytesToBase64, bytesToHex, hexToBytes, utf8Decode, utf8Encode } from "./encoding.js";

/** Salt "A" (`keksmeet/cryptosaltAAA==`), for the message key. */
export const KEY_SALT = hexToBytes("91e92c99e7adfdcaf2a6da2c6a5b4000");
/** Salt "B" (`keksmeet/roomhashsaltA==`), for the room hash the relay sees. */
export const ROOM_HASH_SALT = hexToBytes("91e92c99e7adfeba289a16ac86c6a5b4");
export const PBKDF2_ITERATIONS = 250_000;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

export interface RoomSecrets {
  /** What the relay groups clients by. */
  readonly hash: RoomHash;
  /** AES-256-GCM key for every relayed message. Non-extractable unless asked otherwise. */
  readonly key: CryptoKey;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  // Browsers expose subtle only in secure contexts (HTTPS or localhost).
  if (!s) throw new Error("WebCrypto is unavailable: the page must be served over HTTPS or from localhost");
  return s;
}

async function passwordKey(secret: string): Promise<CryptoKey> {
  return subtle().importKey("raw", utf8Encode(secret), "PBKDF2", false, ["deriveBits", "deriveKey"]);
}

function pbkdf2(salt: Uint8Array<ArrayBuffer>): Pbkdf2Params {
  return { name: "PBKDF2", hash: "SHA-512", salt, iterations: PBKDF2_ITERATIONS };
}

export async function deriveRoomHash(secret: string): Promise<RoomHash> {
  const bits = await subtle().deriveBits(pbkdf2(ROOM_HASH_SALT), await passwordKey(secret), 256);
  return bytesToHex(new Uint8Array(bits));
}

export async function deriveRoomKey(secret: string, extractable = false): Promise<CryptoKey> {
  return subtle().deriveKey(pbkdf2(KEY_SALT), await passwordKey(secret), { name: "AES-GCM", length: 256 }, extractable, [
    "encrypt",
    "decrypt",
  ]);
}

/**
 * Both derivations, started together. Chromium measured no gain from the overlap, but engines that run them in parallel do gain and none lose.
 */
export async function deriveRoomSecrets(secret: string): Promise<RoomSecrets> {
  const [hash, key] = await Promise.all([deriveRoomHash(secret), deriveRoomKey(secret)]);
  return { hash, key };
}

/** base64(IV ‖ AES-GCM ciphertext ‖ tag). `iv` is for test vectors only; normally random. */
export async function seal(key: CryptoKey, plaintext: string, iv?: Uint8Array<ArrayBuffer>): Promise<string> {
  const nonce = iv ?? globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  if (nonce.length !== IV_BYTES) throw new Error(`seal: IV must be ${IV_BYTES} bytes`);
  const ciphertext = new Uint8Array(await subtle().encrypt({ name: "AES-GCM", iv: nonce }, key, utf8Encode(plaintext)));
  const out = new Uint8Array(IV_BYTES + ciphertext.length);
  out.set(nonce, 0);
  out.set(ciphertext, IV_BYTES);
  return bytesToBase64(out);
}

export type OpenErrorCode =
  | "bad_base64" // not standard padded base64
  | "too_short" // shorter than IV + tag
  | "auth_failed" // wrong key (another room) or tampered bytes
  | "bad_utf8";

export interface OpenError {
  readonly code: OpenErrorCode;
  readonly message: string;
}

/** Opens a sealed string. Failure is a typed result — never a substituted `{}`. */
export async function open(key: CryptoKey, sealed: string): Promise<Result<string, OpenError>> {
  const bytes = base64ToBytes(sealed);
  if (!bytes) return err({ code: "bad_base64", message: "sealed message is not standard base64" });
  if (bytes.length < IV_BYTES + TAG_BYTES) {
    return err({ code: "too_short", message: `sealed message has ${bytes.length} bytes, needs at least ${IV_BYTES + TAG_BYTES}` });
  }
  let plain: ArrayBuffer;
  try {
    plain = await subtle().decrypt({ name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES) }, key, bytes.subarray(IV_BYTES));
  } catch {
    // WebCrypto reports every authentication failure as one OperationError; nothing more to keep.
    return err({ code: "auth_failed", message: "sealed message failed authentication (other key or tampered)" });
  }
  const text = utf8Decode(new Uint8Array(plain));
  return text === undefined ? err({ code: "bad_utf8", message: "opened message is not UTF-8" }) : ok(text);
}
