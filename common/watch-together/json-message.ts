// Shared checks for the watch-together JSON messages (media and sync channels). Both channels
// carry peer-controlled text, so every field is checked for type and bound before use, and no
// error message quotes peer data (errors end up in logs and, on the sharer, in replies).

import { err, ok, type Result } from "../result.js";

export type JsonObject = { readonly [key: string]: unknown };

/** Largest rid: rids travel as u32 in binary chunk headers, so the text side must agree. */
export const MAX_RID = 0xffff_ffff;

/**
 * Opaque media URLs are minted by the sharer as `jfp2p://<share uuid>/<counter>` (about 50
 * characters). 512 leaves room for other share ids while keeping a hostile URL from becoming a
 * megabyte-long map key.
 */
export const MAX_OPAQUE_URL_CHARS = 512;
export const OPAQUE_URL_PREFIX = "jfp2p://";

/** Printable ASCII without space: what an opaque URL minted by us consists of. */
const OPAQUE_URL_CHARS = /^[\x21-\x7e]+$/;

/**
 * UTF-8 length of `text`, or `undefined` once it is known to exceed `limit`. Every UTF-16 code
 * unit takes at least one UTF-8 byte, so an over-long string is refused without encoding it.
 */
export function utf8LengthWithin(text: string, limit: number): number | undefined {
  if (text.length > limit) return undefined;
  const bytes = new TextEncoder().encode(text).byteLength;
  return bytes > limit ? undefined : bytes;
}

export type JsonMessageProblem = "too_large" | "not_json" | "not_object";

/** Parses a JSON object of at most `maxBytes` UTF-8 bytes; arrays and primitives are refused. */
export function parseJsonObject(text: string, maxBytes: number): Result<JsonObject, JsonMessageProblem> {
  if (utf8LengthWithin(text, maxBytes) === undefined) return err("too_large");
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    // JSON.parse's message quotes the input; ours must not echo peer data.
    return err("not_json");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return err("not_object");
  return ok(value as JsonObject);
}

export function isRid(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && value <= MAX_RID;
}

/** A safe integer ≥ 0 (epochs, sequence numbers, sizes). */
export function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

export function isNonNegativeFinite(value: unknown): value is number {
  return isFiniteNumber(value) && value >= 0;
}

export function isBoundedString(value: unknown, maxChars: number): value is string {
  return typeof value === "string" && value.length <= maxChars;
}

/** An opaque media URL as the sharer mints them: our scheme, bounded, no spaces or controls. */
export function isOpaqueMediaUrl(value: unknown): value is string {
  return (
    typeof value === "string" &&
    value.length <= MAX_OPAQUE_URL_CHARS &&
    value.startsWith(OPAQUE_URL_PREFIX) &&
    value.length > OPAQUE_URL_PREFIX.length &&
    OPAQUE_URL_CHARS.test(value)
  );
}
