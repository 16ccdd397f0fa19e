import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  AttributeType,
  BINDING_SUCCESS,
  crc32,
  crc32Portable,
  decodeXorMappedAddress,
  encodeBindingSuccess,
  encodeXorMappedAddress,
  parseBindingRequest,
  parseIpAddress,
  readStunMessage,
  xorMappedAddressBytes,
  type IpAddress,
  type StunMessage,
} from "./message.js";

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ""), "hex");
}

// RFC 5769 §2.1: a Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
// MESSAGE-INTEGRITY and FINGERPRINT.
const SAMPLE_REQUEST = hex(`
  00 01 00 58  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 10  53 54 55 4e  20 74 65 73  74 20 63 6c  69 65 6e 74
  00 24 00 04  6e 00 01 ff
  80 29 00 08  93 2f f9 b1  51 26 3b 36
  00 06 00 09  65 76 74 6a  3a 68 36 76  59 20 20 20
  00 08 00 14  9a ea a7 0c  bf d8 cb 56  78 1e f2 b5  b2 d3 f2 49  c1 b5 71 a2
  80 28 00 04  e5 7a 3b cf
`);

// RFC 5769 §2.2: Binding success response for 192.0.2.1:32853.
const SAMPLE_IPV4_RESPONSE = hex(`
  01 01 00 3c  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
  00 20 00 08  00 01 a1 47  e1 12 a6 43
  00 08 00 14  2b 91 f5 99  fd 9e 90 c3  8c 74 89 f9  2a f9 ba 53  f0 6b e7 d7
  80 28 00 04  c0 7d 4c 96
`);

// RFC 5769 §2.3: Binding success response for [2001:db8:1234:5678:11:2233:4455:6677]:32853.
const SAMPLE_IPV6_RESPONSE = hex(`
  01 01 00 48  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
  80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
  00 20 00 14  00 02 a1 47  01 13 a9 fa  a5 d3 f1 79  bc 25 f4 b5  be d2 b9 d9
  00 08 00 14  a3 82 95 4e  4b e6 7b f1  17 84 c9 7c  82 92 c2 75  bf e3 ed 41
  80 28 00 04  c8 fb 0b 4c
`);

const SAMPLE_TRANSACTION_ID = hex("b7e7a701 bc34d686 fa87dfae");

function ip(text: string): IpAddress {
  const parsed = parseIpAddress(text);
  if (parsed === null) throw new Error(`not an IP address: ${text}`);
  return parsed;
}

function read(datagram: Uint8Array): StunMessage {
  const result = readStunMessage(datagram);
  if (!result.ok) throw new Error(`unreadable: ${result.reason}`);
  return result.message;
}

/** A Binding request of `attributes` (raw, already padded), with a correct FINGERPRINT if asked. */
function request(attributes: Buffer = Buffer.alloc(0), options: { fingerprint?: boolean; type?: number } = {}): Buffer {
  const body = Buffer.concat([attributes, Buffer.alloc(options.fingerprint === true ? 8 : 0)]);
  const message = Buffer.concat([Buffer.alloc(20), body]);
  message.writeUInt16BE(options.type ?? 0x0001, 0);
  message.writeUInt16BE(body.length, 2);
  message.writeUInt32BE(0x2112a442, 4);
  SAMPLE_TRANSACTION_ID.copy(message, 8);
  if (options.fingerprint === true) {
    const at = message.length - 8;
    message.writeUInt16BE(0x8028, at);
    message.writeUInt16BE(4, at + 2);
    message.writeUInt32BE((crc32(message.subarray(0, at)) ^ 0x5354554e) >>> 0, at + 4);
  }
  return message;
}

function attribute(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

describe("parseBindingRequest", () => {
  it("accepts RFC 5769's sample request, ICE attributes and all", () => {
    expect(parseBindingRequest(SAMPLE_REQUEST)).toEqual({
      kind: "binding_request",
      transactionId: SAMPLE_TRANSACTION_ID,
      hasFingerprint: true,
    });
    expect(read(SAMPLE_REQUEST).attributes.map((a) => a.type)).toEqual([0x8022, 0x0024, 0x8029, 0x0006, 0x0008, 0x8028]);
    expect(Buffer.from(read(SAMPLE_REQUEST).attributes[0]?.value ?? []).toString()).toBe("STUN test client");
  });

  it("accepts a bare 20-byte request (what browsers send), without a fingerprint", () => {
    expect(parseBindingRequest(request())).toEqual({ kind: "binding_request", transactionId: SAMPLE_TRANSACTION_ID, hasFingerprint: false });
  });

  it("drops a wrong fingerprint, and a changed byte the fingerprint covers", () => {
    const badCrc = Buffer.from(SAMPLE_REQUEST);
    badCrc.writeUInt8(badCrc.readUInt8(badCrc.length - 1) ^ 0x01, badCrc.length - 1);
    expect(parseBindingRequest(badCrc)).toEqual({ kind: "drop", reason: "bad_fingerprint" });
    const changedSoftware = Buffer.from(SAMPLE_REQUEST);
    changedSoftware.write("X", 24);
    expect(parseBindingRequest(changedSoftware)).toEqual({ kind: "drop", reason: "bad_fingerprint" });
  });

  it("drops a fingerprint that is not last or not 4 bytes", () => {
    const signed = request(undefined, { fingerprint: true });
    const trailing = Buffer.concat([signed, attribute(0x8022, Buffer.from("late"))]);
    trailing.writeUInt16BE(trailing.length - 20, 2);
    expect(parseBindingRequest(trailing)).toEqual({ kind: "drop", reason: "bad_fingerprint" });
    expect(parseBindingRequest(request(attribute(0x8028, Buffer.alloc(8))))).toEqual({ kind: "drop", reason: "bad_fingerprint" });
  });

  it("drops datagrams shorter than the header", () => {
    expect(parseBindingRequest(Buffer.alloc(0))).toEqual({ kind: "drop", reason: "too_short" });
    expect(parseBindingRequest(request().subarray(0, 19))).toEqual({ kind: "drop", reason: "too_short" });
  });

  it("drops a wrong magic cookie and a type with its top bits set", () => {
    const cookie = request();
    cookie.writeUInt32BE(0x2112a443, 4);
    expect(parseBindingRequest(cookie)).toEqual({ kind: "drop", reason: "not_stun" });
    expect(parseBindingRequest(request(undefined, { type: 0x4001 }))).toEqual({ kind: "drop", reason: "not_stun" });
  });

  it("drops lengths that are not a multiple of 4 or do not match the datagram", () => {
    const odd = request(attribute(0x8022, Buffer.from("abcd")));
    odd.writeUInt16BE(6, 2);
    expect(parseBindingRequest(odd)).toEqual({ kind: "drop", reason: "bad_length" });
    const short = request(attribute(0x8022, Buffer.from("abcd")));
    short.writeUInt16BE(4, 2);
    expect(parseBindingRequest(short)).toEqual({ kind: "drop", reason: "bad_length" });
    expect(parseBindingRequest(Buffer.concat([request(), Buffer.alloc(4)]))).toEqual({ kind: "drop", reason: "bad_length" });
  });

  it("drops an attribute that runs past the end", () => {
    const overrun = request(attribute(0x8022, Buffer.from("abcd")));
    overrun.writeUInt16BE(5, 22);
    expect(parseBindingRequest(overrun)).toEqual({ kind: "drop", reason: "bad_attribute" });
  });

  it("drops every class but request, and methods other than Binding", () => {
    for (const type of [0x0011, 0x0101, 0x0111, 0x0003, 0x0009]) {
      expect(parseBindingRequest(request(undefined, { type }))).toEqual({ kind: "drop", reason: "not_binding_request" });
    }
    expect(readStunMessage(request(undefined, { type: 0x0111 })).ok).toBe(true);
  });

  it("drops unknown comprehension-required attributes, ignores unknown optional ones", () => {
    expect(parseBindingRequest(request(attribute(0x0777, Buffer.alloc(4)), { fingerprint: true }))).toEqual({
      kind: "drop",
      reason: "unknown_attribute",
    });
    // MAPPED-ADDRESS means nothing in a request.
    expect(parseBindingRequest(request(attribute(0x0001, Buffer.alloc(8))))).toEqual({ kind: "drop", reason: "unknown_attribute" });
    expect(parseBindingRequest(request(attribute(0x8777, Buffer.alloc(3))))).toMatchObject({ kind: "binding_request" });
  });

  it("ignores what follows MESSAGE-INTEGRITY, as RFC 8489 requires", () => {
    const attributes = Buffer.concat([attribute(0x0008, Buffer.alloc(20)), attribute(0x0777, Buffer.alloc(4))]);
    expect(parseBindingRequest(request(attributes, { fingerprint: true }))).toMatchObject({ kind: "binding_request" });
  });
});

describe("XOR-MAPPED-ADDRESS", () => {
  function sampleAttribute(response: Buffer): Buffer {
    const message = read(response);
    expect(message.type).toBe(BINDING_SUCCESS);
    expect(message.hasFingerprint).toBe(true);
    const index = message.attributes.findIndex((a) => a.type === AttributeType.xorMappedAddress);
    const value = message.attributes[index]?.value;
    if (value === undefined) throw new Error("no XOR-MAPPED-ADDRESS in the sample");
    return Buffer.concat([hex(`0020 ${value.length.toString(16).padStart(4, "0")}`), value]);
  }

  it("encodes RFC 5769's IPv4 sample", () => {
    const mapped = { ip: ip("192.0.2.1"), port: 32853 };
    const expected = sampleAttribute(SAMPLE_IPV4_RESPONSE);
    expect(encodeXorMappedAddress(mapped, SAMPLE_TRANSACTION_ID).toString("hex")).toBe(expected.toString("hex"));
    expect(expected.toString("hex")).toBe("002000080001a147e112a643");
    expect(decodeXorMappedAddress(expected.subarray(4), SAMPLE_TRANSACTION_ID)).toEqual(mapped);
  });

  it("encodes RFC 5769's IPv6 sample", () => {
    const mapped = { ip: ip("2001:db8:1234:5678:11:2233:4455:6677"), port: 32853 };
    const expected = sampleAttribute(SAMPLE_IPV6_RESPONSE);
    expect(encodeXorMappedAddress(mapped, SAMPLE_TRANSACTION_ID).toString("hex")).toBe(expected.toString("hex"));
    expect(expected.toString("hex")).toBe("002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9");
    expect(decodeXorMappedAddress(expected.subarray(4), SAMPLE_TRANSACTION_ID)).toEqual(mapped);
  });

  it("refuses to decode a malformed value", () => {
    expect(decodeXorMappedAddress(hex("0003 a147 e112a643"), SAMPLE_TRANSACTION_ID)).toBeNull();
    expect(decodeXorMappedAddress(hex("0002 a147 e112a643"), SAMPLE_TRANSACTION_ID)).toBeNull();
    expect(decodeXorMappedAddress(hex(""), SAMPLE_TRANSACTION_ID)).toBeNull();
  });
});

describe("encodeBindingSuccess", () => {
  const cases = [
    { name: "IPv4", mapped: { ip: ip("203.0.113.7"), port: 50_000 }, added: 12 },
    { name: "IPv6", mapped: { ip: ip("2001:db8::1"), port: 1 }, added: 24 },
  ];

  for (const { name, mapped, added } of cases) {
    it(`answers an ${name} request with its transaction id and address, and no more than ${added} bytes extra`, () => {
      for (const fingerprint of [false, true]) {
        const req = request(undefined, { fingerprint });
        const parsed = parseBindingRequest(req);
        if (parsed.kind !== "binding_request") throw new Error(parsed.reason);
        const response = encodeBindingSuccess(parsed.transactionId, mapped, parsed.hasFingerprint);
        const message = read(response);
        expect(message.type).toBe(0x0101);
        expect(message.transactionId).toEqual(SAMPLE_TRANSACTION_ID);
        expect(message.hasFingerprint).toBe(fingerprint);
        expect(message.attributes.map((a) => a.type)).toEqual(fingerprint ? [0x0020, 0x8028] : [0x0020]);
        expect(decodeXorMappedAddress(message.attributes[0]?.value ?? new Uint8Array(), message.transactionId)).toEqual(mapped);
        expect(response.length - req.length).toBe(added);
        expect(xorMappedAddressBytes(mapped.ip.family)).toBe(added);
      }
    });
  }

  it("answers a dual-stack socket's IPv4-mapped sender as IPv4", () => {
    expect(ip("::ffff:192.0.2.1")).toEqual(ip("192.0.2.1"));
    expect(encodeBindingSuccess(SAMPLE_TRANSACTION_ID, { ip: ip("::ffff:192.0.2.1"), port: 32853 }, false).length).toBe(32);
  });
});

describe("parseIpAddress", () => {
  it("parses IPv4, compressed and scoped IPv6, and refuses names", () => {
    expect(ip("192.0.2.1")).toEqual({ family: 4, bytes: Uint8Array.from([192, 0, 2, 1]) });
    expect(Buffer.from(ip("::1").bytes).toString("hex")).toBe("00000000000000000000000000000001");
    expect(Buffer.from(ip("::").bytes).toString("hex")).toBe("0".repeat(32));
    expect(Buffer.from(ip("2001:db8::8:1").bytes).toString("hex")).toBe("20010db8000000000000000000080001");
    expect(Buffer.from(ip("fe80::1%eth0").bytes).toString("hex")).toBe("fe800000000000000000000000000001");
    expect(Buffer.from(ip("64:ff9b::198.51.100.2").bytes).toString("hex")).toBe("0064ff9b0000000000000000c6336402");
    expect(parseIpAddress("localhost")).toBeNull();
    expect(parseIpAddress("1.2.3")).toBeNull();
  });
});

describe("crc32", () => {
  it("computes the standard check value, with and without zlib", () => {
    const check = Buffer.from("123456789");
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Portable(check)).toBe(0xcbf43926);
    expect(crc32Portable(new Uint8Array())).toBe(0);
  });

  it("agrees with zlib where Node has it", () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff));
    expect(crc32Portable(data)).toBe(crc32(data));
    if (typeof zlib.crc32 === "function") expect(crc32Portable(data)).toBe(zlib.crc32(data));
  });
});
