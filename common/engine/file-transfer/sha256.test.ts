// The hashing seam: the in-thread default, and how sender and receiver behave when the digest
// comes late (a worker) or never (a worker that died).

import { createHash } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { createChannelPair, MemorySink, memorySource, patternBytes } from "./fakes.js";
import { FileReceiver } from "./file-receiver.js";
import { FileSender } from "./file-sender.js";
import { encodeDigest, encodeHeader } from "./protocol.js";
import { inThreadSha256, type RunningSha256, type Sha256Factory } from "./sha256.js";

const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Like a worker: the digest arrives some milliseconds after it is asked for. */
const lateSha256: Sha256Factory = () => {
  const wrap = (inner: RunningSha256): RunningSha256 => ({
    update: (bytes) => inner.update(bytes),
    clone: () => wrap(inner.clone()),
    digest: () => inner.digest().then((hex) => new Promise((resolve) => setTimeout(() => resolve(hex), 30))),
    dispose: () => inner.dispose(),
  });
  return wrap(inThreadSha256());
};

/** A digest that waits until the test lets it go. */
function gatedSha256(): { factory: Sha256Factory; release: () => void } {
  let release = (): void => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const factory: Sha256Factory = () => {
    const inner = inThreadSha256();
    return { ...inner, update: (bytes) => inner.update(bytes), digest: () => gate.then(() => inner.digest()) };
  };
  return { factory, release };
}

/** Like a worker that died: every digest rejects. */
const brokenSha256: Sha256Factory = () => ({
  update: () => undefined,
  clone: () => brokenSha256(),
  digest: () => Promise.reject(new Error("the hashing worker failed")),
  dispose: () => undefined,
});

describe("inThreadSha256", () => {
  it("hashes like SHA-256 and clones independently", async () => {
    const a = patternBytes(70_000, 1);
    const b = patternBytes(30_000, 2);
    const running = inThreadSha256();
    running.update(a);
    const copy = running.clone();
    running.update(b);
    copy.update(a);
    expect(await running.digest()).toBe(sha256Hex(Buffer.concat([a, b])));
    expect(await copy.digest()).toBe(sha256Hex(Buffer.concat([a, a])));
  });
});

describe("a digest that comes late", () => {
  it("still ends a transfer verified on both sides", async () => {
    const file = patternBytes(500_000, 3);
    const [near, far] = createChannelPair({ maxMessageSize: 262144 });
    const sink = new MemorySink();
    const receiver = new FileReceiver({ channel: far, size: file.length, sink, sha256: lateSha256 });
    const sender = new FileSender({ channel: near, source: memorySource(file), request: { offset: 0 }, maxMessageSize: 262144, sha256: lateSha256 });
    const [sent, received] = await Promise.all([sender.events.once("done"), receiver.events.once("done")]);
    expect(sent.sha256).toBe(sha256Hex(file));
    expect(received).toEqual({ verified: true, sha256: sha256Hex(file) });
    expect(Buffer.compare(sink.contents(), file)).toBe(0);
  });

  it("a cancel while the receiver waits for its digest wins: cancelled, sink aborted, never done", async () => {
    const file = patternBytes(10_000, 4);
    const [raw, channel] = createChannelPair({ maxMessageSize: 1 << 30 });
    const sink = new MemorySink();
    const gated = gatedSha256();
    const receiver = new FileReceiver({ channel, size: file.length, sink, sha256: gated.factory });
    const done = vi.fn();
    receiver.events.on("done", done);
    raw.send(encodeHeader({ offset: 0, size: file.length }));
    raw.send(file);
    raw.send(encodeDigest(sha256Hex(file)));
    raw.send("end");
    await vi.waitFor(() => expect(receiver.state).toBe("finishing"));
    receiver.cancel();
    gated.release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(receiver.state).toBe("cancelled");
    expect(done).not.toHaveBeenCalled();
    expect(sink.aborted).toBeDefined();
  });
});

describe("a digest that never comes (the hashing broke)", () => {
  it("the sender fails with hash_failed and sends neither digest nor end", async () => {
    const file = patternBytes(100_000, 5);
    const [near, far] = createChannelPair({ maxMessageSize: 262144 });
    const texts: string[] = [];
    far.addEventListener("message", ({ data }) => typeof data === "string" && texts.push(data));
    const sender = new FileSender({ channel: near, source: memorySource(file), request: { offset: 0 }, maxMessageSize: 262144, sha256: brokenSha256 });
    const failure = await sender.events.once("failed");
    expect(failure).toEqual({ code: "hash_failed", message: "hashing the file failed: the hashing worker failed" });
    await vi.waitFor(() => expect(far.readyState).toBe("closed"));
    expect(texts).toEqual([encodeHeader({ offset: 0, size: file.length })]);
  });

  it("the receiver fails with hash_failed and does not present the file as complete", async () => {
    const file = patternBytes(100_000, 6);
    const [raw, channel] = createChannelPair({ maxMessageSize: 1 << 30 });
    const sink = new MemorySink();
    const receiver = new FileReceiver({ channel, size: file.length, sink, sha256: brokenSha256 });
    raw.send(encodeHeader({ offset: 0, size: file.length }));
    raw.send(file);
    raw.send(encodeDigest(sha256Hex(file)));
    raw.send("end");
    const failure = await receiver.events.once("failed");
    expect(failure.code).toBe("hash_failed");
    await vi.waitFor(() => expect(sink.aborted).toBeDefined());
    expect(sink.closed).toBe(false);
  });
});
