import { describe, expect, it } from "vitest";
import {
  chunkBytesFor,
  encodeDigest,
  encodeHeader,
  isAcceptableFileSize,
  MAX_CONTROL_CHARS,
  MAX_FILE_BYTES,
  parseControl,
} from "./protocol.js";

const HEX = "0123456789abcdef".repeat(4);

describe("control messages", () => {
  it("round-trips the header, the digest and end", () => {
    expect(encodeHeader({ offset: 5, size: 10 })).toBe('{"meshmeet_file":1,"offset":5,"size":10}');
    expect(parseControl(encodeHeader({ offset: 5, size: 10 }))).toEqual({ ok: true, value: { type: "header", offset: 5, size: 10 } });
    expect(parseControl(encodeHeader({ offset: 0, size: MAX_FILE_BYTES }))).toEqual({
      ok: true,
      value: { type: "header", offset: 0, size: MAX_FILE_BYTES },
    });
    expect(encodeDigest(HEX)).toBe(`{"sha256":"${HEX}"}`);
    expect(parseControl(encodeDigest(HEX))).toEqual({ ok: true, value: { type: "digest", sha256: HEX } });
    expect(parseControl("end")).toEqual({ ok: true, value: { type: "end" } });
  });

  it("ignores unknown extra keys, as the wire parser does", () => {
    expect(parseControl('{"size":3,"offset":1,"meshmeet_file":1,"later":true}')).toEqual({
      ok: true,
      value: { type: "header", offset: 1, size: 3 },
    });
  });

  const hostile: [string, string][] = [
    ["empty", ""],
    ["END", "END"],
    ["end with a space", "end "],
    ["end with a newline", "end\n"],
    ["plain words", "hello"],
    ["JSON null", "null"],
    ["JSON number", "42"],
    ["JSON string end", '"end"'],
    ["JSON array", "[1,2]"],
    ["empty object", "{}"],
    ["unknown key", '{"meshmeet":1}'],
    ["__proto__ only", `{"__proto__":{"sha256":"${HEX}"}}`],
    ["version 2", '{"meshmeet_file":2,"offset":0,"size":1}'],
    ["version as string", '{"meshmeet_file":"1","offset":0,"size":1}'],
    ["negative offset", '{"meshmeet_file":1,"offset":-1,"size":1}'],
    ["fractional size", '{"meshmeet_file":1,"offset":0,"size":1.5}'],
    ["string size", '{"meshmeet_file":1,"offset":0,"size":"1"}'],
    ["missing size", '{"meshmeet_file":1,"offset":0}'],
    ["offset beyond size", '{"meshmeet_file":1,"offset":2,"size":1}'],
    ["size beyond the limit", `{"meshmeet_file":1,"offset":0,"size":${MAX_FILE_BYTES + 1}}`],
    ["unsafe integer", '{"meshmeet_file":1,"offset":0,"size":1e300}'],
    ["uppercase digest", `{"sha256":"${HEX.toUpperCase()}"}`],
    ["short digest", `{"sha256":"${HEX.slice(2)}"}`],
    ["digest as number", '{"sha256":5}'],
    ["truncated JSON", '{"sha256":"'],
    ["too long", `{"sha256":"${"a".repeat(MAX_CONTROL_CHARS)}"}`],
  ];
  for (const [name, text] of hostile) {
    it(`refuses ${name} as a protocol error, without echoing it`, () => {
      const result = parseControl(text);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe("protocol");
      if (text.length > 3) expect(result.error.message).not.toContain(text);
    });
  }
});

describe("chunkBytesFor", () => {
  it("starts from 256 KiB for meshmeet receivers and 32 KiB for keks-meet ones", () => {
    expect(chunkBytesFor(262144, true)).toBe(262144); // Chromium
    expect(chunkBytesFor(1 << 30, true)).toBe(262144);
    expect(chunkBytesFor(262144, false)).toBe(32768);
  });
  it("never exceeds the remote's maxMessageSize", () => {
    expect(chunkBytesFor(65536, true)).toBe(65536);
    expect(chunkBytesFor(16384, true)).toBe(16384);
    expect(chunkBytesFor(16384, false)).toBe(16384);
    expect(chunkBytesFor(20000.7, true)).toBe(20000);
  });
  it("treats 0 and Infinity as no limit", () => {
    expect(chunkBytesFor(0, true)).toBe(262144);
    expect(chunkBytesFor(Infinity, false)).toBe(32768);
  });
  it("refuses limits too small to be real", () => {
    expect(chunkBytesFor(100, true)).toBeUndefined();
    expect(chunkBytesFor(-1, true)).toBeUndefined();
    expect(chunkBytesFor(Number.NaN, true)).toBeUndefined();
  });
});

describe("isAcceptableFileSize", () => {
  it("takes safe integers in [0, 2^50]", () => {
    for (const size of [0, 1, 2 ** 32, MAX_FILE_BYTES]) expect(isAcceptableFileSize(size)).toBe(true);
    for (const size of [-1, 1.5, MAX_FILE_BYTES + 1, Number.NaN, Infinity, "5", undefined]) expect(isAcceptableFileSize(size)).toBe(false);
  });
});
