// The file-transfer protocol on one data channel: its constants, the channel subset we use, and
// the encode/parse of the few text messages. Owns no state and touches no channel; the sender
// and receiver state machines live in file-sender.ts and file-receiver.ts.
//
// Protocol (one RTCDataChannel per request, labelled with the resource id):
//
//   keks-meet base (what keks-meet web and rift speak):
//     sender → receiver   binary messages: the file's bytes, in order, from byte 0
//     sender → receiver   text "end"
//     receiver            closes the channel (rift never does; a sender gives up waiting)
//
//   meshmeet extensions, only when the `request` carried `offset` (even 0), which marks a
//   meshmeet receiver; keks-meet peers never see them:
//     sender → receiver   text {"meshmeet_file":1,"offset":<start>,"size":<size>}   (first message)
//     sender → receiver   binary messages: bytes [start, size)
//     sender → receiver   text {"sha256":"<64 lowercase hex over the WHOLE file, byte 0 to size>"}
//     sender → receiver   text "end"
//     receiver            closes the channel
//   either side → other   text {"cancel":1} just before closing the channel on purpose, so a
//                         cancel is not mistaken for a dropped connection (which would resume)
//
//   Resume: an interrupted receiver keeps its byte count N and SHA-256 state and requests again
//   with offset N. A meshmeet sender hashes [0, N) from its source without sending it and starts
//   at N; its header says so. A sender may start earlier (header offset < N, or no header at all:
//   keks-meet always starts at 0); the receiver drops the bytes it already has. Starting later
//   than N is a protocol error (bytes would be missing).
//
// A binary first message means a keks-meet sender: start 0, no digest, `verified: false`.
// Any other text message is a protocol error, never a crash.

import { err, ok, type Result } from "../../result.js";

// ---------------------------------------------------------------------------------------------
// Constants

/**
 * Largest binary message we send to a meshmeet receiver, always capped by the remote's
 * maxMessageSize (werift 65536, Chromium 262144). Between two Chromium pages 256 KiB messages
 * were the fastest raw loop we measured, and a file transfer does per-message work on both
 * pages (a send, a message event, a hash update, a post to the download worker) that 64 KiB
 * messages quadruple: on a loaded 2-core machine that work is the gap to the raw rate. keks-meet
 * receivers never see it (they get KEKS_CHUNK_BYTES).
 */
export const CHUNK_BYTES = 256 * 1024;

/**
 * Largest binary message we send to a keks-meet receiver (a request without `offset`). keks-meet
 * itself never sends more than 1<<15, citing RFC 8831 and a webrtc-rs interop problem with larger
 * messages; rift is a webrtc-rs receiver, so we stay inside what it is known to take.
 */
export const KEKS_CHUNK_BYTES = 32 * 1024;

/**
 * Pause sending while `bufferedAmount` is above this (measured here: pause above
 * max(4 × chunk, 1 MiB)). Far below Chromium's ~16 MiB send-queue limit, where `send` throws,
 * yet deep enough to keep the SCTP pipe full at loopback rates: raw loops between two Chromium
 * pages ran no faster with 2, 4 or 8 MiB (and slower with 16 MiB).
 */
export const HIGH_WATER_BYTES = 1024 * 1024;

/**
 * `bufferedAmountLowThreshold`: resume when the buffer has drained to this (measured here:
 * max(chunk, 256 KiB)). Refilling from 256 KiB rather than from 0 keeps the pipe from running dry
 * while our next `read` resolves.
 */
export const LOW_WATER_BYTES = 256 * 1024;

/**
 * Largest announced size we accept (2^50 B = 1 PiB), as room.ts does for `provide`: far beyond any
 * real file, yet small enough that every byte offset is an exact integer in a double (< 2^53)
 * and offset + chunk arithmetic can never lose precision.
 */
export const MAX_FILE_BYTES = 2 ** 50;

/**
 * Received bytes waiting for the sink, at most. RTCDataChannel has no receive-side backpressure:
 * messages keep arriving however slow the disk is, so an unbounded queue would hold the rest of
 * the file in memory. 64 MiB is ~2 s at the fastest rates we measured plus a slow disk's stall;
 * past it the transfer fails with a clear reason instead of eating the tab's memory.
 */
export const MAX_PENDING_WRITE_BYTES = 64 * 1024 * 1024;

/**
 * After `end`, how long a sender waits for the receiver to close, measured from the last drop in
 * `bufferedAmount`. rift never closes as a receiver, so without a limit the channel
 * would stay open for ever.
 */
export const FINISH_TIMEOUT_MS = 30_000;

/**
 * How much a sender reads from its source at a time; it sends the block as chunk-sized views.
 * One read per MiB instead of one per chunk: a browser File read is an asynchronous round trip
 * with its own allocation, and 16× fewer of them keeps the reader well ahead of the channel.
 * Also the read size while a resuming sender hashes the part the receiver already has.
 */
export const READ_BLOCK_BYTES = 1024 * 1024;

/**
 * A remote maxMessageSize below this cannot carry even our text messages (~80 B) with room to
 * spare, and no real stack advertises one (RFC 8841's default is 64 KiB): refuse it as broken.
 */
export const MIN_MESSAGE_BYTES = 1024;

/** Our text messages are < 100 characters; a longer text message is not ours and is not parsed. */
export const MAX_CONTROL_CHARS = 256;

export const END_MESSAGE = "end";

/** The header's `meshmeet_file` value: the version of these extensions. */
export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// The channel

/**
 * The subset of RTCDataChannel the transfer uses. Browsers' RTCDataChannel, werift's channel (cast
 * as the engine does) and the tests' fake all fit. Binary messages arrive as ArrayBuffer
 * (browsers with binaryType "arraybuffer"), or as a Node Buffer (werift, which has no binaryType).
 */
export interface TransferChannel {
  readonly readyState: RTCDataChannelState;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType: BinaryType;
  send(data: string | Uint8Array): void;
  close(): void;
  addEventListener(type: "open" | "close" | "bufferedamountlow", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
  removeEventListener(type: "open" | "close" | "bufferedamountlow", listener: () => void): void;
  removeEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
}

/**
 * Largest binary message we send: CHUNK_BYTES (KEKS_CHUNK_BYTES for a keks-meet receiver), never
 * above the remote's maxMessageSize. 0 and Infinity mean "no limit" (SDP max-message-size 0;
 * W3C `RTCSctpTransport.maxMessageSize` reports that as Infinity). Undefined when the remote's
 * limit is too small to be real (< MIN_MESSAGE_BYTES) or not a number.
 */
export function chunkBytesFor(maxMessageSize: number, extended: boolean): number | undefined {
  const preferred = extended ? CHUNK_BYTES : KEKS_CHUNK_BYTES;
  if (maxMessageSize === 0 || maxMessageSize === Infinity) return preferred;
  if (!(maxMessageSize >= MIN_MESSAGE_BYTES)) return undefined; // also rejects NaN
  return Math.min(preferred, Math.floor(maxMessageSize));
}

/** A size we are willing to receive: a safe integer in [0, MAX_FILE_BYTES]. */
export function isAcceptableFileSize(size: unknown): size is number {
  return typeof size === "number" && Number.isSafeInteger(size) && size >= 0 && size <= MAX_FILE_BYTES;
}

// ---------------------------------------------------------------------------------------------
// Failures (codes; the UI words them)

/** Why a sender stopped. */
export type SenderFailureCode =
  | "receiver_cancelled" // the receiver said {"cancel":1}
  | "bad_request" // the request's offset is not a non-negative integer
  | "offset_beyond_size" // the request asked to resume past the end of the file
  | "nothing_to_send" // the request asked to resume at the very end and no digest of the file is known: answering would mean hashing all of it to send nothing
  | "bad_max_message_size" // the remote's maxMessageSize is too small to be real
  | "source_failed" // reading the file failed, or it ended before its size
  | "send_failed" // channel.send threw while the channel was open
  | "channel_closed" // the receiver (or the connection) closed the channel before `end`
  | "hash_failed" // computing the digest broke (its worker died): the receiver could not verify
  | "stalled"; // after `end`, nothing drained for FINISH_TIMEOUT_MS

/** Why a receiver stopped. */
export type ReceiverFailureCode =
  | "sender_cancelled" // the sender said {"cancel":1}
  | "bad_size" // the announced size is not acceptable (isAcceptableFileSize)
  | "bad_resume" // the resume state does not fit the announced size
  | "protocol" // a message the protocol does not allow here (unknown text, late header…)
  | "too_many_bytes" // more bytes than announced
  | "too_few_bytes" // `end` before the announced size
  | "digest_mismatch" // the bytes do not hash to the sender's SHA-256
  | "hash_failed" // computing our digest broke (its worker died): the file cannot be verified
  | "write_backlog" // the sink fell more than MAX_PENDING_WRITE_BYTES behind
  | "sink_failed"; // sink.write or sink.close rejected

export interface TransferFailure<Code extends string> {
  readonly code: Code;
  /** For logs and developers; the UI maps `code` to words. Never echoes peer data. */
  readonly message: string;
}

// ---------------------------------------------------------------------------------------------
// Text messages

export interface TransferHeader {
  /** Byte offset of the first binary byte that follows. */
  readonly offset: number;
  /** Size of the whole file. */
  readonly size: number;
}

export type ControlMessage =
  | ({ readonly type: "header" } & TransferHeader)
  | { readonly type: "digest"; readonly sha256: string }
  | { readonly type: "end" }
  | { readonly type: "cancel" };

/** Sent by either side of an extended transfer just before it closes the channel on purpose. */
export const CANCEL_MESSAGE = '{"cancel":1}';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function encodeHeader(header: TransferHeader): string {
  return `{"meshmeet_file":${PROTOCOL_VERSION},"offset":${header.offset},"size":${header.size}}`;
}

export function encodeDigest(sha256Hex: string): string {
  return `{"sha256":"${sha256Hex}"}`;
}

type JsonObject = { readonly [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isOffset(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function protocolError(message: string): { ok: false; error: TransferFailure<"protocol"> } {
  return err({ code: "protocol", message });
}

/**
 * A text message from the peer → what it means. Parsing is validation: a result, never a throw.
 * This is the one place channel JSON is parsed (as common/wire/parse.ts is for relay packets):
 * the same rules apply — unknown extra keys are ignored, wrong types are errors, and error
 * messages never quote the peer's text.
 */
export function parseControl(text: string): Result<ControlMessage, TransferFailure<"protocol">> {
  if (text === END_MESSAGE) return ok({ type: "end" });
  if (text.length > MAX_CONTROL_CHARS) return protocolError(`unknown text message (${text.length} characters)`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the input; ours must not echo peer data.
    return protocolError("unknown text message (not `end` and not JSON)");
  }
  if (!isObject(value)) return protocolError("unknown text message (JSON, but not an object)");
  if (Object.hasOwn(value, "meshmeet_file")) {
    if (value.meshmeet_file !== PROTOCOL_VERSION) return protocolError("header of an unknown protocol version");
    const { offset, size } = value;
    if (!isOffset(offset) || !isOffset(size)) return protocolError("header offset and size must be non-negative integers");
    if (size > MAX_FILE_BYTES) return protocolError("header size is beyond MAX_FILE_BYTES");
    if (offset > size) return protocolError("header offset is beyond the size");
    return ok({ type: "header", offset, size });
  }
  if (Object.hasOwn(value, "sha256")) {
    const { sha256 } = value;
    if (typeof sha256 !== "string" || !SHA256_HEX.test(sha256)) return protocolError("digest must be 64 lowercase hex characters");
    return ok({ type: "digest", sha256 });
  }
  if (Object.hasOwn(value, "cancel")) return ok({ type: "cancel" });
  return protocolError("unknown text message (JSON without a known key)");
}
