/// <reference types="mocha" />
// The worker-backed SHA-256 in a real Chromium: digests equal WebCrypto's, clones are
// independent, the caller's bytes are its own again right after update(), and a worker that
// cannot start turns into rejected digests (a transfer then reports it could not verify), not a
// hang.
import { expect } from "@open-wc/testing";
import { WorkerSha256 } from "./worker-sha256.js";

const WORKER_URL = new URL("./worker.ts", import.meta.url);

function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
  return bytes;
}

async function webCryptoHex(...parts: Uint8Array<ArrayBuffer>[]): Promise<string> {
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("WorkerSha256", () => {
  let hashing: WorkerSha256;
  afterEach(() => hashing.close());

  it("hashes in WebAssembly and matches WebCrypto over several MiB fed in pieces", async () => {
    hashing = new WorkerSha256(WORKER_URL);
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const running = hashing.create();
    for (let at = 0; at < data.length; at += 1_000_003) running.update(data.subarray(at, at + 1_000_003));
    expect(await running.digest()).to.equal(await webCryptoHex(data));
    expect(hashing.implementation).to.equal("wasm");
  });

  it("matches WebCrypto over data-channel-sized pieces that cross its staging buffers, with clones mid-buffer", async () => {
    hashing = new WorkerSha256(WORKER_URL);
    // 40 pieces of 64 KiB + 1: the staged bytes cross every 1 MiB boundary at a different offset.
    const data = randomBytes(40 * 65_537);
    const running = hashing.create();
    const clones: Array<{ at: number; digest: Promise<string> }> = [];
    for (let at = 0; at < data.length; at += 65_537) {
      running.update(data.subarray(at, at + 65_537));
      if (at % (9 * 65_537) === 0) clones.push({ at: at + 65_537, digest: running.clone().digest() });
    }
    expect(await running.digest()).to.equal(await webCryptoHex(data));
    for (const clone of clones) expect(await clone.digest, `clone at ${clone.at}`).to.equal(await webCryptoHex(data.slice(0, clone.at)));
  });

  it("keeps several hashes apart and clones independently", async () => {
    hashing = new WorkerSha256(WORKER_URL);
    const a = randomBytes(100_000);
    const b = randomBytes(50_000);
    const first = hashing.create();
    const second = hashing.create();
    first.update(a);
    second.update(b);
    const copy = first.clone();
    first.update(b);
    copy.update(a);
    expect(await Promise.all([first.digest(), second.digest(), copy.digest()])).to.deep.equal([
      await webCryptoHex(a, b),
      await webCryptoHex(b),
      await webCryptoHex(a, a),
    ]);
  });

  it("copies what it is given: the caller may overwrite its buffer at once", async () => {
    hashing = new WorkerSha256(WORKER_URL);
    const data = randomBytes(10_000);
    const expected = await webCryptoHex(data);
    const buffer = data.slice();
    const running = hashing.create();
    running.update(buffer);
    buffer.fill(0);
    expect(buffer.byteLength).to.equal(10_000); // not transferred away from the caller
    expect(await running.digest()).to.equal(expected);
  });

  it("a worker that cannot load rejects the digest with a plain reason, not a hang", async () => {
    hashing = new WorkerSha256(new URL("./no-such-worker.js", import.meta.url));
    const running = hashing.create();
    running.update(randomBytes(1000));
    let reason = "";
    await running.digest().then(
      () => expect.fail("a digest from a worker that does not exist"),
      (error: Error) => (reason = error.message),
    );
    expect(reason).to.match(/^the hashing worker failed/);
  });

  it("close() rejects a digest still pending", async () => {
    hashing = new WorkerSha256(WORKER_URL);
    const running = hashing.create();
    running.update(randomBytes(4 * 1024 * 1024));
    const digest = running.digest();
    hashing.close();
    let reason = "";
    await digest.then(
      () => undefined,
      (error: Error) => (reason = error.message),
    );
    // The answer can only arrive as a later task, after close() has run.
    expect(reason).to.equal("the hashing worker was stopped");
  });
});
