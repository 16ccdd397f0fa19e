// Untrusted text → typed packets. The only place in meshmeet where network JSON is parsed.
//
// Written by hand rather than with a schema library: these checks sit on the relay's hot path
// (every frame), they must follow the exact accept/reject rules of keks-meet's serde server (bare "ping",
// `{"join":{}}`, integer-only ids …), and common/ stays dependency-free so it runs anywhere.
// Unknown payload fields are ignored (serde and keks-meet do the same); wrong types are errors
// that say which field was wrong.

import { base64ToBytes } from "../crypto/encoding.js";
import { P256_PUBLIC_KEY_BYTES, P256_SIGNATURE_BYTES } from "../crypto/ecdsa-p256.js";
import { SESSION_KEY_BYTES, SESSION_PROOF_BYTES } from "../crypto/session-claim.js";
import { FINGERPRINT_PATTERN, MAX_FINGERPRINTS } from "./dtls-fingerprints.js";
import { err, ok, type Result } from "../result.js";
import type {
  ChatContent,
  ClientboundPacket,
  ClientId,
  IceCandidateInfo,
  IdentityFields,
  ProvideInfo,
  RelayEnvelope,
  RelayErrorCode,
  RelayMessage,
  RelayOrder,
  RoomHash,
  SessionClaimFields,
  ServerboundPacket,
} from "./packets.js";
import { MAX_DISPLAY_PIXELS, MAX_TURN_URLS, MIN_DISPLAY_PIXELS } from "./packets.js";

export type WireErrorCode =
  | "not_json" // the text is not JSON
  | "not_one_key" // not an object with exactly one key
  | "unknown_type" // one key, but not a packet we know
  | "bad_field"; // a known packet whose payload has a missing or wrongly typed field

export interface WireError {
  readonly code: WireErrorCode;
  /** Human-readable, names the offending packet and field; never echoes field contents. */
  readonly message: string;
}

type JsonObject = { readonly [key: string]: unknown };

const ROOM_HASH = /^[0-9a-f]{64}$/;
/**
 * Resource ids are UUIDs (tracks), `Math.random()` strings (keks-meet files) or short names
 * (rift's `file`, `p8080`); 256 characters leaves room for any of those and stops a peer from
 * making us key maps and DOM attributes by megabyte-long strings.
 */
export const MAX_RESOURCE_ID_CHARS = 256;

/** RFC 6838 caps type and subtype at 127 characters each. */
export const MAX_MIME_CHARS = 255;

function bad(message: string): { ok: false; error: WireError } {
  return err({ code: "bad_field", message });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isClientId(value: unknown): value is ClientId {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function parseJson(text: string): Result<unknown, WireError> {
  try {
    return ok(JSON.parse(text) as unknown);
  } catch {
    // JSON.parse's message quotes the input; ours must not echo peer data into logs.
    return err({ code: "not_json", message: "not valid JSON" });
  }
}

/** Splits `{"key": payload}`; anything else is `not_one_key`. */
function singleKey(value: unknown): Result<{ key: string; payload: unknown }, WireError> {
  if (!isObject(value)) return err({ code: "not_one_key", message: "packet must be a JSON object with one key" });
  const keys = Object.keys(value);
  if (keys.length !== 1) {
    return err({ code: "not_one_key", message: `packet must have exactly one key, found ${keys.length}` });
  }
  const key = keys[0] as string;
  return ok({ key, payload: value[key] });
}

function unknownType(key: string): { ok: false; error: WireError } {
  // The key is attacker-chosen: report its length, not its text.
  return err({ code: "unknown_type", message: `unknown packet type (key of ${key.length} characters)` });
}

// ---------------------------------------------------------------------------------------------
// Client → relay

function parseRoomHash(value: unknown, where: string): Result<RoomHash, WireError> {
  if (typeof value !== "string" || !ROOM_HASH.test(value)) {
    return bad(`${where} must be a room hash (64 lowercase hex characters)`);
  }
  return ok(value);
}

export function parseServerbound(text: string): Result<ServerboundPacket, WireError> {
  const json = parseJson(text);
  if (!json.ok) return json;
  if (json.value === "ping") return ok({ type: "ping" });
  const split = singleKey(json.value);
  if (!split.ok) return split;
  const { key, payload } = split.value;
  switch (key) {
    case "ping":
      return payload === null ? ok({ type: "ping" }) : bad("ping must be null");
    case "join": {
      if (!isObject(payload)) return bad("join must be an object");
      if (payload.hash === undefined || payload.hash === null) return ok({ type: "join", hash: null });
      const hash = parseRoomHash(payload.hash, "join.hash");
      return hash.ok ? ok({ type: "join", hash: hash.value }) : hash;
    }
    case "relay": {
      if (!isObject(payload)) return bad("relay must be an object");
      const { recipient, message } = payload;
      if (typeof message !== "string") return bad("relay.message must be a string");
      if (recipient === undefined || recipient === null) return ok({ type: "relay", recipient: null, message });
      if (!isClientId(recipient)) return bad("relay.recipient must be a non-negative integer or null");
      return ok({ type: "relay", recipient, message });
    }
    case "watch_rooms": {
      if (!Array.isArray(payload)) return bad("watch_rooms must be an array of room hashes");
      const hashes: RoomHash[] = [];
      for (const [index, item] of payload.entries()) {
        const hash = parseRoomHash(item, `watch_rooms[${index}]`);
        if (!hash.ok) return hash;
        hashes.push(hash.value);
      }
      return ok({ type: "watch_rooms", hashes });
    }
    default:
      return unknownType(key);
  }
}

// ---------------------------------------------------------------------------------------------
// Relay → client

const RELAY_ERROR_CODES: ReadonlySet<string> = new Set<RelayErrorCode>([
  "malformed",
  "binary_frame",
  "frame_too_large",
  "rate_limited",
  "not_in_room",
  "unknown_recipient",
  "room_full",
  "too_many_watches",
]);

/**
 * Unknown packet types come back as `unknown_type`; keks-meet ignores those and so
 * should callers, quietly: a newer relay may send packets this client does not know yet.
 */
export function parseClientbound(text: string): Result<ClientboundPacket, WireError> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const split = singleKey(json.value);
  if (!split.ok) return split;
  const { key, payload } = split.value;
  if (key === "ping") return unknownType(key); // some servers echo pings; nothing to do
  if (!isObject(payload)) {
    return key === "init" ||
      key === "client_join" ||
      key === "client_leave" ||
      key === "message" ||
      key === "room_info" ||
      key === "error" ||
      key === "turn_credentials"
      ? bad(`${key} must be an object`)
      : unknownType(key);
  }
  switch (key) {
    case "init": {
      const { your_id: yourId, version } = payload;
      if (!isClientId(yourId)) return bad("init.your_id must be a non-negative integer");
      if (typeof version !== "string") return bad("init.version must be a string");
      return ok({ type: "init", yourId, version });
    }
    case "client_join": {
      if (!isClientId(payload.id)) return bad("client_join.id must be a non-negative integer");
      return ok({ type: "client_join", id: payload.id });
    }
    case "client_leave": {
      if (!isClientId(payload.id)) return bad("client_leave.id must be a non-negative integer");
      const { clean } = payload;
      if (clean === undefined || clean === null) return ok({ type: "client_leave", id: payload.id });
      if (typeof clean !== "boolean") return bad("client_leave.clean must be a boolean");
      return ok({ type: "client_leave", id: payload.id, clean });
    }
    case "message": {
      const { sender, message } = payload;
      if (!isClientId(sender)) return bad("message.sender must be a non-negative integer");
      if (typeof message !== "string") return bad("message.message must be a string");
      return ok({ type: "message", sender, message });
    }
    case "room_info": {
      const { hash, user_count: userCount } = payload;
      if (typeof hash !== "string") return bad("room_info.hash must be a string");
      if (!isClientId(userCount)) return bad("room_info.user_count must be a non-negative integer");
      return ok({ type: "room_info", hash, userCount });
    }
    case "error": {
      const { code, message } = payload;
      if (typeof code !== "string" || !RELAY_ERROR_CODES.has(code)) return bad("error.code is not a known code");
      if (typeof message !== "string") return bad("error.message must be a string");
      return ok({ type: "error", code: code as RelayErrorCode, message });
    }
    case "turn_credentials": {
      const { urls, username, credential, expires_at: expiresAt } = payload;
      const isTurnUrl = (url: unknown): url is string => typeof url === "string" && /^turns?:/.test(url) && url.length <= 512;
      if (!Array.isArray(urls) || urls.length === 0 || urls.length > MAX_TURN_URLS || !urls.every(isTurnUrl)) {
        return bad(`turn_credentials.urls must be 1 to ${MAX_TURN_URLS} turn: or turns: URLs`);
      }
      if (typeof username !== "string" || username.length > 512) return bad("turn_credentials.username must be a string");
      if (typeof credential !== "string" || credential.length > 512) return bad("turn_credentials.credential must be a string");
      if (!isClientId(expiresAt)) return bad("turn_credentials.expires_at must be a non-negative integer (unix seconds)");
      return ok({ type: "turn_credentials", urls: [...urls], username, credential, expiresAt });
    }
    default:
      return unknownType(key);
  }
}

// ---------------------------------------------------------------------------------------------
// Peer → peer (the opened plaintext of a relayed message)

function optionalString(value: unknown, where: string): Result<string | undefined, WireError> {
  if (value === undefined || value === null) return ok(undefined);
  return typeof value === "string" ? ok(value) : bad(`${where} must be a string or null`);
}

function resourceId(value: unknown, where: string): Result<string, WireError> {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_RESOURCE_ID_CHARS) {
    return bad(`${where} must be a string of 1 to ${MAX_RESOURCE_ID_CHARS} characters`);
  }
  return ok(value);
}

function idPayload(payload: unknown, key: string): Result<string, WireError> {
  if (!isObject(payload)) return bad(`${key} must be an object`);
  return resourceId(payload.id, `${key}.id`);
}

function parseProvide(payload: unknown): Result<ProvideInfo, WireError> {
  if (!isObject(payload)) return bad("provide must be an object");
  const id = resourceId(payload.id, "provide.id");
  if (!id.ok) return id;
  if (typeof payload.kind !== "string") return bad("provide.kind must be a string");
  const label = optionalString(payload.label, "provide.label");
  if (!label.ok) return label;
  const trackKind = payload.track_kind;
  if (trackKind !== undefined && trackKind !== null && trackKind !== "audio" && trackKind !== "video") {
    return bad('provide.track_kind must be "audio", "video" or null');
  }
  const size = payload.size;
  if (size !== undefined && size !== null && !(typeof size === "number" && Number.isSafeInteger(size) && size >= 0)) {
    return bad("provide.size must be a non-negative integer or null");
  }
  const mime = payload.mime;
  if (mime !== undefined && mime !== null && (typeof mime !== "string" || mime.length > MAX_MIME_CHARS)) {
    return bad(`provide.mime must be a string of at most ${MAX_MIME_CHARS} characters`);
  }
  const duration = payload.duration;
  // Up to a week: longer is no film, and the UI formats it.
  if (duration !== undefined && duration !== null && !(typeof duration === "number" && Number.isFinite(duration) && duration >= 0 && duration <= 604_800)) {
    return bad("provide.duration must be a number of seconds (0 to a week) or null");
  }
  const info: { -readonly [K in keyof ProvideInfo]: ProvideInfo[K] } = { id: id.value, kind: payload.kind };
  if (typeof duration === "number") info.durationS = duration;
  if (typeof mime === "string") info.mimeType = mime;
  if (trackKind === "audio" || trackKind === "video") info.trackKind = trackKind;
  if (label.value !== undefined) info.label = label.value;
  if (typeof size === "number") info.size = size;
  return ok(info);
}

function parseChat(payload: unknown): Result<ChatContent, WireError> {
  if (!isObject(payload)) return bad("chat must be an object");
  const { text, image } = payload;
  const hasText = text !== undefined && text !== null;
  const hasImage = image !== undefined && image !== null;
  if (hasText === hasImage) return bad("chat must have exactly one of text or image");
  if (hasText) return typeof text === "string" ? ok({ text }) : bad("chat.text must be a string");
  return typeof image === "string" ? ok({ image }) : bad("chat.image must be a string");
}

function parseIceCandidate(payload: unknown): Result<IceCandidateInfo, WireError> {
  if (!isObject(payload)) return bad("ice_candidate must be an object");
  const { candidate, sdpMid, sdpMLineIndex, usernameFragment } = payload;
  if (typeof candidate !== "string") return bad("ice_candidate.candidate must be a string");
  const mid = optionalString(sdpMid, "ice_candidate.sdpMid");
  if (!mid.ok) return mid;
  const ufrag = optionalString(usernameFragment, "ice_candidate.usernameFragment");
  if (!ufrag.ok) return ufrag;
  if (sdpMLineIndex !== undefined && sdpMLineIndex !== null && !isClientId(sdpMLineIndex)) {
    return bad("ice_candidate.sdpMLineIndex must be a non-negative integer or null");
  }
  return ok({
    candidate,
    sdpMid: mid.value ?? null,
    sdpMLineIndex: typeof sdpMLineIndex === "number" ? sdpMLineIndex : null,
    usernameFragment: ufrag.value ?? null,
  });
}

const absent = (value: unknown): boolean => value === undefined || value === null;

// Only the shapes here; whether a proof holds for its sender is the Room's check.
function parseSessionClaim(payload: JsonObject): Result<SessionClaimFields | undefined, WireError> {
  const { session_key: key, session_proof: proof } = payload;
  if (absent(key) && absent(proof)) return ok(undefined);
  if (typeof key !== "string" || base64ToBytes(key)?.length !== SESSION_KEY_BYTES) {
    return bad(`identify.session_key must be base64 of ${SESSION_KEY_BYTES} bytes`);
  }
  if (typeof proof !== "string" || base64ToBytes(proof)?.length !== SESSION_PROOF_BYTES) {
    return bad(`identify.session_proof must be base64 of ${SESSION_PROOF_BYTES} bytes`);
  }
  return ok({ key, proof });
}

function parseIdentity(payload: JsonObject): Result<IdentityFields | undefined, WireError> {
  const { identity_key: key, identity_fingerprints: fingerprints, identity_proof: proof } = payload;
  if (absent(key) && absent(fingerprints) && absent(proof)) return ok(undefined);
  if (typeof key !== "string" || base64ToBytes(key)?.length !== P256_PUBLIC_KEY_BYTES) {
    return bad(`identify.identity_key must be base64 of ${P256_PUBLIC_KEY_BYTES} bytes`);
  }
  if (absent(fingerprints) && absent(proof)) return ok({ key });
  if (typeof proof !== "string" || base64ToBytes(proof)?.length !== P256_SIGNATURE_BYTES) {
    return bad(`identify.identity_proof must be base64 of ${P256_SIGNATURE_BYTES} bytes`);
  }
  if (
    !Array.isArray(fingerprints) ||
    fingerprints.length === 0 ||
    fingerprints.length > MAX_FINGERPRINTS ||
    !fingerprints.every((entry): entry is string => typeof entry === "string" && FINGERPRINT_PATTERN.test(entry))
  ) {
    return bad(`identify.identity_fingerprints must be 1 to ${MAX_FINGERPRINTS} fingerprints ("sha-256 AB:CD:…")`);
  }
  return ok({ key, binding: { fingerprints, proof } });
}

function parseRelayEntry(key: string, payload: unknown): Result<RelayMessage, WireError> | undefined {
  switch (key) {
    case "identify": {
      if (!isObject(payload)) return bad("identify must be an object");
      const { username } = payload;
      if (typeof username !== "string") return bad("identify.username must be a string");
      const claim = parseSessionClaim(payload);
      if (!claim.ok) return claim;
      const identity = parseIdentity(payload);
      if (!identity.ok) return identity;
      return ok({
        type: "identify",
        username,
        ...(claim.value ? { claim: claim.value } : {}),
        ...(identity.value ? { identity: identity.value } : {}),
      });
    }
    case "chat": {
      const content = parseChat(payload);
      return content.ok ? ok({ type: "chat", content: content.value }) : content;
    }
    case "provide": {
      const info = parseProvide(payload);
      return info.ok ? ok({ type: "provide", info: info.value }) : info;
    }
    case "provide_stop":
    case "request_stop": {
      const id = idPayload(payload, key);
      return id.ok ? ok({ type: key, id: id.value }) : id;
    }
    case "request": {
      const id = idPayload(payload, key);
      if (!id.ok) return id;
      const offset = (payload as JsonObject).offset;
      if (offset === undefined || offset === null) return ok({ type: "request", id: id.value });
      if (!(typeof offset === "number" && Number.isSafeInteger(offset) && offset >= 0)) {
        return bad("request.offset must be a non-negative integer");
      }
      return ok({ type: "request", id: id.value, offset });
    }
    case "offer":
    case "answer":
      return typeof payload === "string" ? ok({ type: key, sdp: payload }) : bad(`${key} must be an SDP string`);
    case "ice_candidate": {
      const candidate = parseIceCandidate(payload);
      return candidate.ok ? ok({ type: "ice_candidate", candidate: candidate.value }) : candidate;
    }
    case "preview": {
      if (!isObject(payload)) return bad("preview must be an object");
      const id = resourceId(payload.id, "preview.id");
      if (!id.ok) return id;
      return typeof payload.data === "string"
        ? ok({ type: "preview", id: id.value, data: payload.data })
        : bad("preview.data must be a string");
    }
    case "display_size": {
      if (!isObject(payload)) return bad("display_size must be an object");
      const id = resourceId(payload.id, "display_size.id");
      if (!id.ok) return id;
      const { width, height } = payload;
      const inBounds = (side: unknown): side is number =>
        typeof side === "number" && Number.isSafeInteger(side) && side >= MIN_DISPLAY_PIXELS && side <= MAX_DISPLAY_PIXELS;
      if (!inBounds(width) || !inBounds(height)) {
        return bad(`display_size.width and .height must be integers from ${MIN_DISPLAY_PIXELS} to ${MAX_DISPLAY_PIXELS} (device pixels)`);
      }
      return ok({ type: "display_size", id: id.value, width, height });
    }
    default:
      return undefined;
  }
}

/**
 * Parses the opened plaintext `{"sender": id, "inner": {...}}`. Several known keys in `inner`
 * are all returned, in the order they appear (a keks-meet web peer may send that); unknown keys
 * are listed, not rejected. One badly typed known key rejects the whole envelope.
 */
export function parseEnvelope(text: string): Result<RelayEnvelope, WireError> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const value = json.value;
  if (!isObject(value)) return bad("envelope must be an object");
  if (!isClientId(value.sender)) return bad("envelope.sender must be a non-negative integer");
  if (!isObject(value.inner)) return bad("envelope.inner must be an object");
  const messages: RelayMessage[] = [];
  const unknownKeys: string[] = [];
  for (const [key, payload] of Object.entries(value.inner)) {
    const entry = parseRelayEntry(key, payload);
    if (entry === undefined) unknownKeys.push(key);
    else if (!entry.ok) return entry;
    else messages.push(entry.value);
  }
  const order = parseOrder(value);
  if (!order.ok) return order;
  return ok({ sender: value.sender, messages, unknownKeys, ...(order.value ? { order: order.value } : {}) });
}

/** A stream id is 12 random bytes in standard base64. */
const STREAM_ID = /^[A-Za-z0-9+/]{16}$/;

/** meshmeet's stamp (RelayOrder): all three keys or none (a keks-meet sender). */
function parseOrder(envelope: JsonObject): Result<RelayOrder | undefined, WireError> {
  const { stream, seq, to } = envelope;
  if (stream === undefined && seq === undefined && to === undefined) return ok(undefined);
  if (typeof stream !== "string" || !STREAM_ID.test(stream)) return bad("envelope.stream must be 16 base64 characters");
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) return bad("envelope.seq must be a positive integer");
  if (to !== null && !isClientId(to)) return bad("envelope.to must be a client id or null");
  return ok({ stream, seq, to });
}
