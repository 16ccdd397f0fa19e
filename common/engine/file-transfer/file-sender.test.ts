// FileSender against a scripted receiver: the far end of a fake channel pair, read raw.

import { createHash } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { createChannelPair, type FakeChannel, memorySource, patternBytes } from "./fakes.js";
import { FileSender, type SenderProgress } from "./file-sender.js";
import { encodeDigest, encodeHeader, HIGH_WATER_BYTES, LOW_WATER_BYTES } from "./protocol.js";

const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** toEqual walks typed arrays element by element (seconds for a few MiB); compare as bytes. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

/** What the far end received, in order: text as strings, binary as Uint8Array. */
function record(end: FakeChannel): (string | Uint8Array)[] {
  const messages: (string | Uint8Array)[] = [];
  end.addEventListener("message", ({ data }) => {
    messages.push(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
  });
  return messages;
}

function binaryOf(messages: (string | Uint8Array)[]): Uint8Array[] {
  return messages.filter((m): m is Uint8Array => typeof m !== "string");
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Receiver behaviour of keks-meet: close once `end` arrives. */
function closeOnEnd(end: FakeChannel): void {
  end.addEventListener("message", ({ data }) => {
    if (data === "end") end.close();
  });
}

describe("FileSender", () => {
  it("speaks plain keks-meet to a request without offset: 32 KiB chunks, end, no header, no digest", async () => {
    const file = patternBytes(100_000);
    const [near, far] = createChannelPair({ maxMessageSize: 262144 });
    const received = record(far);
    closeOnEnd(far);
    const sender = new FileSender({ channel: near, source: memorySource(file), request: {}, maxMessageSize: 262144 });
    const done = await sender.events.once("done");
    expect(done).toEqual({ size: 100_000, receiverClosed: true });
    expect(sender.state).toBe("done");
    const texts = received.filter((m) => typeof m === "string");
    expect(texts).toEqual(["end"]);
    expect(received.at(-1)).toBe("end");
    expect(binaryOf(received).map((m) => m.length)).toEqual([32768, 32768, 32768, 1696]);
    expectSameBytes(concat(binaryOf(received)), file);
    expect(near.listenerCount()).toBe(0);
  });

  it("adds the header and a SHA-256 trailer for a meshmeet receiver (offset 0)", async () => {
    const file = patternBytes(300_000, 7);
    const [near, far] = createChannelPair({ maxMessageSize: 262144 });
    const received = record(far);
    closeOnEnd(far);
    const sender = new FileSender({ channel: near, source: memorySource(file), request: { offset: 0 }, maxMessageSize: 262144 });
    const done = await sender.events.once("done");
    expect(done).toEqual({ size: 300_000, receiverClosed: true, sha256: sha256Hex(file) });
    expect(received[0]).toBe(encodeHeader({ offset: 0, size: 300_000 }));
    expect(received.slice(-2)).toEqual([encodeDigest(sha256Hex(file)), "end"]);
    expect(binaryOf(received).map((m) => m.length)).toEqual([262144, 300_000 - 262144]);
    expectSameBytes(concat(binaryOf(received)), file);
  });

  it("caps chunks at the remote's maxMessageSize", async () => {
    const file = patternBytes(50_000);
    const [near, far] = createChannelPair({ maxMessageSize: 16384 });
    const received = record(far);
    closeOnEnd(far);
    const sender = new FileSender({ channel: near, source: memorySource(file), request: { offset: 0 }, maxMessageSize: 16384 });
    await sender.events.once("done");
    expect(binaryOf(received).map((m) => m.length)).toEqual([16384, 16384, 16384, 848]);
  });

  it("resumes at the request's offset: hashes the skipped part, sends only the rest", async () => {
    const file = patternBytes(3 * 1024 * 1024 + 5, 3);
    const offset = 1024 * 1024 + 17;
    const [near, far] = createChannelPair();
    const received = record(far);
    closeOnEnd(far);
    const reads: { offset: number; length: number }[] = [];
    const sender = new FileSender({ channel: near, source: memorySource(file, { reads }), request: { offset }, maxMessageSize: 65536 });
    const done = await sender.events.once("done");
    expect(received[0]).toBe(encodeHeader({ offset, size: file.length }));
    expectSameBytes(concat(binaryOf(received)), file.subarray(offset));
    expect(done.sha256).toBe(sha256Hex(file)); // over the WHOLE file
    expect(received.at(-2)).toBe(encodeDigest(sha256Hex(file)));
    // Skipped bytes are read in large blocks, and nothing before the offset is read twice.
    expect(reads.filter((r) => r.offset < offset).map((r) => r.length)).toEqual([1024 * 1024, 17]);
  });

  it("answers a resume at the very end with the known digest, without reading the file", async () => {
    const file = patternBytes(1000);
    const [near, far] = createChannelPair();
    const received = record(far);
    closeOnEnd(far);
    const source = memorySource(file);
    const read = vi.spyOn(source, "read");
    const sender = new FileSender({ channel: near, source, request: { offset: 1000 }, maxMessageSize: 65536, knownDigest: sha256Hex(file) });
    await sender.events.once("done");
    expect(received).toEqual([encodeHeader({ offset: 1000, size: 1000 }), encodeDigest(sha256Hex(file)), "end"]);
    expect(read).not.toHaveBeenCalled();
  });

  it("refuses a resume at the very end when no digest is known: it would hash the whole file to send nothing", async () => {
    const [near, far] = createChannelPair();
    const received = record(far);
    const source = memorySource(patternBytes(1000));
    const read = vi.spyOn(source, "read");
    const sender = new FileSender({ channel: near, source, request: { offset: 1000 }, maxMessageSize: 65536 });
    expect(await sender.events.once("failed")).toMatchObject({ code: "nothing_to_send" });
    await vi.waitFor(() => expect(far.readyState).toBe("closed"));
    expect(received).toEqual([]);
    expect(read).not.toHaveBeenCalled();
  });

  it("sends an empty file as just end", async () => {
    const [near, far] = createChannelPair();
    const received = record(far);
    closeOnEnd(far);
    const sender = new FileSender({ channel: near, source: memorySource(new Uint8Array(0)), request: {}, maxMessageSize: 65536 });
    await sender.events.once("done");
    expect(received).toEqual(["end"]);
  });

  it("pauses above high water, resumes at low water, and fills to the brim in between", async () => {
    const file = patternBytes(8 * 1024 * 1024, 5);
    const [near, far] = createChannelPair({ bytesPerTick: 64 * 1024 });
    closeOnEnd(far);
    let maxBuffered = 0;
    let lowestRefill = Infinity;
    let waitedForLow = false;
    near.addEventListener("bufferedamountlow", () => {
      waitedForLow = true;
      lowestRefill = Math.min(lowestRefill, near.bufferedAmount);
    });
    near.intercept = (message) => {
      maxBuffered = Math.max(maxBuffered, near.bufferedAmount);
      return message;
    };
    const sender = new FileSender({ channel: near, source: memorySource(file), request: { offset: 0 }, maxMessageSize: 65536 });
    expect(near.bufferedAmountLowThreshold).toBe(0); // set once the transfer starts, not in the constructor
    await sender.events.once("done");
    expect(waitedForLow).toBe(true);
    expect(lowestRefill).toBeLessThanOrEqual(LOW_WATER_BYTES);
    // Never more than one chunk above high water (checked before each send)…
    expect(maxBuffered).toBeLessThanOrEqual(HIGH_WATER_BYTES + 65536);
    // …and filled up to it, not one chunk per event.
    expect(maxBuffered).toBeGreaterThan(HIGH_WATER_BYTES - 65536);
  });

  it("reports progress: bytesSent rises to the size, bytesAcked trails it and ends at the size", async () => {
    const file = patternBytes(2 * 1024 * 1024);
    const [near, far] = createChannelPair({ bytesPerTick: 128 * 1024 });
    closeOnEnd(far);
    const sender = new FileSender({ channel: near, source: memorySource(file), request: { offset: 0 }, maxMessageSize: 65536 });
    const progress: SenderProgress[] = [];
    sender.events.on("progress", (p) => progress.push(p));
    await sender.events.once("done");
    expect(progress.length).toBeGreaterThan(30);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.bytesSent).toBeGreaterThanOrEqual(progress[i - 1]!.bytesSent);
    expect(progress.every((p) => p.bytesAcked <= p.bytesSent && p.size === file.length)).toBe(true);
    expect(progress.some((p) => p.bytesAcked < p.bytesSent)).toBe(true);
    expect(progress.at(-1)).toEqual({ bytesSent: file.length, bytesAcked: file.length, size: file.length });
  });

  it("waits for a connecting channel to open", async () => {
    const [near, far] = createChannelPair({ connecting: true });
    const received = record(far);
    closeOnEnd(far);
    const sender = new FileSender({ channel: near, source: memorySource(patternBytes(10)), request: { offset: 0 }, maxMessageSize: 65536 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sender.state).toBe("starting");
    expect(received).toEqual([]);
    near.open();
    await sender.events.once("done");
    expect(received).toHaveLength(4);
  });

  it("closes the channel itself when the receiver never does (rift), once everything drained", async () => {
    const [near, far] = createChannelPair();
    const received = record(far); // never closes
    const sender = new FileSender({
      channel: near,
      source: memorySource(patternBytes(100_000)),
      request: {},
      maxMessageSize: 65536,
      finishTimeoutMs: 30,
    });
    await new Promise((resolve) => setTimeout(resolve, 15));
    expect(sender.state).toBe("finishing");
    const done = await sender.events.once("done");
    expect(done.receiverClosed).toBe(false);
    expect(received.at(-1)).toBe("end");
    await vi.waitFor(() => expect(far.readyState).toBe("closed"));
  });

  it("fails as stalled when nothing drains after end", async () => {
    const [near, far] = createChannelPair();
    record(far);
    const sender = new FileSender({ channel: near, source: memorySource(patternBytes(10)), request: {}, maxMessageSize: 65536, finishTimeoutMs: 30 });
    sender.events.on("progress", () => {
      // Freeze the link once the last message is queued: bufferedAmount never falls again.
      if (sender.state === "finishing") Object.defineProperty(near, "bufferedAmount", { get: () => 3, set: () => {} });
    });
    expect(await sender.events.once("failed")).toMatchObject({ code: "stalled" });
  });

  it("refuses an offset beyond the size and closes the channel", async () => {
    const [near, far] = createChannelPair();
    const received = record(far);
    const sender = new FileSender({ channel: near, source: memorySource(patternBytes(10)), request: { offset: 11 }, maxMessageSize: 65536 });
    expect(await sender.events.once("failed")).toMatchObject({ code: "offset_beyond_size" });
    expect(sender.state).toBe("failed");
    await vi.waitFor(() => expect(far.readyState).toBe("closed"));
    expect(received).toEqual([]);
  });

  for (const offset of [-1, 1.5, Number.NaN]) {
    it(`refuses the offset ${offset}`, async () => {
      const [near] = createChannelPair();
      const sender = new FileSender({ channel: near, source: memorySource(patternBytes(10)), request: { offset }, maxMessageSize: 65536 });
      expect(await sender.events.once("failed")).toMatchObject({ code: "bad_request" });
      expect(near.readyState).not.toBe("open");
    });
  }

  it("refuses a maxMessageSize too small to carry anything", async () => {
    const [near] = createChannelPair();
    const sender = new FileSender({ channel: near, source: memorySource(patternBytes(10)), request: {}, maxMessageSize: 200 });
    expect(await sender.events.once("failed")).toMatchObject({ code: "bad_max_message_size" });
  });

  it("fails cleanly when the source cannot be read", async () => {
    const [near, far] = createChannelPair();
    const received = record(far);
    const sender = new FileSender({
      channel: near,
      source: memorySource(patternBytes(500_000), { failAt: 200_000 }),
      request: { offset: 0 },
      maxMessageSize: 65536,
    });
    const failed = await sender.events.once("failed");
    expect(failed.code).toBe("source_failed");
    expect(failed.message).toContain("disk on fire");
    await vi.waitFor(() => expect(far.readyState).toBe("closed"));
    expect(received.includes("end")).toBe(false);
  });

  it("fails cleanly when the source fails while hashing a resume", async () => {
    const [near] = createChannelPair();
    const sender = new FileSender({
      channel: near,
      source: memorySource(patternBytes(500_000), { failAt: 10 }),
      request: { offset: 400_000 },
      maxMessageSize: 65536,
    });
    expect(await sender.events.once("failed")).toMatchObject({ code: "source_failed" });
  });

  it("fails when the source returns fewer bytes than asked (the file changed)", async () => {
    const [near] = createChannelPair();
    const sender = new FileSender({ channel: near, source: memorySource(patternBytes(500_000), { shortAt: 300_000 }), request: {}, maxMessageSize: 65536 });
    const failed = await sender.events.once("failed");
    expect(failed.code).toBe("source_failed");
    expect(failed.message).toContain("did the file change");
  });

  it("fails when the source throws synchronously", async () => {
    const [near] = createChannelPair();
    const source = {
      size: 10,
      read(): Promise<Uint8Array> {
        throw new Error("no such file");
      },
    };
    const sender = new FileSender({ channel: near, source, request: {}, maxMessageSize: 65536 });
    expect(await sender.events.once("failed")).toMatchObject({ code: "source_failed" });
  });

  it("fails when the source's size is not a file size", async () => {
    const [near] = createChannelPair();
    const source = { size: -1, read: async () => new Uint8Array(0) };
    const sender = new FileSender({ channel: near, source, request: {}, maxMessageSize: 65536 });
    expect(await sender.events.once("failed")).toMatchObject({ code: "source_failed" });
  });

  it("fails when the source returns something other than bytes", async () => {
    const [near] = createChannelPair();
    const source = { size: 10, read: async () => new ArrayBuffer(10) as unknown as Uint8Array };
    const sender = new FileSender({ channel: near, source, request: { offset: 0 }, maxMessageSize: 65536 });
    expect(await sender.events.once("failed")).toMatchObject({ code: "source_failed" });
  });

  it("fails as channel_closed when the receiver closes mid-way", async () => {
    const [near, far] = createChannelPair({ bytesPerTick: 64 * 1024 });
    let got = 0;
    far.addEventListener("message", ({ data }) => {
      if (typeof data !== "string" && (got += (data as ArrayBuffer).byteLength) > 500_000) far.close();
    });
    const sender = new FileSender({ channel: near, source: memorySource(patternBytes(4 * 1024 * 1024)), request: { offset: 0 }, maxMessageSize: 65536 });
    expect(await sender.events.once("failed")).toMatchObject({ code: "channel_closed" });
    expect(near.listenerCount()).toBe(0);
  });

  it("cancel() closes the channel, stops sending and stays quiet", async () => {
    const [near, far] = createChannelPair({ bytesPerTick: 64 * 1024 });
    const received = record(far);
    const sender = new FileSender({ channel: near, source: memorySource(patternBytes(4 * 1024 * 1024)), request: { offset: 0 }, maxMessageSize: 65536 });
    const events: string[] = [];
    sender.events.on("done", () => events.push("done"));
    sender.events.on("failed", () => events.push("failed"));
    await sender.events.once("progress");
    sender.cancel();
    expect(sender.state).toBe("cancelled");
    await vi.waitFor(() => expect(far.readyState).toBe("closed"));
    const count = received.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received.length).toBe(count);
    expect(received.includes("end")).toBe(false);
    expect(events).toEqual([]);
    sender.cancel(); // idempotent
    expect(sender.state).toBe("cancelled");
  });
});
