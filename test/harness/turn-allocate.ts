// A TURN Allocate over UDP (RFC 8656) with long-term credentials, as a browser makes it: the first
// request unauthenticated, the 401 answer's REALM and NONCE, the second request signed with
// MESSAGE-INTEGRITY (HMAC-SHA1 keyed by MD5(username:realm:password)). For tests that check a
// credential against a real coturn without a browser (which gathers nothing on loopback).
// Hand-written: the only npm TURN clients are browser stacks or unmaintained; this is about a hundred lines.

import { createHash, createHmac, randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { AttributeType, decodeXorMappedAddress, MAGIC_COOKIE, readStunMessage, type StunMessage, type TransportAddress } from "../../server/stun/message.js";

const ALLOCATE_REQUEST = 0x0003;
const ALLOCATE_SUCCESS = 0x0103;
const ALLOCATE_ERROR = 0x0113;
const REQUESTED_TRANSPORT = 0x0019;
const XOR_RELAYED_ADDRESS = 0x0016;
const ERROR_CODE = 0x0009;
const UDP_PROTOCOL = 17;

export type AllocateResult = { readonly ok: true; readonly relayed: TransportAddress } | { readonly ok: false; readonly errorCode: number; readonly reason: string };

function attribute(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

/** Header + attributes; with `key`, MESSAGE-INTEGRITY last, over the header with its final length. */
function message(type: number, transactionId: Buffer, attributes: Buffer[], key?: Buffer): Buffer {
  const body = Buffer.concat(attributes);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(body.length + (key ? 24 : 0), 2);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(header, 8);
  const unsigned = Buffer.concat([header, body]);
  if (!key) return unsigned;
  return Buffer.concat([unsigned, attribute(AttributeType.messageIntegrity, createHmac("sha1", key).update(unsigned).digest())]);
}

function value(reply: StunMessage, type: number): Uint8Array | undefined {
  return reply.attributes.find((a) => a.type === type)?.value;
}

function errorOf(reply: StunMessage): { errorCode: number; reason: string } {
  const raw = value(reply, ERROR_CODE);
  if (!raw || raw.length < 4) return { errorCode: 0, reason: "no ERROR-CODE" };
  return { errorCode: (raw[2] ?? 0) * 100 + (raw[3] ?? 0), reason: Buffer.from(raw.subarray(4)).toString("utf8") };
}

/** One request, one answer (retransmitted every 500 ms, given up after `timeoutMs`). */
function exchange(socket: dgram.Socket, host: string, port: number, request: Buffer, timeoutMs: number): Promise<StunMessage> {
  const transactionId = request.subarray(8, 20);
  return new Promise((resolve, reject) => {
    const send = () => socket.send(request, port, host);
    const retry = setInterval(send, 500);
    const timer = setTimeout(() => done(new Error(`no TURN answer from ${host}:${port} in ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (datagram: Buffer) => {
      const read = readStunMessage(datagram);
      if (read.ok && read.message.transactionId.equals(transactionId)) done(null, read.message);
    };
    const done = (error: Error | null, reply?: StunMessage) => {
      clearInterval(retry);
      clearTimeout(timer);
      socket.off("message", onMessage);
      if (error || !reply) reject(error ?? new Error("no reply"));
      else resolve(reply);
    };
    socket.on("message", onMessage);
    send();
  });
}

/** Allocates a UDP relay on the TURN server at host:port with `username`/`credential`, then lets it lapse. */
export async function turnAllocate(host: string, port: number, username: string, credential: string, timeoutMs = 5_000): Promise<AllocateResult> {
  const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  try {
    const transport = attribute(REQUESTED_TRANSPORT, Buffer.from([UDP_PROTOCOL, 0, 0, 0]));
    const challenge = await exchange(socket, host, port, message(ALLOCATE_REQUEST, randomBytes(12), [transport]), timeoutMs);
    const realm = value(challenge, AttributeType.realm);
    const nonce = value(challenge, AttributeType.nonce);
    if (challenge.type !== ALLOCATE_ERROR || !realm || !nonce) return { ok: false, ...errorOf(challenge) };
    const key = createHash("md5").update(`${username}:${Buffer.from(realm).toString("utf8")}:${credential}`).digest();
    const signed = message(
      ALLOCATE_REQUEST,
      randomBytes(12),
      [transport, attribute(AttributeType.username, Buffer.from(username)), attribute(AttributeType.realm, Buffer.from(realm)), attribute(AttributeType.nonce, Buffer.from(nonce))],
      key,
    );
    const reply = await exchange(socket, host, port, signed, timeoutMs);
    if (reply.type !== ALLOCATE_SUCCESS) return { ok: false, ...errorOf(reply) };
    const relayedRaw = value(reply, XOR_RELAYED_ADDRESS);
    const relayed = relayedRaw ? decodeXorMappedAddress(relayedRaw, reply.transactionId) : null;
    return relayed ? { ok: true, relayed } : { ok: false, errorCode: 0, reason: "no XOR-RELAYED-ADDRESS" };
  } finally {
    socket.close();
  }
}
