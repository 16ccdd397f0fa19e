// The relay-mode media channel: one ordered, reliable RTCDataChannel per
// viewer that carries nothing but media, so a segment in flight never delays a pause or seek on
// the control channel.
//
//   viewer → sharer   {"t":"get","rid":<u32>,"url":"jfp2p://…"}
//   viewer → sharer   {"t":"cancel","rid":<u32>}
//   sharer → viewer   {"t":"res","rid":<u32>,"status":200,"mime":"…","size":<bytes>,"chunks":<n>}
//                     then n binary frames [u32 rid BE][u32 index BE][payload], index 0 … n−1
//   sharer → viewer   {"t":"err","rid":<u32>,"status":404|502|504,"msg":"…"}
//
// Status 404: unknown URL (an old item); 502: the sharer's Jellyfin failed; 504: it was too slow.
// The channel is ordered, so chunks arrive in index order and a gap is a protocol error rather
// than something to wait for. Parsers never throw and never echo peer data in their messages.

import { err, ok, type Result } from "../result.js";
import { isCount, isOpaqueMediaUrl, isRid, parseJsonObject, type JsonObject } from "./json-message.js";

// ---------------------------------------------------------------------------------------------
// Limits

/** [u32 rid][u32 index] before each payload. */
export const CHUNK_HEADER_BYTES = 8;

/**
 * Payload bytes per binary frame, so that a whole frame (header included) is exactly 64 KiB.
 * Chromium advertises (and enforces) a 256 KiB max message, and other stacks (werift's default,
 * Firefox's older ones) accept 64 KiB; 64 KiB was also within 30% of 256 KiB's loopback
 * throughput, so it is the interop-safe choice.
 */
export const MEDIA_CHUNK_BYTES = 64 * 1024 - CHUNK_HEADER_BYTES;

/**
 * Largest response a viewer accepts. A 4 s segment at the 1080p preset (6 Mbps + audio) is about
 * 3 MB and playlists are a few KB, so 64 MiB covers any sane segment many times over while
 * bounding what a broken or hostile sharer can make a viewer buffer.
 */
export const MAX_MEDIA_RESPONSE_BYTES = 64 * 1024 * 1024;

/** A get, cancel, res or err is well under 1 KiB; 16 KiB refuses junk before JSON.parse. */
export const MAX_TEXT_MESSAGE_BYTES = 16 * 1024;

/** RFC 6838 allows 127 + 1 + 127; real types (video/mp4, application/vnd.apple.mpegurl) are short. */
export const MAX_MIME_CHARS = 128;

/** Enough for a human-readable reason; the sharer truncates longer ones when encoding. */
export const MAX_ERROR_MESSAGE_CHARS = 512;

/**
 * Responses a viewer assembles at once. The sharer answers one request at a time, so one is
 * open in normal operation; a few more leave room for a sharer that overlaps them, and the cap
 * stops a peer from opening thousands of rids.
 */
export const MAX_OPEN_RESPONSES = 8;

/**
 * Announced bytes of all open responses together. The assembler allocates a response's buffer
 * when it begins, so this (two full-size responses) is the most a sharer can make it hold.
 */
export const MAX_ASSEMBLING_BYTES = 2 * MAX_MEDIA_RESPONSE_BYTES;

/** What the sharer says when the type it got from Jellyfin is missing or unusable. */
export const FALLBACK_MIME = "application/octet-stream";

const MIME_CHARS = /^[\x21-\x7e][\x20-\x7e]*$/;

// ---------------------------------------------------------------------------------------------
// Types

export interface GetMessage {
  readonly t: "get";
  readonly rid: number;
  readonly url: string;
}

export interface CancelMessage {
  readonly t: "cancel";
  readonly rid: number;
}

export interface ResponseHead {
  readonly rid: number;
  readonly status: 200;
  readonly mime: string;
  readonly size: number;
  readonly chunks: number;
}

export interface ResponseHeadMessage extends ResponseHead {
  readonly t: "res";
}

export type ErrorStatus = 404 | 502 | 504;

export interface ErrorReply {
  readonly rid: number;
  readonly status: ErrorStatus;
  readonly msg: string;
}

export interface ErrorMessage extends ErrorReply {
  readonly t: "err";
}

export type MediaText = GetMessage | CancelMessage | ResponseHeadMessage | ErrorMessage;

export interface MediaChunk {
  readonly rid: number;
  readonly index: number;
  /** A view into the received frame, not a copy. */
  readonly payload: Uint8Array;
}

export type ProtocolErrorCode =
  | "too_large" // a text message over MAX_TEXT_MESSAGE_BYTES
  | "not_json" // text that is not a JSON object
  | "bad_message" // a JSON message with an unknown `t` or a missing, mistyped or out-of-range field
  | "bad_chunk" // a binary frame too short or with a payload over MEDIA_CHUNK_BYTES
  | "over_limit" // a response larger than MAX_MEDIA_RESPONSE_BYTES, or too many or too big at once
  | "inconsistent" // a head whose size and chunk count cannot both be true
  | "duplicate_rid" // a head for a rid already being assembled
  | "unknown_rid" // a chunk for a rid with no open response
  | "out_of_order" // a chunk whose index is not the next one
  | "too_many_chunks" // a chunk past the announced count
  | "size_mismatch"; // more bytes than announced, or fewer once the last chunk is in

export interface ProtocolError {
  readonly code: ProtocolErrorCode;
  /** Says what was wrong; never contains peer data. */
  readonly message: string;
}

function fail(code: ProtocolErrorCode, message: string): { readonly ok: false; readonly error: ProtocolError } {
  return err({ code, message });
}

// ---------------------------------------------------------------------------------------------
// Text messages

export function encodeGet(rid: number, url: string): string {
  return JSON.stringify({ t: "get", rid, url });
}

export function encodeCancel(rid: number): string {
  return JSON.stringify({ t: "cancel", rid });
}

/**
 * The mime comes from the sharer's Jellyfin; one the viewer would refuse (and then drop the
 * channel over) is replaced by FALLBACK_MIME, since players go by the request, not the type.
 */
export function encodeResponseHead(head: ResponseHead): string {
  const mime = isMime(head.mime) ? head.mime : FALLBACK_MIME;
  return JSON.stringify({ t: "res", rid: head.rid, status: head.status, mime, size: head.size, chunks: head.chunks });
}

/** Long reasons (a Jellyfin error text) are cut so the viewer's bound always holds. */
export function encodeError(reply: ErrorReply): string {
  return JSON.stringify({ t: "err", rid: reply.rid, status: reply.status, msg: reply.msg.slice(0, MAX_ERROR_MESSAGE_CHARS) });
}

function isMime(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_MIME_CHARS && MIME_CHARS.test(value);
}

function isErrorStatus(value: unknown): value is ErrorStatus {
  return value === 404 || value === 502 || value === 504;
}

export function parseMediaText(text: string): Result<MediaText, ProtocolError> {
  const parsed = parseJsonObject(text, MAX_TEXT_MESSAGE_BYTES);
  if (!parsed.ok) {
    return parsed.error === "too_large"
      ? fail("too_large", `text message over ${MAX_TEXT_MESSAGE_BYTES} bytes`)
      : fail("not_json", "text message is not a JSON object");
  }
  const m = parsed.value;
  if (!isRid(m["rid"])) return fail("bad_message", "rid must be an integer in [0, 2^32-1]");
  const rid = m["rid"];
  switch (m["t"]) {
    case "get":
      if (!isOpaqueMediaUrl(m["url"])) return fail("bad_message", "get: url must be a jfp2p:// URL of at most 512 characters");
      return ok({ t: "get", rid, url: m["url"] });
    case "cancel":
      return ok({ t: "cancel", rid });
    case "res":
      return parseHead(m, rid);
    case "err":
      if (!isErrorStatus(m["status"])) return fail("bad_message", "err: status must be 404, 502 or 504");
      if (typeof m["msg"] !== "string" || m["msg"].length > MAX_ERROR_MESSAGE_CHARS) {
        return fail("bad_message", `err: msg must be a string of at most ${MAX_ERROR_MESSAGE_CHARS} characters`);
      }
      return ok({ t: "err", rid, status: m["status"], msg: m["msg"] });
    default:
      return fail("bad_message", "unknown message type");
  }
}

function parseHead(m: JsonObject, rid: number): Result<ResponseHeadMessage, ProtocolError> {
  if (m["status"] !== 200) return fail("bad_message", "res: status must be 200");
  if (!isMime(m["mime"])) return fail("bad_message", `res: mime must be printable ASCII of at most ${MAX_MIME_CHARS} characters`);
  if (!isCount(m["size"])) return fail("bad_message", "res: size must be a non-negative integer");
  if (!isCount(m["chunks"])) return fail("bad_message", "res: chunks must be a non-negative integer");
  const head: ResponseHeadMessage = { t: "res", rid, status: 200, mime: m["mime"], size: m["size"], chunks: m["chunks"] };
  const checked = checkHead(head);
  return checked.ok ? ok(head) : checked;
}

/** Whether a head's numbers can describe a real response of ours. */
function checkHead(head: ResponseHead): Result<void, ProtocolError> {
  if (head.size > MAX_MEDIA_RESPONSE_BYTES) return fail("over_limit", `response over ${MAX_MEDIA_RESPONSE_BYTES} bytes`);
  // Every chunk carries 1 … MEDIA_CHUNK_BYTES bytes, and an empty response has no chunks.
  if ((head.size === 0) !== (head.chunks === 0)) return fail("inconsistent", "res: an empty response must have 0 chunks and only it");
  if (head.chunks > head.size) return fail("inconsistent", "res: more chunks than bytes");
  if (head.chunks < Math.ceil(head.size / MEDIA_CHUNK_BYTES)) return fail("inconsistent", "res: too few chunks for the size");
  return ok(undefined);
}

// ---------------------------------------------------------------------------------------------
// Binary chunks

export function encodeChunk(rid: number, index: number, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const frame = new Uint8Array(CHUNK_HEADER_BYTES + payload.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint32(0, rid, false);
  view.setUint32(4, index, false);
  frame.set(payload, CHUNK_HEADER_BYTES);
  return frame;
}

export function parseChunk(bytes: Uint8Array): Result<MediaChunk, ProtocolError> {
  if (bytes.byteLength < CHUNK_HEADER_BYTES) return fail("bad_chunk", "binary frame shorter than its 8-byte header");
  if (bytes.byteLength - CHUNK_HEADER_BYTES > MEDIA_CHUNK_BYTES) {
    return fail("bad_chunk", `chunk payload over ${MEDIA_CHUNK_BYTES} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return ok({ rid: view.getUint32(0, false), index: view.getUint32(4, false), payload: bytes.subarray(CHUNK_HEADER_BYTES) });
}

/**
 * Views (no copies) of at most `chunkPayloadBytes` each, covering `bytes` in order; none for an
 * empty input. `chunkPayloadBytes` is ours, not a peer's: a non-positive one is a bug and throws.
 */
export function splitIntoChunks(bytes: Uint8Array, chunkPayloadBytes: number): Uint8Array[] {
  if (!Number.isSafeInteger(chunkPayloadBytes) || chunkPayloadBytes <= 0) {
    throw new RangeError("chunkPayloadBytes must be a positive integer");
  }
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < bytes.byteLength; start += chunkPayloadBytes) {
    chunks.push(bytes.subarray(start, Math.min(start + chunkPayloadBytes, bytes.byteLength)));
  }
  return chunks;
}

// ---------------------------------------------------------------------------------------------
// Reassembly (viewer)

interface OpenResponse {
  readonly chunks: number;
  readonly buffer: Uint8Array<ArrayBuffer>;
  next: number;
  written: number;
}

/**
 * Rebuilds responses from a head and its chunks. The buffer is allocated at `begin` from the
 * announced (and capped) size and chunks are copied in, so memory never depends on how many
 * frames a peer sends. Any error forgets that response: it cannot complete any more.
 */
export class ResponseAssembler {
  private readonly open = new Map<number, OpenResponse>();
  private reserved = 0;

  /** Open responses (for tests and diagnostics). */
  get openCount(): number {
    return this.open.size;
  }

  /** Starts a response. An empty one (0 chunks) is complete at once and its buffer returned. */
  begin(head: ResponseHead): Result<ArrayBuffer | undefined, ProtocolError> {
    if (!isRid(head.rid) || !isCount(head.size) || !isCount(head.chunks)) return fail("bad_message", "res: malformed head");
    const checked = checkHead(head);
    if (!checked.ok) return checked;
    if (this.open.has(head.rid)) return fail("duplicate_rid", "res: this rid is already being received");
    if (head.chunks === 0) return ok(new ArrayBuffer(0));
    if (this.open.size >= MAX_OPEN_RESPONSES) return fail("over_limit", `more than ${MAX_OPEN_RESPONSES} responses at once`);
    if (this.reserved + head.size > MAX_ASSEMBLING_BYTES) return fail("over_limit", `more than ${MAX_ASSEMBLING_BYTES} bytes in flight`);
    this.open.set(head.rid, { chunks: head.chunks, buffer: new Uint8Array(head.size), next: 0, written: 0 });
    this.reserved += head.size;
    return ok(undefined);
  }

  /** Adds the next chunk; the whole body once the last one is in, otherwise `undefined`. */
  add(chunk: MediaChunk): Result<ArrayBuffer | undefined, ProtocolError> {
    const response = this.open.get(chunk.rid);
    if (!response) return fail("unknown_rid", "chunk for a response that is not open");
    if (chunk.index >= response.chunks) return this.drop(chunk.rid, "too_many_chunks", "chunk past the announced count");
    if (chunk.index !== response.next) return this.drop(chunk.rid, "out_of_order", "chunk out of order");
    if (response.written + chunk.payload.byteLength > response.buffer.byteLength) {
      return this.drop(chunk.rid, "size_mismatch", "more bytes than announced");
    }
    response.buffer.set(chunk.payload, response.written);
    response.written += chunk.payload.byteLength;
    response.next++;
    if (response.next < response.chunks) return ok(undefined);
    if (response.written !== response.buffer.byteLength) return this.drop(chunk.rid, "size_mismatch", "fewer bytes than announced");
    this.forget(chunk.rid);
    return ok(response.buffer.buffer);
  }

  /** Forgets a response (the player gave up); its late chunks are then `unknown_rid`. */
  cancel(rid: number): void {
    this.forget(rid);
  }

  private drop(rid: number, code: ProtocolErrorCode, message: string): { readonly ok: false; readonly error: ProtocolError } {
    this.forget(rid);
    return fail(code, message);
  }

  private forget(rid: number): void {
    const response = this.open.get(rid);
    if (!response) return;
    this.open.delete(rid);
    this.reserved -= response.buffer.byteLength;
  }
}
