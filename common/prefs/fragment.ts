// The room URL fragment: `#<secret>?<key>=<value>&…`, parsed without keks-meet's
// bugs: we split on the first literal `?` *before* percent-decoding (so an encoded `%3F` in a
// name stays part of the secret), and a stray `%` that is not an escape is kept as a literal
// instead of throwing. Links made by keks-meet (`#My Room#abc`, browser-encoded) mean the same
// secret here as there.

import { err, ok, type Result } from "../result.js";

export interface RoomFragment {
  /** Never empty. */
  readonly secret: string;
  /** Raw `key=value` pairs in order, decoded; a key without `=` has value "". */
  readonly params: ReadonlyArray<readonly [string, string]>;
}

export type FragmentError = { readonly code: "empty_secret"; readonly message: string };

/** decodeURIComponent that never throws: invalid escapes stay as written. */
export function safeDecode(text: string): string {
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      // A run of escapes that is not valid UTF-8 (e.g. `%ff`): keep it literally.
      return run;
    }
  });
}

/** `hash` is `location.hash`, with or without its leading `#`. */
export function parseRoomFragment(hash: string): Result<RoomFragment, FragmentError> {
  const raw = hash.startsWith("#") ? hash.slice(1) : hash;
  const question = raw.indexOf("?");
  const secret = safeDecode(question === -1 ? raw : raw.slice(0, question));
  if (secret.length === 0) {
    return err({ code: "empty_secret", message: "The link has no room secret after “#”." });
  }
  const query = question === -1 ? "" : raw.slice(question + 1);
  const params: Array<readonly [string, string]> = [];
  for (const piece of query.split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const key = safeDecode(eq === -1 ? piece : piece.slice(0, eq));
    const value = safeDecode(eq === -1 ? "" : piece.slice(eq + 1));
    params.push([key, value]);
  }
  return ok({ secret, params });
}

/** Builds `#<secret>?k=v…` so that parseRoomFragment gives back exactly `secret` and `params`. */
export function formatRoomFragment(secret: string, params: ReadonlyArray<readonly [string, string]> = []): string {
  // Encode only what would change the parse: `%` (escapes), `?` (params), and characters the
  // URL parser would rewrite anyway; keep `#` and most punctuation readable, as keks-meet links are.
  const encodeSecret = (text: string) => encodeURIComponent(text).replace(/%23/g, "#");
  const query = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  return `#${encodeSecret(secret)}${query ? `?${query}` : ""}`;
}

/** 128 random bits as 22 URL-safe characters: the secret of a new meeting. */
export function randomRoomSecret(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
