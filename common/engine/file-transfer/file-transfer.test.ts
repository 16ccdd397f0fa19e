// FileSender and FileReceiver together over the fake channel pair: whole transfers, tampering in
// flight, interruption and resume against each kind of sender, cancel from either side.

import { createHash } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { createChannelPair, type FakeChannel, type FakeChannelOptions, MemorySink, memorySource, patternBytes } from "./fakes.js";
import { FileReceiver, type ResumeState } from "./file-receiver.js";
import { FileSender } from "./file-sender.js";
import { encodeHeader } from "./protocol.js";

const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

interface Leg {
  near: FakeChannel;
  sender: FileSender;
  receiver: FileReceiver;
}

function transfer(
  file: Uint8Array,
  sink: MemorySink,
  options: { request?: { offset?: number }; resume?: ResumeState; channel?: FakeChannelOptions; maxMessageSize?: number } = {},
): Leg {
  const maxMessageSize = options.maxMessageSize ?? 65536;
  const [near, far] = createChannelPair({ maxMessageSize, ...options.channel });
  const receiver = new FileReceiver({ channel: far, size: file.length, sink, resume: options.resume });
  const request = options.request ?? { offset: options.resume?.bytesWritten ?? 0 };
  const sender = new FileSender({ channel: near, source: memorySource(file), request, maxMessageSize });
  return { near, sender, receiver };
}

/** Runs a meshmeet transfer until the sink holds at least `cut` bytes, then kills the connection. */
async function interrupted(file: Uint8Array, cut: number, sink: MemorySink): Promise<ResumeState> {
  const leg = transfer(file, sink, { channel: { bytesPerTick: 32 * 1024 } });
  const senderFailed = leg.sender.events.once("failed");
  await new Promise<void>((resolve) => {
    const off = leg.receiver.events.on("progress", ({ bytesReceived }) => {
      if (bytesReceived < cut) return;
      off();
      leg.near.breakConnection();
      resolve();
    });
  });
  expect(await senderFailed).toMatchObject({ code: "channel_closed" });
  const { bytesWritten } = await leg.receiver.events.once("interrupted");
  expect(bytesWritten).toBeGreaterThanOrEqual(cut);
  expect(bytesWritten).toBeLessThan(file.length);
  expect(sink.bytes).toBe(bytesWritten);
  const resume = leg.receiver.resumeState();
  if (!resume) throw new Error("no resume state");
  return resume;
}

describe("sender ↔ receiver", () => {
  it("moves a file, verified, with werift-style Buffer messages", async () => {
    const file = patternBytes(3 * 1024 * 1024 + 123, 11);
    const sink = new MemorySink();
    const leg = transfer(file, sink, { channel: { deliver: (bytes) => Buffer.from(bytes) } });
    const [done, sent] = await Promise.all([leg.receiver.events.once("done"), leg.sender.events.once("done")]);
    expect(done).toEqual({ verified: true, sha256: sha256Hex(file) });
    expect(sent).toEqual({ size: file.length, receiverClosed: true, sha256: sha256Hex(file) });
    expectSameBytes(sink.contents(), file);
  });

  it("moves a file to a keks-meet-style request (no offset): identical, unverified", async () => {
    const file = patternBytes(500_000, 12);
    const sink = new MemorySink();
    const leg = transfer(file, sink, { request: {} });
    expect(await leg.receiver.events.once("done")).toMatchObject({ verified: false });
    expect(await leg.sender.events.once("done")).toMatchObject({ receiverClosed: true });
    expectSameBytes(sink.contents(), file);
  });

  it("never sends a message above maxMessageSize (the fake throws, as werift does)", async () => {
    const file = patternBytes(200_000);
    const sink = new MemorySink();
    const leg = transfer(file, sink, { maxMessageSize: 5000 });
    await leg.receiver.events.once("done");
    const binary = leg.near.sentLog.filter((m): m is number => typeof m === "number");
    expect(Math.max(...binary)).toBe(5000);
  });

  it("catches one byte changed in flight", async () => {
    const file = patternBytes(400_000, 13);
    const sink = new MemorySink();
    const [near, far] = createChannelPair();
    near.intercept = (message, index) => {
      if (index === 3 && typeof message !== "string") message[100] = (message[100] ?? 0) ^ 1;
      return message;
    };
    const receiver = new FileReceiver({ channel: far, size: file.length, sink });
    new FileSender({ channel: near, source: memorySource(file), request: { offset: 0 }, maxMessageSize: 65536 });
    const failed = await receiver.events.once("failed");
    expect(failed).toEqual({ code: "digest_mismatch", message: "contents differ from what the sender hashed" });
    await vi.waitFor(() => expect(sink.aborted).toBeDefined());
  });

  it("resumes with a meshmeet sender from the receiver's offset: verified and identical", async () => {
    const file = patternBytes(2 * 1024 * 1024, 14);
    const sink = new MemorySink();
    const resume = await interrupted(file, 700_000, sink);
    const leg = transfer(file, sink, { resume });
    expect(await leg.receiver.events.once("done")).toEqual({ verified: true, sha256: sha256Hex(file) });
    expect(leg.near.sentLog[0]).toBe(encodeHeader({ offset: resume.bytesWritten, size: file.length }));
    expectSameBytes(sink.contents(), file);
    // Only the missing part crossed the second channel.
    const resent = leg.near.sentLog.filter((m): m is number => typeof m === "number").reduce((a, b) => a + b, 0);
    expect(resent).toBe(file.length - resume.bytesWritten);
  });

  it("resumes with a meshmeet sender that restarts at 0: overlap dropped, verified", async () => {
    const file = patternBytes(2 * 1024 * 1024, 15);
    const sink = new MemorySink();
    const resume = await interrupted(file, 700_000, sink);
    const leg = transfer(file, sink, { resume, request: { offset: 0 } });
    expect(await leg.receiver.events.once("done")).toMatchObject({ verified: true });
    expectSameBytes(sink.contents(), file);
  });

  it("resumes with a keks-meet-style sender that restarts at 0: overlap dropped, identical", async () => {
    const file = patternBytes(2 * 1024 * 1024, 16);
    const sink = new MemorySink();
    const resume = await interrupted(file, 700_000, sink);
    const leg = transfer(file, sink, { resume, request: {} });
    expect(await leg.receiver.events.once("done")).toEqual({ verified: false, sha256: sha256Hex(file) });
    expectSameBytes(sink.contents(), file);
  });

  it("resumes across several interruptions", async () => {
    const file = patternBytes(3 * 1024 * 1024, 17);
    const sink = new MemorySink();
    let resume = await interrupted(file, 500_000, sink);
    for (const cut of [1_200_000, 2_500_000]) {
      const leg = transfer(file, sink, { resume, channel: { bytesPerTick: 32 * 1024 } });
      await new Promise<void>((resolve) => {
        const off = leg.receiver.events.on("progress", ({ bytesReceived }) => {
          if (bytesReceived < cut) return;
          off();
          leg.near.breakConnection();
          resolve();
        });
      });
      await leg.receiver.events.once("interrupted");
      const next = leg.receiver.resumeState();
      if (!next) throw new Error("no resume state");
      resume = next;
    }
    const leg = transfer(file, sink, { resume });
    expect(await leg.receiver.events.once("done")).toMatchObject({ verified: true });
    expectSameBytes(sink.contents(), file);
  });

  it("a resume against a file whose start changed fails the digest instead of splicing two files", async () => {
    const file = patternBytes(1024 * 1024, 18);
    const sink = new MemorySink();
    const resume = await interrupted(file, 300_000, sink);
    const changed = file.slice();
    changed[10] = (changed[10] ?? 0) ^ 0xff;
    const leg = transfer(changed, sink, { resume });
    expect(await leg.receiver.events.once("failed")).toMatchObject({ code: "digest_mismatch" });
  });

  it("cancel on the sender: a meshmeet receiver is told, fails as sender_cancelled and does not resume", async () => {
    const file = patternBytes(2 * 1024 * 1024);
    const sink = new MemorySink();
    const leg = transfer(file, sink, { channel: { bytesPerTick: 32 * 1024 } });
    await leg.receiver.events.once("progress");
    leg.sender.cancel();
    expect(await leg.receiver.events.once("failed")).toMatchObject({ code: "sender_cancelled" });
    expect(leg.sender.state).toBe("cancelled");
    expect(leg.receiver.resumeState()).toBeUndefined();
    await vi.waitFor(() => expect(sink.aborted).toBeDefined());
  });

  it("cancel on the sender of a keks-meet-style transfer: the receiver only sees a close (interrupted)", async () => {
    const file = patternBytes(2 * 1024 * 1024);
    const sink = new MemorySink();
    const leg = transfer(file, sink, { request: {}, channel: { bytesPerTick: 32 * 1024 } });
    await leg.receiver.events.once("progress");
    leg.sender.cancel();
    await leg.receiver.events.once("interrupted");
    expect(leg.receiver.resumeState()?.bytesWritten).toBe(sink.bytes);
  });

  it("cancel on the receiver: the sender is told (receiver_cancelled), the sink is aborted", async () => {
    const file = patternBytes(2 * 1024 * 1024);
    const sink = new MemorySink();
    const leg = transfer(file, sink, { channel: { bytesPerTick: 32 * 1024 } });
    await leg.receiver.events.once("progress");
    leg.receiver.cancel();
    expect(await leg.sender.events.once("failed")).toMatchObject({ code: "receiver_cancelled" });
    await vi.waitFor(() => expect(sink.aborted).toBe("cancelled"));
    expect(leg.receiver.state).toBe("cancelled");
  });
});
