// MediaServer (sharer) and MediaClient (viewer) at the two ends of one in-memory media channel:
// whole responses byte for byte, ordering, errors, cancels, what each end does with a hostile
// peer, and flow control against a viewer that stops reading.
//
// The channel is the file-transfer fake (createChannelPair). MediaServer and MediaClient take an
// RTCDataChannel but use only readyState, bufferedAmount, bufferedAmountLowThreshold,
// binaryType, send, close and add/removeEventListener for "message", "close" and
// "bufferedamountlow", reading nothing from events but `data`. The fake has all of that at run
// time (plain `{ data }` events instead of MessageEvent, binary delivered as a fresh ArrayBuffer
// like a browser with binaryType "arraybuffer"), so the adapter below is a type-level cast only.
//
// An exception thrown inside a message listener would surface as an uncaught error in the fake's
// delivery timer, which vitest reports as a failed run: the hostile-peer tests rely on that for
// "no exception escapes".

import { afterEach, describe, expect, it, vi } from "vitest";
import { createChannelPair, type FakeChannel, type FakeChannelOptions } from "../../common/engine/file-transfer/fakes.js";
import { err, ok, type Result } from "../../common/result.js";
import { CHUNK_HEADER_BYTES, encodeChunk, encodeError, encodeGet, encodeResponseHead, MEDIA_CHUNK_BYTES } from "../../common/watch-together/media-protocol.js";
import { MediaClient, type FetchedMedia, type MediaFetchError } from "./media-client.js";
import { MediaServer } from "./media-server.js";
import type { ServedMedia, ServeError } from "./share-source.js";

/**
 * werift's default (and the smallest a peer realistically advertises): a full media frame,
 * MEDIA_CHUNK_BYTES of payload plus the 8-byte header, must fit exactly.
 */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** media-server.ts HIGH_WATER_BYTES: the most the server queues on a channel before it waits. */
const HIGH_WATER_BYTES = 1024 * 1024;
const FRAME_BYTES = CHUNK_HEADER_BYTES + MEDIA_CHUNK_BYTES;

const URL_A = "jfp2p://5b0e7c4a-share/1";
const URL_B = "jfp2p://5b0e7c4a-share/2";
const URL_C = "jfp2p://5b0e7c4a-share/3";
const URL_MISSING = "jfp2p://5b0e7c4a-share/404";

type Serve = (url: string) => Promise<Result<ServedMedia, ServeError>>;
type FetchResult = Result<FetchedMedia, MediaFetchError>;

/** See the file comment: the fake offers every member the two classes touch. */
function asDataChannel(fake: FakeChannel): RTCDataChannel {
  return fake as unknown as RTCDataChannel;
}

/** Deterministic, distinct per seed, so a swapped or shifted response cannot compare equal. */
function bytes(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function media(body: Uint8Array<ArrayBuffer>, mime = "video/mp4"): ServedMedia {
  return { bytes: body.buffer, mime };
}

function expectSameBytes(actual: ArrayBuffer, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength);
  // Buffer.compare instead of toEqual: fast and readable on a megabyte.
  expect(Buffer.compare(new Uint8Array(actual), expected)).toBe(0);
}

function fetched(result: FetchResult): FetchedMedia {
  if (!result.ok) throw new Error(`expected media, got ${result.error.status}: ${result.error.message}`);
  return result.value;
}

/** A serve stub from a url → media (or error) map; urls it does not know are 404 like ShareSource. */
function stubServe(table: ReadonlyMap<string, ServedMedia | ServeError>, calls: string[] = []): Serve {
  return async (url) => {
    calls.push(url);
    const entry = table.get(url);
    if (entry === undefined) return err({ status: 404, message: "no such media in this share" });
    return "status" in entry ? err(entry) : ok(entry);
  };
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every pending microtask and fake-channel delivery (setTimeout 0) run. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** The rid of a binary media frame, or undefined for text. */
function frameRid(message: string | Uint8Array): number | undefined {
  if (typeof message === "string" || message.byteLength < CHUNK_HEADER_BYTES) return undefined;
  return new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(0, false);
}

const open: FakeChannel[] = [];

afterEach(() => {
  // A test that fails half-way must not leave delivery timers running into the next one.
  for (const end of open.splice(0)) end.breakConnection();
  vi.useRealTimers();
});

function pair(options: FakeChannelOptions = {}): [viewerEnd: FakeChannel, sharerEnd: FakeChannel] {
  const [viewerEnd, sharerEnd] = createChannelPair({ label: "media", maxMessageSize: MAX_MESSAGE_BYTES, ...options });
  open.push(viewerEnd);
  return [viewerEnd, sharerEnd];
}

/** Both real ends. */
function connect(serve: Serve, options: FakeChannelOptions = {}) {
  const [viewerEnd, sharerEnd] = pair(options);
  const serverErrors: string[] = [];
  const clientErrors: string[] = [];
  const server = new MediaServer(asDataChannel(sharerEnd), serve, (message) => serverErrors.push(message));
  const client = new MediaClient(asDataChannel(viewerEnd), (message) => clientErrors.push(message));
  return { viewerEnd, sharerEnd, server, client, serverErrors, clientErrors };
}

describe("MediaServer ↔ MediaClient", () => {
  it("delivers a 1 MiB + 17 byte response byte for byte with its mime", async () => {
    const body = bytes(1024 * 1024 + 17, 1);
    const calls: string[] = [];
    const { client, sharerEnd, serverErrors, clientErrors } = connect(stubServe(new Map([[URL_A, media(body, "video/mp4")]]), calls));
    const result = fetched(await client.fetch(URL_A));
    expect(result.mime).toBe("video/mp4");
    expectSameBytes(result.bytes, body);
    expect(calls).toEqual([URL_A]);
    // One head, then full frames of exactly 64 KiB and the rest: nothing else crossed the channel.
    const frames = sharerEnd.sentLog.filter((entry) => typeof entry === "number");
    const full = Math.floor(body.byteLength / MEDIA_CHUNK_BYTES);
    expect(FRAME_BYTES).toBe(64 * 1024);
    expect(frames).toEqual([...Array<number>(full).fill(FRAME_BYTES), CHUNK_HEADER_BYTES + (body.byteLength - full * MEDIA_CHUNK_BYTES)]);
    expect(sharerEnd.sentLog.filter((entry) => typeof entry === "string")).toHaveLength(1);
    expect(serverErrors).toEqual([]);
    expect(clientErrors).toEqual([]);
  });

  it("delivers an empty response and a playlist with its mime", async () => {
    const playlist = new TextEncoder().encode("#EXTM3U\n#EXT-X-ENDLIST\n");
    const table = new Map([
      [URL_A, media(new Uint8Array(0))],
      [URL_B, media(playlist, "application/vnd.apple.mpegurl")],
    ]);
    const { client } = connect(stubServe(table));
    const empty = fetched(await client.fetch(URL_A));
    expect(empty.bytes.byteLength).toBe(0);
    const list = fetched(await client.fetch(URL_B));
    expect(list.mime).toBe("application/vnd.apple.mpegurl");
    expectSameBytes(list.bytes, playlist);
  });

  it("answers several requests in flight one at a time, in the order asked", async () => {
    const bodies = new Map([
      [URL_A, bytes(300_000, 2)],
      [URL_B, bytes(5, 3)],
      [URL_C, bytes(70_000, 4)],
    ]);
    // The first is the slowest to serve: ordering must not depend on which is ready first.
    const delays = new Map([
      [URL_A, 40],
      [URL_B, 0],
      [URL_C, 10],
    ]);
    const served: string[] = [];
    let active = 0;
    let maxActive = 0;
    const serve: Serve = async (url) => {
      served.push(url);
      maxActive = Math.max(maxActive, ++active);
      await new Promise((resolve) => setTimeout(resolve, delays.get(url) ?? 0));
      active--;
      const body = bodies.get(url);
      return body ? ok(media(body)) : err({ status: 404, message: "no such media in this share" });
    };
    const { client } = connect(serve);
    const finished: string[] = [];
    const results = await Promise.all(
      [URL_A, URL_B, URL_C].map((url) =>
        client.fetch(url).then((result) => {
          finished.push(url);
          return result;
        }),
      ),
    );
    expect(finished).toEqual([URL_A, URL_B, URL_C]);
    expect(served).toEqual([URL_A, URL_B, URL_C]);
    expect(maxActive).toBe(1);
    results.forEach((result, i) => expectSameBytes(fetched(result).bytes, bodies.get([URL_A, URL_B, URL_C][i] ?? "") ?? new Uint8Array(1)));
  });

  it("passes a 404 and a 502 through as errors and keeps the channel usable", async () => {
    const table = new Map<string, ServedMedia | ServeError>([
      [URL_B, { status: 502, message: "the Jellyfin server failed" }],
      [URL_C, media(bytes(10, 5))],
    ]);
    const { client, clientErrors, serverErrors } = connect(stubServe(table));
    expect(await client.fetch(URL_MISSING)).toEqual({ ok: false, error: { status: 404, message: "no such media in this share" } });
    expect(await client.fetch(URL_B)).toEqual({ ok: false, error: { status: 502, message: "the Jellyfin server failed" } });
    expectSameBytes(fetched(await client.fetch(URL_C)).bytes, bytes(10, 5));
    expect(client.isOpen).toBe(true);
    expect([...clientErrors, ...serverErrors]).toEqual([]);
  });

  it("aborting mid-response sends cancel, resolves 'aborted', stops the sharer, and a later request works", async () => {
    const big = bytes(4 * 1024 * 1024, 6);
    const small = bytes(1000, 7);
    const table = new Map([
      [URL_A, media(big)],
      [URL_B, media(small)],
    ]);
    const { client, viewerEnd, sharerEnd, clientErrors, serverErrors } = connect(stubServe(table));
    const sentRids: number[] = [];
    sharerEnd.intercept = (message) => {
      const rid = frameRid(message);
      if (rid !== undefined) sentRids.push(rid);
      return message;
    };
    const aborter = new AbortController();
    // Abort when the first chunk reaches the viewer: the sharer is then mid-response.
    const onFirstChunk = (event: { readonly data: unknown }): void => {
      if (typeof event.data === "string") return;
      viewerEnd.removeEventListener("message", onFirstChunk);
      aborter.abort();
    };
    viewerEnd.addEventListener("message", onFirstChunk);
    const result = await client.fetch(URL_A, aborter.signal);
    expect(result).toEqual({ ok: false, error: { status: 0, message: "aborted" } });
    expect(viewerEnd.sentLog).toContain(JSON.stringify({ t: "cancel", rid: 1 }));

    // Frames of rid 1 still in flight are dropped quietly, and the next request gets its own bytes.
    const later = fetched(await client.fetch(URL_B));
    expectSameBytes(later.bytes, small);
    // The sharer stopped well before the 64 frames of the whole response.
    const rid1Frames = sentRids.filter((rid) => rid === 1).length;
    expect(rid1Frames).toBeGreaterThan(0);
    expect(rid1Frames).toBeLessThan(big.byteLength / MEDIA_CHUNK_BYTES);
    expect(client.isOpen).toBe(true);
    expect([...clientErrors, ...serverErrors]).toEqual([]);
  });

  it("aborting before the sharer has the bytes drops the response unsent", async () => {
    const gate = deferred<Result<ServedMedia, ServeError>>();
    const calls: string[] = [];
    const serve: Serve = (url) => {
      calls.push(url);
      return url === URL_A ? gate.promise : Promise.resolve(ok(media(bytes(20, 8))));
    };
    const { client, sharerEnd, clientErrors, serverErrors } = connect(serve);
    const received: unknown[] = [];
    sharerEnd.addEventListener("message", (event) => received.push(event.data));
    const aborter = new AbortController();
    const pending = client.fetch(URL_A, aborter.signal);
    await vi.waitFor(() => expect(calls).toEqual([URL_A]));
    aborter.abort();
    expect(await pending).toEqual({ ok: false, error: { status: 0, message: "aborted" } });
    // The cancel reaches the sharer before its bytes are ready.
    await vi.waitFor(() => expect(received).toContain(JSON.stringify({ t: "cancel", rid: 1 })));
    gate.resolve(ok(media(bytes(200_000, 9))));
    expectSameBytes(fetched(await client.fetch(URL_B)).bytes, bytes(20, 8));
    // Nothing at all went out for rid 1: no head, no frame.
    expect(sharerEnd.sentLog.filter((entry) => typeof entry === "string" && entry.includes('"rid":1,'))).toEqual([]);
    expect(sharerEnd.sentLog.filter((entry) => typeof entry === "number")).toHaveLength(1);
    expect([...clientErrors, ...serverErrors]).toEqual([]);
  });

  it("an already aborted signal resolves at once and sends nothing", async () => {
    const { client, viewerEnd } = connect(stubServe(new Map()));
    const result = await client.fetch(URL_A, AbortSignal.abort());
    expect(result).toEqual({ ok: false, error: { status: 0, message: "aborted" } });
    expect(viewerEnd.sentLog).toEqual([]);
  });

  it("the viewer leaving mid-response stops the sharer without calling it a protocol error", async () => {
    const { client, viewerEnd, sharerEnd, clientErrors, serverErrors } = connect(stubServe(new Map([[URL_A, media(bytes(4 * 1024 * 1024, 10))]])));
    // Leave when the first chunk arrives: the sharer is then mid-response.
    const onFirstChunk = (event: { readonly data: unknown }): void => {
      if (typeof event.data === "string") return;
      viewerEnd.removeEventListener("message", onFirstChunk);
      client.close();
    };
    viewerEnd.addEventListener("message", onFirstChunk);
    const pending = client.fetch(URL_A);
    expect(await pending).toEqual({ ok: false, error: { status: 0, message: "the media channel closed" } });
    await vi.waitFor(() => expect(sharerEnd.readyState).toBe("closed"));
    const sent = sharerEnd.sentLog.length;
    await settle();
    expect(sharerEnd.sentLog.length).toBe(sent);
    expect(sent).toBeLessThan(65); // head + 64 frames would be the whole response
    // Both ends let go of the channel: no listener left behind.
    expect(viewerEnd.listenerCount()).toBe(0);
    expect(sharerEnd.listenerCount()).toBe(0);
    expect((await client.fetch(URL_A)).ok).toBe(false);
    expect([...clientErrors, ...serverErrors]).toEqual([]);
  });
});

describe("MediaClient against a hostile sharer", () => {
  /** A real client; the test writes the sharer's side by hand. */
  function hostileSharer(options: FakeChannelOptions = {}) {
    const [viewerEnd, sharerEnd] = pair(options);
    const errors: string[] = [];
    const client = new MediaClient(asDataChannel(viewerEnd), (message) => errors.push(message));
    return { viewerEnd, sharerEnd, client, errors };
  }

  type Attack = (sharerEnd: FakeChannel) => void;

  const attacks: ReadonlyArray<readonly [string, Attack]> = [
    ["text that is not JSON", (s) => s.send("{not json")],
    ["a JSON array", (s) => s.send("[1,2,3]")],
    ["a message type only viewers send", (s) => s.send(encodeGet(1, URL_A))],
    ["a binary frame shorter than its header", (s) => s.send(new Uint8Array([0, 0, 1]))],
    ["a chunk before its response head", (s) => s.send(encodeChunk(1, 0, bytes(10, 1)))],
    [
      "a chunk with the wrong index",
      (s) => {
        s.send(encodeResponseHead({ rid: 1, status: 200, mime: "video/mp4", size: 100, chunks: 2 }));
        s.send(encodeChunk(1, 1, bytes(50, 1)));
      },
    ],
    [
      "more bytes than announced",
      (s) => {
        s.send(encodeResponseHead({ rid: 1, status: 200, mime: "video/mp4", size: 10, chunks: 1 }));
        s.send(encodeChunk(1, 0, bytes(20, 1)));
      },
    ],
    [
      "fewer bytes than announced",
      (s) => {
        s.send(encodeResponseHead({ rid: 1, status: 200, mime: "video/mp4", size: 100, chunks: 2 }));
        s.send(encodeChunk(1, 0, bytes(10, 1)));
        s.send(encodeChunk(1, 1, bytes(10, 1)));
      },
    ],
    [
      "a chunk index past the announced count",
      (s) => {
        s.send(encodeResponseHead({ rid: 1, status: 200, mime: "video/mp4", size: 100, chunks: 2 }));
        s.send(encodeChunk(1, 5, bytes(10, 1)));
      },
    ],
    ["a head for more than 64 MiB", (s) => s.send(JSON.stringify({ t: "res", rid: 1, status: 200, mime: "video/mp4", size: 2 ** 40, chunks: 2 ** 30 }))],
    [
      "a second head for the same rid",
      (s) => {
        s.send(encodeResponseHead({ rid: 1, status: 200, mime: "video/mp4", size: 100, chunks: 1 }));
        s.send(encodeResponseHead({ rid: 1, status: 200, mime: "video/mp4", size: 100, chunks: 1 }));
      },
    ],
    ["an error with a status outside 404/502/504", (s) => s.send(JSON.stringify({ t: "err", rid: 1, status: 500, msg: "x" }))],
  ];

  for (const [name, attack] of attacks) {
    it(`${name}: closes the channel, reports, fails every pending fetch`, async () => {
      const { viewerEnd, sharerEnd, client, errors } = hostileSharer();
      // Two pending fetches (rids 1 and 2): the attack concerns rid 1, yet rid 2 must fail as well,
      // since nothing that arrives on a broken channel can be trusted.
      const pending = [client.fetch(URL_A), client.fetch(URL_B)];
      attack(sharerEnd);
      for (const result of await Promise.all(pending)) {
        expect(result.ok).toBe(false);
        if (result.ok) continue;
        expect(result.error.status).toBe(0);
        expect(result.error.message).toMatch(/^the sharer broke the protocol: /);
      }
      expect(errors).toHaveLength(1);
      expect(client.isOpen).toBe(false);
      await vi.waitFor(() => expect(viewerEnd.readyState).toBe("closed"));
      expect(viewerEnd.listenerCount()).toBe(0);
      // A closed client answers at once instead of hanging the player.
      const after = await client.fetch(URL_C);
      expect(after.ok ? undefined : after.error.status).toBe(0);
    });
  }

  it("a binary message that is not an ArrayBuffer: closes and reports", async () => {
    // A browser that ignored binaryType would hand over a Blob.
    const { viewerEnd, sharerEnd, client, errors } = hostileSharer({ deliver: (frame) => new Blob([frame.slice()]) });
    const pending = client.fetch(URL_A);
    sharerEnd.send(encodeChunk(1, 0, bytes(10, 1)));
    expect((await pending).ok).toBe(false);
    expect(errors).toHaveLength(1);
    await vi.waitFor(() => expect(viewerEnd.readyState).toBe("closed"));
  });

  it("late chunks and errors for a response the viewer cancelled are dropped without closing", async () => {
    const { sharerEnd, client, errors } = hostileSharer();
    const aborter = new AbortController();
    const cancelled = client.fetch(URL_A, aborter.signal);
    const kept = client.fetch(URL_B);
    aborter.abort();
    expect((await cancelled).ok).toBe(false);
    // What an honest sharer that had already started rid 1 may still send.
    sharerEnd.send(encodeResponseHead({ rid: 1, status: 200, mime: "video/mp4", size: 10, chunks: 1 }));
    sharerEnd.send(encodeChunk(1, 0, bytes(10, 1)));
    sharerEnd.send(encodeError({ rid: 1, status: 502, msg: "late" }));
    sharerEnd.send(encodeResponseHead({ rid: 2, status: 200, mime: "text/vtt", size: 3, chunks: 1 }));
    sharerEnd.send(encodeChunk(2, 0, new Uint8Array([87, 69, 66])));
    const result = fetched(await kept);
    expect(result.mime).toBe("text/vtt");
    expectSameBytes(result.bytes, new Uint8Array([87, 69, 66]));
    expect(errors).toEqual([]);
    expect(client.isOpen).toBe(true);
  });
});

describe("MediaServer against a hostile viewer", () => {
  /** A real server; the test writes the viewer's side by hand. */
  function hostileViewer(serve: Serve) {
    const [viewerEnd, sharerEnd] = pair();
    const errors: string[] = [];
    const server = new MediaServer(asDataChannel(sharerEnd), serve, (message) => errors.push(message));
    return { viewerEnd, sharerEnd, server, errors };
  }

  const attacks: ReadonlyArray<readonly [string, (viewerEnd: FakeChannel) => void]> = [
    ["binary data", (v) => v.send(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))],
    ["text that is not JSON", (v) => v.send("get jfp2p://x/1")],
    ["a message type only sharers send", (v) => v.send(encodeResponseHead({ rid: 1, status: 200, mime: "video/mp4", size: 1, chunks: 1 }))],
    ["a get for a URL that is not ours", (v) => v.send(JSON.stringify({ t: "get", rid: 1, url: "http://127.0.0.1:8096/Videos/m1/master.m3u8" }))],
    ["a text message over 16 KiB", (v) => v.send(JSON.stringify({ t: "get", rid: 1, url: URL_A, pad: "x".repeat(20_000) }))],
  ];

  for (const [name, attack] of attacks) {
    it(`${name}: closes the channel and reports, serving nothing`, async () => {
      const calls: string[] = [];
      const { viewerEnd, sharerEnd, errors } = hostileViewer(stubServe(new Map([[URL_A, media(bytes(10, 1))]]), calls));
      attack(viewerEnd);
      await vi.waitFor(() => expect(sharerEnd.readyState).toBe("closed"));
      expect(errors).toHaveLength(1);
      expect(calls).toEqual([]);
      expect(sharerEnd.sentLog).toEqual([]);
      expect(sharerEnd.listenerCount()).toBe(0);
      expect(viewerEnd.readyState).toBe("closed");
    });
  }

  it("tolerates 32 requests at once but closes on a flood of gets", async () => {
    const gate = deferred<Result<ServedMedia, ServeError>>();
    const calls: string[] = [];
    const serve: Serve = (url) => {
      calls.push(url);
      return gate.promise;
    };
    const polite = hostileViewer(serve);
    for (let rid = 1; rid <= 32; rid++) polite.viewerEnd.send(encodeGet(rid, `jfp2p://5b0e7c4a-share/${rid}`));
    await settle();
    expect(polite.errors).toEqual([]);
    expect(polite.sharerEnd.readyState).toBe("open");

    const flood = hostileViewer(serve);
    for (let rid = 1; rid <= 40; rid++) flood.viewerEnd.send(encodeGet(rid, `jfp2p://5b0e7c4a-share/${rid}`));
    await vi.waitFor(() => expect(flood.sharerEnd.readyState).toBe("closed"));
    expect(flood.errors).toHaveLength(1);
    // The one request already being served finishes into a closed channel: nothing is sent.
    gate.resolve(ok(media(bytes(10, 1))));
    await settle();
    expect(flood.sharerEnd.sentLog).toEqual([]);
    expect(flood.sharerEnd.listenerCount()).toBe(0);
  });
});

describe("flow control", () => {
  it("stops at the high-water mark while the viewer reads nothing, and resumes as it drains", async () => {
    // Only the delivery timers are faked: while they do not run, the far end reads nothing and
    // bufferedAmount cannot fall. Promises (the server's awaits) still run.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
    const body = bytes(4 * 1024 * 1024, 11);
    const { client, sharerEnd, clientErrors, serverErrors } = connect(stubServe(new Map([[URL_A, media(body)]])));
    let maxBuffered = 0;
    sharerEnd.intercept = (message) => {
      // Called inside send, before the fake adds the message to bufferedAmount.
      const size = typeof message === "string" ? new TextEncoder().encode(message).byteLength : message.byteLength;
      maxBuffered = Math.max(maxBuffered, sharerEnd.bufferedAmount + size);
      return message;
    };
    let result: FetchResult | undefined;
    void client.fetch(URL_A).then((r) => (result = r));

    // One step of the link: the deliveries already scheduled, then whatever they set off
    // (runOnlyPendingTimers leaves timers scheduled meanwhile for the next step).
    const step = async (): Promise<void> => {
      vi.runOnlyPendingTimers();
      await flush();
    };
    await step(); // the get reaches the sharer, which sends until its buffer is full
    const stalled = sharerEnd.sentLog.length;
    expect(stalled).toBeGreaterThan(1);
    // Stuck: more turns of the event loop send nothing more while nothing is read.
    for (let i = 0; i < 5; i++) await flush();
    expect(sharerEnd.sentLog.length).toBe(stalled);
    expect(sharerEnd.bufferedAmount).toBeGreaterThan(HIGH_WATER_BYTES);
    expect(sharerEnd.bufferedAmount).toBeLessThanOrEqual(HIGH_WATER_BYTES + FRAME_BYTES);
    expect(stalled - 1).toBeLessThan(body.byteLength / MEDIA_CHUNK_BYTES);

    // Deliveries resume the sharer through bufferedamountlow until the whole body is across.
    for (let turn = 0; turn < 1000 && result === undefined; turn++) await step();
    if (result === undefined) throw new Error("the response never completed");
    expectSameBytes(fetched(result).bytes, body);
    expect(maxBuffered).toBeLessThanOrEqual(HIGH_WATER_BYTES + FRAME_BYTES);
    expect([...clientErrors, ...serverErrors]).toEqual([]);
  });
});
