import { describe, expect, it } from "vitest";
import {
  CHUNK_HEADER_BYTES,
  encodeCancel,
  encodeChunk,
  encodeError,
  encodeGet,
  encodeResponseHead,
  FALLBACK_MIME,
  MAX_ASSEMBLING_BYTES,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_MEDIA_RESPONSE_BYTES,
  MAX_OPEN_RESPONSES,
  MAX_TEXT_MESSAGE_BYTES,
  MEDIA_CHUNK_BYTES,
  parseChunk,
  parseMediaText,
  ResponseAssembler,
  splitIntoChunks,
  type MediaChunk,
  type ResponseHead,
} from "./media-protocol.js";

const URL_1 = "jfp2p://3f1c2a9e-0d5b-4a8e-9d8b-1f2e3d4c5b6a/17";

function bytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function errorCode(result: { ok: boolean; error?: { code: string } }): string | undefined {
  return result.ok ? undefined : result.error?.code;
}

/** What the sharer does: a head, then the frames as the viewer receives them (parsed). */
function respond(rid: number, body: Uint8Array): { head: ResponseHead; chunks: MediaChunk[] } {
  const parts = splitIntoChunks(body, MEDIA_CHUNK_BYTES);
  const parsedHead = parseMediaText(encodeResponseHead({ rid, status: 200, mime: "video/mp4", size: body.byteLength, chunks: parts.length }));
  if (!parsedHead.ok || parsedHead.value.t !== "res") throw new Error("head did not round-trip");
  const chunks = parts.map((part, index) => {
    const parsed = parseChunk(encodeChunk(rid, index, part));
    if (!parsed.ok) throw new Error("chunk did not round-trip");
    return parsed.value;
  });
  return { head: parsedHead.value, chunks };
}

describe("text messages", () => {
  it("round-trip get, cancel, res and err", () => {
    expect(parseMediaText(encodeGet(7, URL_1))).toEqual({ ok: true, value: { t: "get", rid: 7, url: URL_1 } });
    expect(parseMediaText(encodeCancel(0xffff_ffff))).toEqual({ ok: true, value: { t: "cancel", rid: 0xffff_ffff } });
    const head = { rid: 3, status: 200, mime: "application/vnd.apple.mpegurl", size: 1000, chunks: 1 } as const;
    expect(parseMediaText(encodeResponseHead(head))).toEqual({ ok: true, value: { t: "res", ...head } });
    expect(parseMediaText(encodeError({ rid: 4, status: 502, msg: "Jellyfin said 500" }))).toEqual({
      ok: true,
      value: { t: "err", rid: 4, status: 502, msg: "Jellyfin said 500" },
    });
  });

  it("encoders keep the sharer's output within what viewers accept", () => {
    const long = parseMediaText(encodeError({ rid: 1, status: 504, msg: "x".repeat(5000) }));
    expect(long.ok && long.value.t === "err" && long.value.msg.length).toBe(MAX_ERROR_MESSAGE_CHARS);
    for (const mime of ["", "video/mp4\n", "a".repeat(200)]) {
      const head = parseMediaText(encodeResponseHead({ rid: 1, status: 200, mime, size: 0, chunks: 0 }));
      expect(head.ok && head.value.t === "res" && head.value.mime).toBe(FALLBACK_MIME);
    }
  });

  it("ignores unknown fields", () => {
    expect(parseMediaText(`{"t":"cancel","rid":1,"extra":[1,2]}`)).toEqual({ ok: true, value: { t: "cancel", rid: 1 } });
  });

  it.each([
    ["not JSON", "{", "not_json"],
    ["an array", "[1]", "not_json"],
    ["null", "null", "not_json"],
    ["a string", `"get"`, "not_json"],
    ["unknown type", `{"t":"put","rid":1}`, "bad_message"],
    ["missing t", `{"rid":1}`, "bad_message"],
    ["missing rid", `{"t":"cancel"}`, "bad_message"],
    ["negative rid", `{"t":"cancel","rid":-1}`, "bad_message"],
    ["rid over u32", `{"t":"cancel","rid":4294967296}`, "bad_message"],
    ["fractional rid", `{"t":"cancel","rid":1.5}`, "bad_message"],
    ["string rid", `{"t":"cancel","rid":"1"}`, "bad_message"],
    ["http url", `{"t":"get","rid":1,"url":"https://jf.example/Videos/x"}`, "bad_message"],
    ["bare scheme", `{"t":"get","rid":1,"url":"jfp2p://"}`, "bad_message"],
    ["url with space", `{"t":"get","rid":1,"url":"jfp2p://a b"}`, "bad_message"],
    ["url too long", JSON.stringify({ t: "get", rid: 1, url: `jfp2p://${"a".repeat(505)}` }), "bad_message"],
    ["res status 206", `{"t":"res","rid":1,"status":206,"mime":"video/mp4","size":1,"chunks":1}`, "bad_message"],
    ["res without mime", `{"t":"res","rid":1,"status":200,"size":1,"chunks":1}`, "bad_message"],
    ["res mime too long", JSON.stringify({ t: "res", rid: 1, status: 200, mime: "a".repeat(129), size: 1, chunks: 1 }), "bad_message"],
    ["res negative size", `{"t":"res","rid":1,"status":200,"mime":"video/mp4","size":-1,"chunks":1}`, "bad_message"],
    ["res size NaN-ish", `{"t":"res","rid":1,"status":200,"mime":"video/mp4","size":1e400,"chunks":1}`, "bad_message"],
    ["res over limit", JSON.stringify({ t: "res", rid: 1, status: 200, mime: "video/mp4", size: MAX_MEDIA_RESPONSE_BYTES + 1, chunks: 1025 }), "over_limit"],
    ["res chunks for empty", `{"t":"res","rid":1,"status":200,"mime":"video/mp4","size":0,"chunks":1}`, "inconsistent"],
    ["res no chunks for bytes", `{"t":"res","rid":1,"status":200,"mime":"video/mp4","size":5,"chunks":0}`, "inconsistent"],
    ["res more chunks than bytes", `{"t":"res","rid":1,"status":200,"mime":"video/mp4","size":5,"chunks":6}`, "inconsistent"],
    ["res too few chunks", JSON.stringify({ t: "res", rid: 1, status: 200, mime: "video/mp4", size: MEDIA_CHUNK_BYTES + 1, chunks: 1 }), "inconsistent"],
    ["err status 500", `{"t":"err","rid":1,"status":500,"msg":"x"}`, "bad_message"],
    ["err msg missing", `{"t":"err","rid":1,"status":404}`, "bad_message"],
    ["err msg too long", JSON.stringify({ t: "err", rid: 1, status: 404, msg: "x".repeat(513) }), "bad_message"],
    ["too large", JSON.stringify({ t: "cancel", rid: 1, pad: "x".repeat(MAX_TEXT_MESSAGE_BYTES) }), "too_large"],
    ["too large in UTF-8", JSON.stringify({ t: "cancel", rid: 1, pad: "é".repeat(MAX_TEXT_MESSAGE_BYTES / 2) }), "too_large"],
  ])("rejects %s", (_name, text, code) => {
    expect(errorCode(parseMediaText(text))).toBe(code);
  });

  it("error messages never quote the peer's data", () => {
    const result = parseMediaText(`{"t":"get","rid":1,"url":"https://secret-token.example/"}`);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).not.toContain("secret-token");
  });
});

describe("binary chunks", () => {
  it("encode big-endian rid and index before the payload", () => {
    const frame = encodeChunk(0x01020304, 0x0a0b0c0d, new Uint8Array([9, 8, 7]));
    expect([...frame]).toEqual([1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 9, 8, 7]);
    expect(parseChunk(frame)).toEqual({ ok: true, value: { rid: 0x01020304, index: 0x0a0b0c0d, payload: new Uint8Array([9, 8, 7]) } });
  });

  it("parse a frame that is a view into a larger buffer", () => {
    const backing = new Uint8Array(100);
    backing.set(encodeChunk(5, 6, new Uint8Array([1, 2])), 40);
    const parsed = parseChunk(backing.subarray(40, 40 + CHUNK_HEADER_BYTES + 2));
    expect(parsed.ok && [parsed.value.rid, parsed.value.index, [...parsed.value.payload]]).toEqual([5, 6, [1, 2]]);
  });

  it("accept a header-only frame and a full 64 KiB payload, refuse short and oversized frames", () => {
    expect(parseChunk(new Uint8Array(CHUNK_HEADER_BYTES)).ok).toBe(true);
    expect(parseChunk(new Uint8Array(CHUNK_HEADER_BYTES + MEDIA_CHUNK_BYTES)).ok).toBe(true);
    expect(errorCode(parseChunk(new Uint8Array(7)))).toBe("bad_chunk");
    expect(errorCode(parseChunk(new Uint8Array(0)))).toBe("bad_chunk");
    expect(errorCode(parseChunk(new Uint8Array(CHUNK_HEADER_BYTES + MEDIA_CHUNK_BYTES + 1)))).toBe("bad_chunk");
  });

  it("splitIntoChunks covers the input with views of at most the chunk size", () => {
    const body = bytes(MEDIA_CHUNK_BYTES * 2 + 5);
    const chunks = splitIntoChunks(body, MEDIA_CHUNK_BYTES);
    expect(chunks.map((c) => c.byteLength)).toEqual([MEDIA_CHUNK_BYTES, MEDIA_CHUNK_BYTES, 5]);
    expect(chunks.every((c) => c.buffer === body.buffer)).toBe(true);
    expect(splitIntoChunks(new Uint8Array(0), MEDIA_CHUNK_BYTES)).toEqual([]);
    expect(splitIntoChunks(bytes(MEDIA_CHUNK_BYTES), MEDIA_CHUNK_BYTES)).toHaveLength(1);
    expect(() => splitIntoChunks(body, 0)).toThrow(RangeError);
  });
});

describe("ResponseAssembler", () => {
  it.each([1, 1000, MEDIA_CHUNK_BYTES, MEDIA_CHUNK_BYTES + 1, 3 * MEDIA_CHUNK_BYTES + 17])("reassembles %i bytes", (size) => {
    const body = bytes(size, size);
    const { head, chunks } = respond(9, body);
    const assembler = new ResponseAssembler();
    expect(assembler.begin(head)).toEqual({ ok: true, value: undefined });
    let result: ArrayBuffer | undefined;
    chunks.forEach((chunk, i) => {
      const added = assembler.add(chunk);
      expect(added.ok).toBe(true);
      if (!added.ok) return;
      if (i < chunks.length - 1) expect(added.value).toBeUndefined();
      else result = added.value;
    });
    expect(result && new Uint8Array(result)).toEqual(body);
    expect(assembler.openCount).toBe(0);
  });

  it("completes an empty response at begin", () => {
    const assembler = new ResponseAssembler();
    const begun = assembler.begin({ rid: 1, status: 200, mime: "text/plain", size: 0, chunks: 0 });
    expect(begun.ok && begun.value?.byteLength).toBe(0);
    expect(assembler.openCount).toBe(0);
  });

  it("keeps interleaved responses apart", () => {
    const a = respond(1, bytes(MEDIA_CHUNK_BYTES + 3, 1));
    const b = respond(2, bytes(10, 2));
    const assembler = new ResponseAssembler();
    expect(assembler.begin(a.head).ok && assembler.begin(b.head).ok).toBe(true);
    expect(assembler.add(a.chunks[0]!)).toEqual({ ok: true, value: undefined });
    const bDone = assembler.add(b.chunks[0]!);
    expect(bDone.ok && bDone.value && new Uint8Array(bDone.value)).toEqual(bytes(10, 2));
    const aDone = assembler.add(a.chunks[1]!);
    expect(aDone.ok && aDone.value && new Uint8Array(aDone.value)).toEqual(bytes(MEDIA_CHUNK_BYTES + 3, 1));
  });

  it("rejects chunks for unknown, finished and cancelled rids", () => {
    const { head, chunks } = respond(4, bytes(10));
    const assembler = new ResponseAssembler();
    expect(errorCode(assembler.add(chunks[0]!))).toBe("unknown_rid");
    assembler.begin(head);
    expect(assembler.add(chunks[0]!).ok).toBe(true);
    expect(errorCode(assembler.add(chunks[0]!))).toBe("unknown_rid");
    assembler.begin(head);
    assembler.cancel(4);
    expect(assembler.openCount).toBe(0);
    expect(errorCode(assembler.add(chunks[0]!))).toBe("unknown_rid");
    assembler.cancel(12345); // unknown: nothing happens
  });

  it("rejects out-of-order and repeated chunks and forgets the response", () => {
    const { head, chunks } = respond(4, bytes(3 * MEDIA_CHUNK_BYTES));
    const assembler = new ResponseAssembler();
    assembler.begin(head);
    expect(errorCode(assembler.add(chunks[1]!))).toBe("out_of_order");
    expect(assembler.openCount).toBe(0);
    assembler.begin(head);
    assembler.add(chunks[0]!);
    expect(errorCode(assembler.add(chunks[0]!))).toBe("out_of_order");
  });

  it("rejects more chunks than announced", () => {
    const assembler = new ResponseAssembler();
    assembler.begin({ rid: 1, status: 200, mime: "video/mp4", size: 4, chunks: 2 });
    expect(assembler.add({ rid: 1, index: 0, payload: new Uint8Array(1) }).ok).toBe(true);
    expect(errorCode(assembler.add({ rid: 1, index: 2, payload: new Uint8Array(1) }))).toBe("too_many_chunks");
  });

  it("rejects more bytes than announced and fewer at the last chunk", () => {
    const assembler = new ResponseAssembler();
    assembler.begin({ rid: 1, status: 200, mime: "video/mp4", size: 4, chunks: 2 });
    expect(assembler.add({ rid: 1, index: 0, payload: new Uint8Array(3) }).ok).toBe(true);
    expect(errorCode(assembler.add({ rid: 1, index: 1, payload: new Uint8Array(2) }))).toBe("size_mismatch");
    assembler.begin({ rid: 2, status: 200, mime: "video/mp4", size: 4, chunks: 2 });
    assembler.add({ rid: 2, index: 0, payload: new Uint8Array(1) });
    expect(errorCode(assembler.add({ rid: 2, index: 1, payload: new Uint8Array(1) }))).toBe("size_mismatch");
    expect(assembler.openCount).toBe(0);
  });

  it("rejects heads over the size limit, duplicates, and too much at once", () => {
    const assembler = new ResponseAssembler();
    const big = (rid: number, size: number): ResponseHead => ({ rid, status: 200, mime: "video/mp4", size, chunks: Math.ceil(size / MEDIA_CHUNK_BYTES) });
    expect(errorCode(assembler.begin(big(1, MAX_MEDIA_RESPONSE_BYTES + 1)))).toBe("over_limit");
    expect(errorCode(assembler.begin({ rid: 1, status: 200, mime: "video/mp4", size: 10, chunks: 11 }))).toBe("inconsistent");
    expect(errorCode(assembler.begin({ rid: -1, status: 200, mime: "video/mp4", size: 1, chunks: 1 }))).toBe("bad_message");
    expect(errorCode(assembler.begin({ rid: 1, status: 200, mime: "video/mp4", size: Number.NaN, chunks: 1 }))).toBe("bad_message");

    expect(assembler.begin(big(1, 10)).ok).toBe(true);
    expect(errorCode(assembler.begin(big(1, 10)))).toBe("duplicate_rid");
    for (let rid = 2; rid <= MAX_OPEN_RESPONSES; rid++) expect(assembler.begin(big(rid, 10)).ok).toBe(true);
    expect(errorCode(assembler.begin(big(100, 10)))).toBe("over_limit");
    for (let rid = 1; rid <= MAX_OPEN_RESPONSES; rid++) assembler.cancel(rid);

    // Byte budget: two full-size responses fit, a third does not until one is cancelled.
    const count = MAX_ASSEMBLING_BYTES / MAX_MEDIA_RESPONSE_BYTES;
    for (let rid = 1; rid <= count; rid++) expect(assembler.begin(big(rid, MAX_MEDIA_RESPONSE_BYTES)).ok).toBe(true);
    expect(errorCode(assembler.begin(big(99, 1)))).toBe("over_limit");
    assembler.cancel(1);
    expect(assembler.begin(big(99, 1)).ok).toBe(true);
  });

  it("never throws on random frames and heads", () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const assembler = new ResponseAssembler();
    for (let i = 0; i < 2000; i++) {
      const frame = new Uint8Array(Math.floor(random() * 40));
      for (let j = 0; j < frame.length; j++) frame[j] = random() < 0.8 ? 0 : Math.floor(random() * 256);
      const chunk = parseChunk(frame);
      if (chunk.ok) assembler.add(chunk.value);
      const text = new TextDecoder().decode(frame);
      const message = parseMediaText(text);
      if (message.ok && message.value.t === "res") assembler.begin(message.value);
      assembler.begin({ rid: Math.floor(random() * 4), status: 200, mime: "x/y", size: Math.floor(random() * 8), chunks: Math.floor(random() * 4) });
    }
    expect(assembler.openCount).toBeLessThanOrEqual(MAX_OPEN_RESPONSES);
  });
});
