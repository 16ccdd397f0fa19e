// FileReceiver against a scripted sender: the near end of a fake channel pair, written raw, so
// every malformed sequence a peer could produce can be tried.

import { createHash } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { createChannelPair, type FakeChannelOptions, MemorySink, type MemorySinkOptions, patternBytes } from "./fakes.js";
import { FileReceiver, type ReceiverProgress, type ResumeState } from "./file-receiver.js";
import { encodeDigest, encodeHeader, MAX_FILE_BYTES, MAX_PENDING_WRITE_BYTES } from "./protocol.js";

const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

function setup(size: number, options: { channel?: FakeChannelOptions; sink?: MemorySinkOptions; resume?: ResumeState } = {}) {
  const [raw, channel] = createChannelPair({ maxMessageSize: 1 << 30, ...options.channel });
  const sink = new MemorySink(options.sink);
  const receiver = new FileReceiver({ channel, size, sink, resume: options.resume });
  return { raw, channel, sink, receiver };
}

function sendChunks(raw: { send(data: Uint8Array): void }, bytes: Uint8Array, chunk: number): void {
  for (let at = 0; at < bytes.length; at += chunk) raw.send(bytes.subarray(at, at + chunk));
}

/** Sends file[0, cut) as a keks-meet sender would, then breaks the connection once it arrived. */
async function interruptedAt(file: Uint8Array, cut: number) {
  const first = setup(file.length);
  first.raw.send(encodeHeader({ offset: 0, size: file.length }));
  sendChunks(first.raw, file.subarray(0, cut), 10_000);
  await vi.waitFor(() => expect(first.sink.bytes).toBe(cut));
  first.raw.breakConnection();
  const interrupted = await first.receiver.events.once("interrupted");
  expect(interrupted).toEqual({ bytesWritten: cut, size: file.length });
  const resume = first.receiver.resumeState();
  if (!resume) throw new Error("no resume state");
  return { sink: first.sink, resume };
}

describe("FileReceiver: good transfers", () => {
  it("takes a keks-meet sender (bytes, end): done, not verified, sink closed before the channel", async () => {
    const file = patternBytes(100_000);
    const { raw, channel, sink, receiver } = setup(file.length);
    expect(channel.binaryType).toBe("arraybuffer");
    const order: string[] = [];
    raw.addEventListener("close", () => order.push(`channel closed, sink closed: ${sink.closed}`));
    sendChunks(raw, file, 32768);
    raw.send("end");
    const done = await receiver.events.once("done");
    expect(done).toEqual({ verified: false, sha256: sha256Hex(file) });
    expect(receiver.state).toBe("done");
    expectSameBytes(sink.contents(), file);
    expect(sink.closed).toBe(true);
    await vi.waitFor(() => expect(order).toEqual(["channel closed, sink closed: true"]));
    expect(channel.listenerCount()).toBe(0);
  });

  it("verifies a meshmeet sender's digest", async () => {
    const file = patternBytes(200_000, 9);
    const { raw, sink, receiver } = setup(file.length);
    raw.send(encodeHeader({ offset: 0, size: file.length }));
    sendChunks(raw, file, 65536);
    raw.send(encodeDigest(sha256Hex(file)));
    raw.send("end");
    expect(await receiver.events.once("done")).toEqual({ verified: true, sha256: sha256Hex(file) });
    expectSameBytes(sink.contents(), file);
  });

  it("accepts any chunk size, including empty and 256 KiB messages", async () => {
    const file = patternBytes(600_000);
    const { raw, sink, receiver } = setup(file.length);
    raw.send(file.subarray(0, 1));
    raw.send(new Uint8Array(0));
    raw.send(file.subarray(1, 262145));
    sendChunks(raw, file.subarray(262145), 777);
    raw.send("end");
    await receiver.events.once("done");
    expectSameBytes(sink.contents(), file);
  });

  it("takes an empty file", async () => {
    const { raw, sink, receiver } = setup(0);
    raw.send("end");
    expect(await receiver.events.once("done")).toMatchObject({ verified: false });
    expect(sink.closed).toBe(true);
  });

  it("takes messages as Node Buffers (werift) and as views with an offset, without copying", async () => {
    const file = patternBytes(100_000);
    for (const deliver of [
      (bytes: Uint8Array) => Buffer.from(bytes),
      (bytes: Uint8Array) => {
        const padded = new Uint8Array(bytes.length + 7);
        padded.set(bytes, 3);
        return new DataView(padded.buffer, 3, bytes.length);
      },
    ]) {
      const delivered: unknown[] = [];
      const { raw, sink, receiver } = setup(file.length, {
        channel: {
          deliver: (bytes) => {
            const data = deliver(bytes);
            delivered.push(data);
            return data;
          },
        },
      });
      sendChunks(raw, file, 30_000);
      raw.send("end");
      await receiver.events.once("done");
      expectSameBytes(sink.contents(), file);
      // The sink got views onto the very memory the channel delivered.
      const first = delivered[0] as ArrayBufferView;
      expect(sink.chunks[0]?.buffer).toBe(first.buffer);
    }
  });

  it("writes one chunk at a time and reports progress after each write", async () => {
    const file = patternBytes(300_000);
    const { raw, sink, receiver } = setup(file.length, { sink: { writeMs: 2 } });
    const progress: ReceiverProgress[] = [];
    receiver.events.on("progress", (p) => progress.push(p));
    sendChunks(raw, file, 10_000);
    raw.send("end");
    await receiver.events.once("done");
    expect(sink.maxWritesInFlight).toBe(1);
    expect(sink.usedAfterEnd).toBe(false);
    expect(progress).toHaveLength(30);
    expect(progress.at(-1)).toEqual({ bytesReceived: file.length, size: file.length });
  });

  it("ignores a close after end (rift closes itself) and anything sent after end", async () => {
    const file = patternBytes(1000);
    const { raw, sink, receiver } = setup(file.length, { sink: { writeMs: 20 } });
    const events: string[] = [];
    receiver.events.on("interrupted", () => events.push("interrupted"));
    receiver.events.on("failed", () => events.push("failed"));
    raw.send(file);
    raw.send("end");
    raw.send("whatever");
    raw.close();
    await receiver.events.once("done");
    expect(events).toEqual([]);
    expectSameBytes(sink.contents(), file);
  });
});

describe("FileReceiver: bad peers", () => {
  async function expectFailure(
    receiver: FileReceiver,
    sink: MemorySink,
    channel: { readyState: string },
    code: string,
    message?: string,
  ): Promise<void> {
    const failed = await receiver.events.once("failed");
    expect(failed.code).toBe(code);
    if (message) expect(failed.message).toBe(message);
    expect(receiver.state).toBe("failed");
    await vi.waitFor(() => expect(sink.aborted).toBe(failed.message));
    expect(sink.closed).toBe(false);
    expect(sink.usedAfterEnd).toBe(false);
    await vi.waitFor(() => expect(channel.readyState).toBe("closed"));
  }

  it("fails on more bytes than announced", async () => {
    const { raw, channel, sink, receiver } = setup(100);
    raw.send(patternBytes(60));
    raw.send(patternBytes(41));
    await expectFailure(receiver, sink, channel, "too_many_bytes", "peer sent more than it announced");
  });

  it("fails on more bytes than announced after a header", async () => {
    const { raw, channel, sink, receiver } = setup(100);
    raw.send(encodeHeader({ offset: 0, size: 100 }));
    raw.send(patternBytes(101));
    await expectFailure(receiver, sink, channel, "too_many_bytes");
  });

  it("fails on end before the announced size", async () => {
    const { raw, channel, sink, receiver } = setup(100);
    raw.send(patternBytes(99));
    raw.send("end");
    await expectFailure(receiver, sink, channel, "too_few_bytes");
  });

  it("fails on a digest that does not match", async () => {
    const file = patternBytes(1000);
    const { raw, channel, sink, receiver } = setup(file.length);
    raw.send(encodeHeader({ offset: 0, size: file.length }));
    raw.send(file);
    raw.send(encodeDigest(sha256Hex(patternBytes(1000, 2))));
    raw.send("end");
    await expectFailure(receiver, sink, channel, "digest_mismatch", "contents differ from what the sender hashed");
  });

  const protocolCases: [string, (string | Uint8Array)[]][] = [
    ["an unknown text message", ["hello"]],
    ["garbage JSON", ['{"sha256":']],
    ["an unknown JSON message", ['{"resume":5}']],
    ["a header after data", [patternBytes(10), encodeHeader({ offset: 0, size: 100 })]],
    ["a second header", [encodeHeader({ offset: 0, size: 100 }), encodeHeader({ offset: 0, size: 100 })]],
    ["a header with another size", [encodeHeader({ offset: 0, size: 99 })]],
    ["a header that starts after bytes we have", [encodeHeader({ offset: 1, size: 100 })]],
    ["a digest without a header", [patternBytes(100), encodeDigest("0".repeat(64))]],
    ["a second digest", [encodeHeader({ offset: 0, size: 0 }), encodeDigest("0".repeat(64)), encodeDigest("0".repeat(64))]],
    ["bytes after the digest", [encodeHeader({ offset: 0, size: 100 }), patternBytes(50), encodeDigest("0".repeat(64)), patternBytes(50)]],
    ["end without the digest a header promised", [encodeHeader({ offset: 0, size: 10 }), patternBytes(10), "end"]],
  ];
  for (const [name, messages] of protocolCases) {
    it(`fails on ${name} as a protocol error`, async () => {
      const { raw, channel, sink, receiver } = setup(100);
      for (const message of messages) raw.send(message);
      await expectFailure(receiver, sink, channel, "protocol");
    });
  }

  it("fails on a binary message it cannot read synchronously (a Blob)", async () => {
    const { raw, channel, sink, receiver } = setup(100, { channel: { deliver: (bytes) => new Blob([bytes.slice()]) } });
    raw.send(patternBytes(10));
    await expectFailure(receiver, sink, channel, "protocol");
  });

  it("fails when the sink falls too far behind, instead of buffering the file", async () => {
    const size = MAX_PENDING_WRITE_BYTES + 4 * 1024 * 1024;
    const { raw, channel, sink, receiver } = setup(size, { channel: { bytesPerTick: 8 * 1024 * 1024 }, sink: { held: true } });
    const chunk = new Uint8Array(1024 * 1024);
    for (let i = 0; i < size / chunk.length; i++) raw.send(chunk);
    const failed = await receiver.events.once("failed");
    expect(failed.code).toBe("write_backlog");
    // The abort waits for the stuck write; it comes once the disk moves again.
    expect(sink.aborted).toBeUndefined();
    sink.release();
    await vi.waitFor(() => expect(sink.aborted).toBe(failed.message));
    expect(sink.writeCalls).toBe(1);
    expect(sink.usedAfterEnd).toBe(false);
    expect(channel.readyState).not.toBe("open");
  });

  it("fails when a write fails", async () => {
    const { raw, channel, sink, receiver } = setup(100, { sink: { failWriteAt: 2 } });
    for (let i = 0; i < 10; i++) raw.send(patternBytes(10));
    const failed = await receiver.events.once("failed");
    expect(failed).toMatchObject({ code: "sink_failed" });
    expect(failed.message).toContain("disk full");
    await vi.waitFor(() => expect(sink.aborted).toBeDefined());
    expect(sink.maxWritesInFlight).toBe(1);
    expect(sink.usedAfterEnd).toBe(false);
    expect(channel.readyState).not.toBe("open");
  });

  it("fails when the sink cannot close", async () => {
    const { raw, sink, receiver } = setup(10, { sink: { failClose: true } });
    raw.send(patternBytes(10));
    raw.send("end");
    expect(await receiver.events.once("failed")).toMatchObject({ code: "sink_failed" });
    await vi.waitFor(() => expect(sink.aborted).toBeDefined());
  });

  for (const size of [-1, 1.5, MAX_FILE_BYTES + 1, Number.NaN]) {
    it(`refuses the announced size ${size}`, async () => {
      const { channel, sink, receiver } = setup(size);
      await expectFailure(receiver, sink, channel, "bad_size");
    });
  }
});

describe("FileReceiver: interruption, resume, cancel", () => {
  it("a close without end is an interruption: writes finish, the sink stays open", async () => {
    const file = patternBytes(100_000);
    const { raw, sink, receiver } = setup(file.length, { sink: { writeMs: 5 } });
    sendChunks(raw, file.subarray(0, 40_000), 10_000);
    raw.close();
    const interrupted = await receiver.events.once("interrupted");
    expect(interrupted).toEqual({ bytesWritten: 40_000, size: file.length });
    expect(receiver.state).toBe("interrupted");
    expect(sink.closed).toBe(false);
    expect(sink.aborted).toBeUndefined();
    expect(receiver.resumeState()).toMatchObject({ bytesWritten: 40_000, size: file.length });
  });

  it("a channel closed before anything arrived is an interruption at the resume point", async () => {
    const { raw, receiver } = setup(100);
    raw.breakConnection();
    expect(await receiver.events.once("interrupted")).toEqual({ bytesWritten: 0, size: 100 });
  });

  it("has no resume state unless interrupted", async () => {
    const { raw, receiver } = setup(10);
    expect(receiver.resumeState()).toBeUndefined();
    raw.send(patternBytes(10));
    raw.send("end");
    await receiver.events.once("done");
    expect(receiver.resumeState()).toBeUndefined();
  });

  it("resumes from a meshmeet sender that starts at the offset: verified", async () => {
    const file = patternBytes(250_000, 4);
    const { sink, resume } = await interruptedAt(file, 90_000);
    const [raw, channel] = createChannelPair({ maxMessageSize: 1 << 30 });
    const receiver = new FileReceiver({ channel, size: file.length, sink, resume });
    raw.send(encodeHeader({ offset: 90_000, size: file.length }));
    sendChunks(raw, file.subarray(90_000), 65536);
    raw.send(encodeDigest(sha256Hex(file)));
    raw.send("end");
    expect(await receiver.events.once("done")).toEqual({ verified: true, sha256: sha256Hex(file) });
    expectSameBytes(sink.contents(), file);
  });

  it("resumes from a meshmeet sender that starts earlier: drops the overlap, verified", async () => {
    const file = patternBytes(250_000, 4);
    const { sink, resume } = await interruptedAt(file, 90_000);
    const [raw, channel] = createChannelPair({ maxMessageSize: 1 << 30 });
    const receiver = new FileReceiver({ channel, size: file.length, sink, resume });
    raw.send(encodeHeader({ offset: 50_000, size: file.length }));
    sendChunks(raw, file.subarray(50_000), 30_000); // 80 000 lands inside a chunk
    raw.send(encodeDigest(sha256Hex(file)));
    raw.send("end");
    expect(await receiver.events.once("done")).toMatchObject({ verified: true });
    expectSameBytes(sink.contents(), file);
  });

  it("resumes from a keks-meet sender that restarts at 0: drops the overlap, byte-identical, unverified", async () => {
    const file = patternBytes(250_000, 4);
    const { sink, resume } = await interruptedAt(file, 90_000);
    const [raw, channel] = createChannelPair({ maxMessageSize: 1 << 30 });
    const receiver = new FileReceiver({ channel, size: file.length, sink, resume });
    sendChunks(raw, file, 32768);
    raw.send("end");
    expect(await receiver.events.once("done")).toEqual({ verified: false, sha256: sha256Hex(file) });
    expectSameBytes(sink.contents(), file);
  });

  it("a resume state can be used twice (the receiver keeps its own copy of the hash)", async () => {
    const file = patternBytes(50_000, 4);
    const { resume } = await interruptedAt(file, 20_000);
    for (let attempt = 0; attempt < 2; attempt++) {
      const [raw, channel] = createChannelPair({ maxMessageSize: 1 << 30 });
      const receiver = new FileReceiver({ channel, size: file.length, sink: new MemorySink(), resume });
      raw.send(encodeHeader({ offset: 20_000, size: file.length }));
      raw.send(file.subarray(20_000));
      raw.send(encodeDigest(sha256Hex(file)));
      raw.send("end");
      expect(await receiver.events.once("done")).toMatchObject({ verified: true });
    }
  });

  it("refuses a resume state of another size or outside the file", async () => {
    const file = patternBytes(50_000);
    const { resume } = await interruptedAt(file, 20_000);
    expect(await setup(60_000, { resume }).receiver.events.once("failed")).toMatchObject({ code: "bad_resume" });
    const broken = { ...resume, bytesWritten: 50_001 };
    expect(await setup(50_000, { resume: broken }).receiver.events.once("failed")).toMatchObject({ code: "bad_resume" });
  });

  it("cancel() closes the channel and aborts the sink after the write in flight", async () => {
    const { raw, sink, receiver } = setup(100_000, { sink: { held: true } });
    const events: string[] = [];
    for (const type of ["done", "failed", "interrupted"] as const) receiver.events.on(type, () => events.push(type));
    raw.send(patternBytes(10_000));
    raw.send(patternBytes(10_000));
    await vi.waitFor(() => expect(sink.writesInFlight).toBe(1));
    receiver.cancel();
    expect(receiver.state).toBe("cancelled");
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sink.aborted).toBeUndefined();
    sink.release();
    await vi.waitFor(() => expect(sink.aborted).toBe("cancelled"));
    expect(sink.usedAfterEnd).toBe(false);
    expect(sink.writeCalls).toBe(1);
    await vi.waitFor(() => expect(raw.readyState).toBe("closed"));
    expect(events).toEqual([]);
  });

  it("cancel() after an interruption aborts the sink", async () => {
    const { raw, sink, receiver } = setup(100);
    raw.send(patternBytes(10));
    raw.close();
    await receiver.events.once("interrupted");
    receiver.cancel();
    expect(receiver.state).toBe("cancelled");
    await vi.waitFor(() => expect(sink.aborted).toBe("cancelled"));
    expect(receiver.resumeState()).toBeUndefined();
  });
});
