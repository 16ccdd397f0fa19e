// STUN (RFC 8489) codec for the one exchange the relay's STUN server takes part in: a Binding
// request in, a Binding success response carrying XOR-MAPPED-ADDRESS out. Pure functions over
// bytes. Every datagram is untrusted, so bad input comes back as a typed drop reason, never as an
// exception: the server's only answer to anything odd is silence.
//
// Hand-written rather than taken from npm: the package `stun` (2.1.0, last published 2019) is
// unmaintained and pulls ten dependencies, among them ip@1 and parse-url@5, which have published
// security advisories. We need Binding requests and success responses only, about a hundred lines.

import { isIPv4, isIPv6 } from "node:net";
// A namespace import, not `import { crc32 }`: a named import of an export that Node lacks fails
// when the module is linked, before any check of ours could run.
import * as zlib from "node:zlib";

export const HEADER_BYTES = 20;
export const MAGIC_COOKIE = 0x2112a442;
export const TRANSACTION_ID_BYTES = 12;

/** Message types: method and class folded together (RFC 8489 §5). */
export const BINDING_REQUEST = 0x0001;
export const BINDING_SUCCESS = 0x0101;

export const AttributeType = {
  username: 0x0006,
  messageIntegrity: 0x0008,
  realm: 0x0014,
  nonce: 0x0015,
  messageIntegritySha256: 0x001c,
  passwordAlgorithm: 0x001d,
  userhash: 0x001e,
  xorMappedAddress: 0x0020,
  /** ICE (RFC 8445). */
  priority: 0x0024,
  /** ICE (RFC 8445). */
  useCandidate: 0x0025,
  fingerprint: 0x8028,
} as const;

/**
 * Comprehension-required types (below 0x8000) that a Binding request may carry and that we know
 * well enough to ignore; any other type below 0x8000 makes the request one we do not understand.
 * Ignoring each is right: the server does no authentication (USERNAME, USERHASH, REALM, NONCE,
 * PASSWORD-ALGORITHM and both MESSAGE-INTEGRITYs mean nothing without credentials, and the answer,
 * the sender's own address, is no secret), and ICE's PRIORITY and USE-CANDIDATE matter only
 * between peers. Types from 0x8000 up are comprehension-optional and are ignored by definition.
 */
const KNOWN_REQUIRED_ATTRIBUTES: ReadonlySet<number> = new Set([
  AttributeType.username,
  AttributeType.messageIntegrity,
  AttributeType.realm,
  AttributeType.nonce,
  AttributeType.messageIntegritySha256,
  AttributeType.passwordAlgorithm,
  AttributeType.userhash,
  AttributeType.priority,
  AttributeType.useCandidate,
]);

/** FINGERPRINT is the CRC-32 XOR "STUN", so it differs from the CRC another protocol might carry. */
const FINGERPRINT_XOR = 0x5354554e;
const FINGERPRINT_BYTES = 8;
const ATTRIBUTE_HEADER_BYTES = 4;

export type StunDropReason =
  /** Shorter than the 20-byte header. */
  | "too_short"
  /** The two top bits of the type are set or the magic cookie is wrong: not (RFC 5389+) STUN. */
  | "not_stun"
  /** The length field is not a multiple of 4 or does not match the datagram. */
  | "bad_length"
  /** An attribute runs past the end of the message. */
  | "bad_attribute"
  /** FINGERPRINT is wrong, has the wrong size, or is not the last attribute. */
  | "bad_fingerprint"
  /** Well-formed STUN, but not a Binding request (another method, or not the request class). */
  | "not_binding_request"
  /** A comprehension-required attribute we do not know. */
  | "unknown_attribute";

export interface StunAttribute {
  readonly type: number;
  /** The value without padding; a view into the datagram. */
  readonly value: Uint8Array;
}

export interface StunMessage {
  readonly type: number;
  readonly transactionId: Buffer;
  readonly attributes: readonly StunAttribute[];
  readonly hasFingerprint: boolean;
}

export type StunReadResult = { readonly ok: true; readonly message: StunMessage } | { readonly ok: false; readonly reason: StunDropReason };

export type BindingRequestResult =
  | { readonly kind: "binding_request"; readonly transactionId: Buffer; readonly hasFingerprint: boolean }
  | { readonly kind: "drop"; readonly reason: StunDropReason };

/** An IP address as network-order bytes (a plain Uint8Array): 4 for IPv4, 16 for IPv6. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

export interface TransportAddress {
  readonly ip: IpAddress;
  readonly port: number;
}

/** Table-driven CRC-32 (IEEE 802.3, reflected, as zlib computes it). */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, index) => {
  let crc = index;
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  return crc >>> 0;
});

export function crc32Portable(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * zlib.crc32 where Node has it, the table above otherwise: it exists only from Node 20.15 and
 * 22.2, and package.json promises any Node 20.
 */
export const crc32: (data: Uint8Array) => number = typeof zlib.crc32 === "function" ? (data) => zlib.crc32(data) : crc32Portable;

function fingerprintOf(messageUpToFingerprint: Uint8Array): number {
  return (crc32(messageUpToFingerprint) ^ FINGERPRINT_XOR) >>> 0;
}

function padded(length: number): number {
  return (length + 3) & ~3;
}

function failed(reason: StunDropReason): StunReadResult {
  return { ok: false, reason };
}

/**
 * Header and attributes of any STUN message, with FINGERPRINT (if present) checked. Says nothing
 * about whether the message is one we answer: that is parseBindingRequest's job.
 */
export function readStunMessage(datagram: Uint8Array): StunReadResult {
  if (datagram.length < HEADER_BYTES) return failed("too_short");
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const type = view.getUint16(0);
  if ((type & 0xc000) !== 0 || view.getUint32(4) !== MAGIC_COOKIE) return failed("not_stun");
  const length = view.getUint16(2);
  if (length % 4 !== 0 || HEADER_BYTES + length !== datagram.length) return failed("bad_length");

  const attributes: StunAttribute[] = [];
  let hasFingerprint = false;
  // offset and the message length are multiples of 4, so an attribute header always fits.
  for (let offset = HEADER_BYTES; offset < datagram.length; ) {
    if (hasFingerprint) return failed("bad_fingerprint");
    const attributeType = view.getUint16(offset);
    const valueLength = view.getUint16(offset + 2);
    const valueStart = offset + ATTRIBUTE_HEADER_BYTES;
    const next = valueStart + padded(valueLength);
    if (next > datagram.length) return failed("bad_attribute");
    if (attributeType === AttributeType.fingerprint) {
      // The header's length already ends at the end of FINGERPRINT, as the CRC requires, because
      // the length matches the datagram and FINGERPRINT must be last (checked on the next turn).
      if (valueLength !== 4 || view.getUint32(valueStart) !== fingerprintOf(datagram.subarray(0, offset))) {
        return failed("bad_fingerprint");
      }
      hasFingerprint = true;
    }
    attributes.push({ type: attributeType, value: datagram.subarray(valueStart, valueStart + valueLength) });
    offset = next;
  }
  // A copy: the transaction id outlives the datagram, which should not be kept alive by it.
  const transactionId = Buffer.from(datagram.subarray(8, HEADER_BYTES));
  return { ok: true, message: { type, transactionId, attributes, hasFingerprint } };
}

function hasUnknownRequiredAttribute(attributes: readonly StunAttribute[]): boolean {
  for (const { type } of attributes) {
    // RFC 8489 §14.5: whatever follows MESSAGE-INTEGRITY is ignored, except MESSAGE-INTEGRITY-SHA256
    // and FINGERPRINT, which are both known.
    if (type === AttributeType.messageIntegrity || type === AttributeType.messageIntegritySha256) return false;
    if (type < 0x8000 && !KNOWN_REQUIRED_ATTRIBUTES.has(type)) return true;
  }
  return false;
}

/** A datagram the server answers, or why it does not. */
export function parseBindingRequest(datagram: Uint8Array): BindingRequestResult {
  const read = readStunMessage(datagram);
  if (!read.ok) return { kind: "drop", reason: read.reason };
  const { message } = read;
  if (message.type !== BINDING_REQUEST) return { kind: "drop", reason: "not_binding_request" };
  if (hasUnknownRequiredAttribute(message.attributes)) return { kind: "drop", reason: "unknown_attribute" };
  return { kind: "binding_request", transactionId: message.transactionId, hasFingerprint: message.hasFingerprint };
}

function ipv6Bytes(valid: string): Uint8Array {
  const groupsOf = (part: string): number[] =>
    part === ""
      ? []
      : part.split(":").flatMap((group) => {
          if (!group.includes(".")) return [parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split(".").map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = "", tail] = valid.split("::");
  const front = groupsOf(head);
  const back = tail === undefined ? [] : groupsOf(tail);
  const groups = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  groups.forEach((group, index) => view.setUint16(index * 2, group));
  return bytes;
}

/** A textual address (as dgram reports a sender) → bytes; null if it is not an IP address. */
export function parseIpAddress(text: string): IpAddress | null {
  if (isIPv4(text)) return { family: 4, bytes: Uint8Array.from(text.split(".").map(Number)) };
  // A link-local scope ("fe80::1%eth0") names our interface, not part of the sender's address.
  const unscoped = text.replace(/%.*$/, "");
  if (!isIPv6(unscoped)) return null;
  const bytes = ipv6Bytes(unscoped);
  // A dual-stack socket reports an IPv4 sender as ::ffff:a.b.c.d; its address is the IPv4 one,
  // and telling a browser it has an IPv6 address would give it a candidate nobody can reach.
  const isV4Mapped = bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return isV4Mapped ? { family: 4, bytes: bytes.slice(12) } : { family: 6, bytes };
}

/** Size of the whole XOR-MAPPED-ADDRESS attribute, header included: what a response adds. */
export function xorMappedAddressBytes(family: 4 | 6): number {
  return ATTRIBUTE_HEADER_BYTES + 4 + (family === 4 ? 4 : 16);
}

/** Cookie then transaction id: the first 4 bytes mask an IPv4 address, all 16 an IPv6 one. */
function xorMask(transactionId: Uint8Array): Buffer {
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(MAGIC_COOKIE, 0);
  mask.set(transactionId, 4);
  return mask;
}

function xorWithMask(bytes: Uint8Array, transactionId: Uint8Array): Uint8Array {
  const mask = xorMask(transactionId);
  return Uint8Array.from(bytes, (byte, index) => byte ^ (mask[index] ?? 0));
}

/** The XOR-MAPPED-ADDRESS attribute (header and value) for `mapped`. */
export function encodeXorMappedAddress(mapped: TransportAddress, transactionId: Uint8Array): Buffer {
  const attribute = Buffer.alloc(xorMappedAddressBytes(mapped.ip.family));
  attribute.writeUInt16BE(AttributeType.xorMappedAddress, 0);
  attribute.writeUInt16BE(attribute.length - ATTRIBUTE_HEADER_BYTES, 2);
  attribute.writeUInt8(mapped.ip.family === 4 ? 0x01 : 0x02, 5);
  attribute.writeUInt16BE(mapped.port ^ (MAGIC_COOKIE >>> 16), 6);
  attribute.set(xorWithMask(mapped.ip.bytes, transactionId), 8);
  return attribute;
}

/** The inverse of encodeXorMappedAddress for an attribute's value; null if it is malformed. */
export function decodeXorMappedAddress(value: Uint8Array, transactionId: Uint8Array): TransportAddress | null {
  const family = value[1] === 0x01 ? 4 : value[1] === 0x02 ? 6 : null;
  if (family === null || value.length !== xorMappedAddressBytes(family) - ATTRIBUTE_HEADER_BYTES) return null;
  const port = Buffer.from(value).readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  return { ip: { family, bytes: xorWithMask(value.subarray(4), transactionId) }, port };
}

/**
 * A Binding success response: XOR-MAPPED-ADDRESS, and FINGERPRINT only if the request had one
 * (RFC 8489 §14.7), so the response outgrows the request by at most XOR-MAPPED-ADDRESS. No
 * SOFTWARE attribute: the RFC only recommends it, it would add bytes to every answer, and it tells
 * scanners what runs here.
 */
export function encodeBindingSuccess(transactionId: Uint8Array, mapped: TransportAddress, withFingerprint: boolean): Buffer {
  const xorMapped = encodeXorMappedAddress(mapped, transactionId);
  const message = Buffer.alloc(HEADER_BYTES + xorMapped.length + (withFingerprint ? FINGERPRINT_BYTES : 0));
  message.writeUInt16BE(BINDING_SUCCESS, 0);
  message.writeUInt16BE(message.length - HEADER_BYTES, 2);
  message.writeUInt32BE(MAGIC_COOKIE, 4);
  message.set(transactionId.subarray(0, TRANSACTION_ID_BYTES), 8);
  xorMapped.copy(message, HEADER_BYTES);
  if (withFingerprint) {
    const at = message.length - FINGERPRINT_BYTES;
    message.writeUInt16BE(AttributeType.fingerprint, at);
    message.writeUInt16BE(4, at + 2);
    message.writeUInt32BE(fingerprintOf(message.subarray(0, at)), at + 4);
  }
  return message;
}
