/// <reference types="mocha" />
// fileSource() ranges, the memory download sink (the path used when there is no service worker:
// this test server serves no /sw.js, so registration fails and openDownload falls back to it),
// and the name/type/header helpers the worker and the page share.
import { expect } from "@open-wc/testing";
import {
  contentDisposition,
  downloadIdOf,
  downloadPath,
  parseDownloadMessage,
  safeDownloadName,
  safeMimeType,
} from "../sw/download-protocol.js";
import { DownloadSinkError, MAX_MEMORY_DOWNLOAD_BYTES, openDownload, type DownloadSink } from "./download-sink.js";
import { fileSource } from "./file-source.js";

const MiB = 1024 * 1024;

/** Deterministic bytes (xorshift32) so any misplaced range shows. */
function pattern(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  let state = 0x2545f491;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** A Blob that records slice() calls and refuses to be read whole. */
class SpyBlob extends Blob {
  readonly slices: Array<[number | undefined, number | undefined]> = [];
  override slice(start?: number, end?: number, contentType?: string): Blob {
    this.slices.push([start, end]);
    return super.slice(start, end, contentType);
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.reject(new Error("read the whole file"));
  }
}

describe("fileSource", () => {
  const data = pattern(1 * MiB + 123);

  it("reads exact ranges, each through its own slice (never the whole file)", async () => {
    const blob = new SpyBlob([data]);
    const source = fileSource(blob);
    expect(source.size).to.equal(data.length);
    for (const [offset, length] of [
      [0, 10],
      [5, 100],
      [65_536, 65_536],
      [data.length - 7, 7],
      [0, data.length],
    ] as const) {
      const bytes = await source.read(offset, length);
      expect(bytes.length, `read(${offset}, ${length})`).to.equal(length);
      expect([...bytes]).to.deep.equal([...data.subarray(offset, offset + length)]);
    }
    expect(blob.slices[1]).to.deep.equal([5, 105]);
  });

  it("cuts a read short at the end of the file and returns nothing past it", async () => {
    const source = fileSource(new File([data], "x.bin"));
    const tail = await source.read(data.length - 3, 100);
    expect([...tail]).to.deep.equal([...data.subarray(data.length - 3)]);
    expect((await source.read(data.length, 10)).length).to.equal(0);
    expect((await source.read(data.length + 5, 10)).length).to.equal(0);
    expect((await source.read(10, 0)).length).to.equal(0);
  });

  it("rejects offsets and lengths that are not byte counts (a caller bug)", async () => {
    const source = fileSource(new Blob([data]));
    for (const [offset, length] of [
      [-1, 10],
      [0, -1],
      [0.5, 10],
      [0, Number.NaN],
    ]) {
      let error: unknown;
      try {
        await source.read(offset ?? 0, length ?? 0);
      } catch (caught) {
        error = caught;
      }
      expect(error, `read(${offset}, ${length})`).to.be.instanceOf(RangeError);
    }
  });
});

describe("openDownload without a service worker (memory sink)", () => {
  it("refuses an announced size over MAX_MEMORY_DOWNLOAD_BYTES with too-large-for-memory", async () => {
    const result = await openDownload({ name: "film.mkv", size: MAX_MEMORY_DOWNLOAD_BYTES + 1, mimeType: "video/x-matroska" });
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.error.code).to.equal("too-large-for-memory");
    expect(result.error.message).to.match(/too large/);
    expect(result.error.message).to.contain("256 MiB");
  });

  it("refuses a size that is not a byte count", async () => {
    for (const size of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const result = await openDownload({ name: "x", size, mimeType: "text/plain" });
      expect(result.ok ? "ok" : result.error.code, String(size)).to.equal("invalid-size");
    }
  });

  describe("a memory download", () => {
    let captured: Blob[] = [];
    const original = URL.createObjectURL;
    beforeEach(() => {
      captured = [];
      // Catches the Blob the sink saves; the download itself goes nowhere in this headless browser.
      URL.createObjectURL = (object: Blob | MediaSource): string => {
        if (object instanceof Blob) captured.push(object);
        return original.call(URL, object);
      };
    });
    afterEach(() => {
      URL.createObjectURL = original;
    });

    async function open(size: number | undefined, mimeType: string): Promise<DownloadSink> {
      const result = await openDownload({ name: "report.pdf", size, mimeType });
      if (!result.ok) throw new Error(result.error.message);
      expect(result.value.kind).to.equal("memory");
      return result.value;
    }

    it("saves the written bytes as one Blob with the sender's MIME type on close()", async () => {
      const data = pattern(20 * MiB + 5);
      const sink = await open(data.length, "application/pdf");
      for (let offset = 0; offset < data.length; offset += 3 * MiB) await sink.write(data.subarray(offset, offset + 3 * MiB));
      expect(captured).to.have.length(0); // nothing is offered before the file is complete
      await sink.close();
      expect(captured).to.have.length(1);
      const blob = captured[0];
      expect(blob?.type).to.equal("application/pdf");
      expect(blob?.size).to.equal(data.length);
      const saved = new Uint8Array(await (blob ?? new Blob()).arrayBuffer());
      expect(saved.every((byte, i) => byte === data[i])).to.equal(true);
    });

    it("saves active content types as application/octet-stream", async () => {
      const sink = await open(4, "text/html; charset=utf-8");
      await sink.write(new Uint8Array([60, 98, 62, 33]));
      await sink.close();
      expect(captured[0]?.type).to.equal("application/octet-stream");
    });

    it("copies each chunk, so the caller may reuse its buffer", async () => {
      const sink = await open(4, "application/octet-stream");
      const buffer = new Uint8Array([1, 2]);
      await sink.write(buffer);
      buffer.set([3, 4]);
      await sink.write(buffer);
      await sink.close();
      expect([...new Uint8Array(await (captured[0] ?? new Blob()).arrayBuffer())]).to.deep.equal([1, 2, 3, 4]);
    });

    it("keeps chunks handed over (whole buffers and views alike) and counts them", async () => {
      const data = pattern(300_000);
      const sink = await open(data.length, "application/octet-stream");
      // A received message is a whole ArrayBuffer; a resumed one may be a view into one.
      await sink.write(data.slice(0, 200_000), { handOver: true });
      await sink.write(data.slice(150_000).subarray(50_000), { handOver: true });
      await sink.close();
      const saved = new Uint8Array(await (captured[0] ?? new Blob()).arrayBuffer());
      expect(saved.length).to.equal(data.length);
      expect(saved.every((byte, i) => byte === data[i])).to.equal(true);
    });

    it("offers nothing when closed short of the announced size (size-mismatch)", async () => {
      const sink = await open(10, "application/octet-stream");
      await sink.write(new Uint8Array(4));
      let error: unknown;
      try {
        await sink.close();
      } catch (caught) {
        error = caught;
      }
      expect(error).to.be.instanceOf(DownloadSinkError);
      expect(error instanceof DownloadSinkError ? error.error.code : "").to.equal("size-mismatch");
      expect(captured).to.have.length(0);
    });

    it("stops at MAX_MEMORY_DOWNLOAD_BYTES when the size was not announced", async function () {
      this.timeout(30_000);
      const sink = await open(undefined, "application/octet-stream");
      const block = new Uint8Array(16 * MiB);
      for (let written = 0; written < MAX_MEMORY_DOWNLOAD_BYTES; written += block.length) await sink.write(block);
      let error: unknown;
      try {
        await sink.write(new Uint8Array(1));
      } catch (caught) {
        error = caught;
      }
      expect(error instanceof DownloadSinkError ? error.error.code : String(error)).to.equal("too-large-for-memory");
      expect(sink.signal.aborted).to.equal(true);
      expect(captured).to.have.length(0);
    });

    it("rejects writes after abort(), and abort() is idempotent", async () => {
      const sink = await open(undefined, "application/octet-stream");
      await sink.write(new Uint8Array(3));
      await sink.abort("the sender left");
      await sink.abort("again");
      let error: unknown;
      try {
        await sink.write(new Uint8Array(1));
      } catch (caught) {
        error = caught;
      }
      expect(error instanceof DownloadSinkError ? error.error.code : String(error)).to.equal("aborted");
      expect(captured).to.have.length(0);
    });
  });
});

describe("download-protocol helpers", () => {
  it("safeDownloadName strips paths, controls, bidi overrides and edge dots; never empty", () => {
    expect(safeDownloadName("../../etc/passwd")).to.equal("_.._etc_passwd");
    expect(safeDownloadName("C:\\Windows\\x.dll")).to.equal("C__Windows_x.dll");
    expect(safeDownloadName("invoice\u202Efdp.exe")).to.equal("invoicefdp.exe");
    expect(safeDownloadName("a\u0000b\nc")).to.equal("abc");
    expect(safeDownloadName("  .hidden. ")).to.equal("hidden");
    expect(safeDownloadName("...")).to.equal("download");
    expect(safeDownloadName("")).to.equal("download");
    expect(safeDownloadName("CON.txt")).to.equal("_CON.txt");
    expect(safeDownloadName("Zufall – größer ✓.bin")).to.equal("Zufall – größer ✓.bin");
    expect(Array.from(safeDownloadName("😀".repeat(300)))).to.have.length(200);
  });

  it("safeMimeType keeps plain types and neutralises active or malformed ones", () => {
    expect(safeMimeType("application/pdf")).to.equal("application/pdf");
    expect(safeMimeType("Video/MP4; codecs=avc1")).to.equal("video/mp4");
    for (const active of ["text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript", "application/atom+xml", "", "nonsense", "a/b/c", "text/plain\r\nX: y"]) {
      expect(safeMimeType(active), active).to.equal("application/octet-stream");
    }
  });

  it("contentDisposition gives an ASCII fallback and the exact UTF-8 name (RFC 6266)", () => {
    expect(contentDisposition("größe (1).txt")).to.equal(`attachment; filename="gr__e (1).txt"; filename*=UTF-8''gr%C3%B6%C3%9Fe%20%281%29.txt`);
    expect(contentDisposition('a"b%c.txt')).to.equal(`attachment; filename="a_b_c.txt"; filename*=UTF-8''a%22b%25c.txt`);
  });

  it("download paths carry the id, which is all the worker reads back", () => {
    const path = downloadPath("0f8e-11", "a b.txt");
    expect(path).to.equal("/download/0f8e-11/a%20b.txt");
    expect(downloadIdOf(path)).to.equal("0f8e-11");
    expect(downloadIdOf("/download/../x")).to.equal(null);
    expect(downloadIdOf("/assets/x.js")).to.equal(null);
  });

  it("parseDownloadMessage accepts the union and drops anything else", () => {
    expect(parseDownloadMessage({ type: "download-open", id: "abc-1", name: "x", mimeType: "text/plain", size: 3 })).to.deep.equal({
      type: "download-open",
      id: "abc-1",
      name: "x",
      mimeType: "text/plain",
      size: 3,
    });
    expect(parseDownloadMessage({ type: "credit", bytes: 1024 })).to.deep.equal({ type: "credit", bytes: 1024 });
    expect(parseDownloadMessage({ type: "end" })).to.deep.equal({ type: "end" });
    for (const junk of [
      null,
      "end",
      { type: "download-open", id: "../x", name: "x", mimeType: "t/p" },
      { type: "download-open", id: "a", name: "x", mimeType: "t/p", size: -1 },
      { type: "credit", bytes: 1.5 },
      { type: "chunk", bytes: [1, 2] },
      { type: "ready", path: "/elsewhere" },
      { type: "__proto__" },
    ]) {
      expect(parseDownloadMessage(junk), JSON.stringify(junk)).to.equal(null);
    }
  });
});
