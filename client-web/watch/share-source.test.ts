// ShareSource against the Jellyfin API fixture over real loopback HTTP: what peers see of a share
// (opaque playlists only), that following those playlists yields the fixture's own bytes, that
// concurrent and repeated asks reach Jellyfin once, how failures map to statuses, and that
// stop() ends the transcode and the share.

import { readFile } from "node:fs/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Result } from "../../common/result.js";
import { startJellyfinFixture, type FixtureLogEntry, type JellyfinFixture } from "../../test/jellyfin/fixture.js";
import { JellyfinClient } from "../jellyfin/client.js";
import { ShareSource, type ServedMedia, type ServeError, type ShareSelection } from "./share-source.js";

const PLAYLIST_MIME = "application/vnd.apple.mpegurl";
/** The fixture's movie with its one audio and one (text) subtitle stream. */
const SELECTION: ShareSelection = { itemId: "m1", mediaSourceId: "ms-m1", audioStreamIndex: 1, subtitleStreamIndex: 2, preset: "720p", mode: "relay" };

let fixture: JellyfinFixture;
let client: JellyfinClient;
let shareCount = 0;
/** Shares a test opened, stopped afterwards so no transcode "leaks" between tests. */
const opened: ShareSource[] = [];

beforeAll(async () => {
  fixture = await startJellyfinFixture();
  client = new JellyfinClient({ serverUrl: fixture.url, deviceId: "sharer-device" });
  const login = await client.login("alice", "pw");
  if (!login.ok) throw new Error(`fixture login failed: ${login.error.message}`);
});

afterEach(async () => {
  fixture.configure({ failSegment: undefined, segmentDelayMs: undefined, firstSegmentDelayMs: undefined });
  await Promise.all(opened.splice(0).map((source) => source.stop(0)));
});

afterAll(async () => {
  await fixture.close();
});

/** A fresh share with its own id, so opaque URLs of different tests never collide. */
async function openShare(selection: ShareSelection = SELECTION): Promise<{ source: ShareSource; shareId: string }> {
  const shareId = `share-${++shareCount}-0f8e2c1d`;
  const opening = await ShareSource.open(client, shareId, selection);
  if (!opening.ok) throw new Error(`ShareSource.open failed: ${opening.error}`);
  opened.push(opening.value);
  return { source: opening.value, shareId };
}

function served(result: Result<ServedMedia, ServeError>): ServedMedia {
  if (!result.ok) throw new Error(`expected media, got ${result.error.status}: ${result.error.message}`);
  return result.value;
}

const text = (bytes: ArrayBuffer): string => new TextDecoder().decode(bytes);

/** Every URI in a playlist: plain URI lines and URI="…" attributes. */
function playlistUris(playlist: string): string[] {
  return playlist.split("\n").flatMap((line) => {
    if (line.startsWith("#")) return [...line.matchAll(/URI="([^"]*)"/g)].map((m) => m[1] ?? "");
    return line.trim() === "" ? [] : [line.trim()];
  });
}

/** What must never reach a peer through a playlist: anything that names or unlocks the server. */
function expectOpaquePlaylist(playlist: string, shareId: string): string[] {
  const host = new URL(fixture.url).host;
  for (const leak of ["http", host, fixture.token, "/Videos/", "ApiKey", "ms-m1", "PlaySessionId", "sharer-device"]) {
    expect(playlist, `playlist contains ${JSON.stringify(leak)}`).not.toContain(leak);
  }
  const uris = playlistUris(playlist);
  expect(uris.length).toBeGreaterThan(0);
  const opaque = new RegExp(`^jfp2p://${shareId}/\\d+$`);
  for (const uri of uris) expect(uri).toMatch(opaque);
  return uris;
}

function expectSameBytes(actual: ArrayBuffer, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength);
  // Buffer.compare instead of toEqual: a readable failure and fast on a megabyte.
  expect(Buffer.compare(new Uint8Array(actual), expected)).toBe(0);
}

/** Fixture requests since `from` (an index into the log) for one path. */
function requestsSince(from: number, method: string, path: string): FixtureLogEntry[] {
  return fixture.log().slice(from).filter((entry) => entry.method === method && entry.path === path);
}

const segmentPath = (index: number): string => `/Videos/m1/hls1/main/${index}.mp4`;

/** master → variant → media playlist, returning the rewritten texts and the media playlist's URIs. */
async function walk(source: ShareSource, shareId: string): Promise<{ master: string; media: string; init: string; segments: string[]; subtitles: string }> {
  const master = served(await source.get(source.masterUrl));
  expect(master.mime).toBe(PLAYLIST_MIME);
  const masterText = text(master.bytes);
  expectOpaquePlaylist(masterText, shareId);
  // The variant is the URI line after EXT-X-STREAM-INF; the subtitle playlist is EXT-X-MEDIA's URI.
  const lines = masterText.split("\n");
  const variant = lines[lines.findIndex((line) => line.startsWith("#EXT-X-STREAM-INF:")) + 1] ?? "";
  const subtitles = /#EXT-X-MEDIA:.*URI="([^"]+)"/.exec(masterText)?.[1] ?? "";
  expect(variant).toMatch(/^jfp2p:\/\//);
  expect(subtitles).toMatch(/^jfp2p:\/\//);

  const media = served(await source.get(variant));
  expect(media.mime).toBe(PLAYLIST_MIME);
  const mediaText = text(media.bytes);
  const [init, ...segments] = expectOpaquePlaylist(mediaText, shareId);
  // EXT-X-MAP comes before the first EXTINF in Jellyfin's (and the fixture's) playlists.
  expect(mediaText.indexOf("#EXT-X-MAP")).toBeLessThan(mediaText.indexOf("#EXTINF"));
  return { master: masterText, media: mediaText, init: init ?? "", segments, subtitles };
}

describe("ShareSource", () => {
  it("serves opaque playlists whose init, segments and subtitles are the fixture's own bytes", async () => {
    const { source, shareId } = await openShare();
    expect(source.masterUrl).toMatch(new RegExp(`^jfp2p://${shareId}/\\d+$`));
    const { init, segments, subtitles } = await walk(source, shareId);

    const initServed = served(await source.get(init));
    expect(initServed.mime).toBe("video/mp4");
    expectSameBytes(initServed.bytes, await readFile(fixture.media.initFile));

    expect(segments).toHaveLength(fixture.media.segments.length);
    for (const [index, opaque] of segments.entries()) {
      const segment = served(await source.get(opaque));
      expect(segment.mime).toBe("video/mp4");
      expectSameBytes(segment.bytes, await readFile(fixture.media.segments[index]?.file ?? ""));
    }

    const subtitlePlaylist = served(await source.get(subtitles));
    expect(subtitlePlaylist.mime).toBe(PLAYLIST_MIME);
    const [vtt, ...more] = expectOpaquePlaylist(text(subtitlePlaylist.bytes), shareId);
    expect(more).toEqual([]);
    const cues = served(await source.get(vtt ?? ""));
    expect(cues.mime).toBe("text/vtt");
    expectSameBytes(cues.bytes, await readFile(fixture.media.vttFile));

    // Opaque ids are a bare counter: each distinct Jellyfin URL got its own, none was reused.
    const all = [source.masterUrl, init, ...segments, subtitles, vtt];
    expect(new Set(all).size).toBe(all.length);
  });

  it("fetches a segment once for two concurrent asks and serves a later ask from the cache", async () => {
    const { source, shareId } = await openShare();
    const { segments } = await walk(source, shareId);
    const opaque = segments[3] ?? "";
    // A little delay keeps the first request open while the second ask arrives.
    fixture.configure({ segmentDelayMs: 100 });
    const before = fixture.log().length;
    const [first, second] = await Promise.all([source.get(opaque), source.get(opaque)]);
    expect(requestsSince(before, "GET", segmentPath(3))).toHaveLength(1);
    const expected = await readFile(fixture.media.segments[3]?.file ?? "");
    expectSameBytes(served(first).bytes, expected);
    expectSameBytes(served(second).bytes, expected);

    const afterFirst = fixture.log().length;
    expectSameBytes(served(await source.get(opaque)).bytes, expected);
    expect(fixture.log().length).toBe(afterFirst);
    // Playlists are cached too: a player that reloads the master after a seek costs Jellyfin nothing.
    served(await source.get(source.masterUrl));
    expect(fixture.log().length).toBe(afterFirst);
  });

  it("answers 404 for an opaque URL it never minted", async () => {
    const { source, shareId } = await openShare();
    await walk(source, shareId);
    const before = fixture.log().length;
    for (const unknown of [`jfp2p://${shareId}/999999`, "jfp2p://another-share/0", `${source.masterUrl}0`, "http://127.0.0.1/Videos/m1/master.m3u8"]) {
      const result = await source.get(unknown);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.status).toBe(404);
    }
    // Unknown URLs are refused without a round trip to Jellyfin.
    expect(fixture.log().length).toBe(before);
  });

  it("answers 502 with a message when Jellyfin fails a segment, and fetches it again on the next ask", async () => {
    const { source, shareId } = await openShare();
    const { segments } = await walk(source, shareId);
    fixture.configure({ failSegment: { 1: 503 } });
    const failed = await source.get(segments[1] ?? "");
    expect(failed.ok).toBe(false);
    if (failed.ok) return;
    expect(failed.error.status).toBe(502);
    expect(failed.error.message.length).toBeGreaterThan(0);

    // A failure is not cached: once Jellyfin recovers, the same URL works.
    fixture.configure({ failSegment: undefined });
    const before = fixture.log().length;
    expectSameBytes(served(await source.get(segments[1] ?? "")).bytes, await readFile(fixture.media.segments[1]?.file ?? ""));
    expect(requestsSince(before, "GET", segmentPath(1))).toHaveLength(1);
  });

  it("a sign-in that expires mid-share answers viewers without Jellyfin details and tells the sharer once", async () => {
    const { source } = await openShare();
    let told = 0;
    source.onSignInExpired = () => told++;
    const master = new TextDecoder().decode(served(await source.get(source.masterUrl)).bytes);
    const variant = master.split("\n").find((line) => line.startsWith("jfp2p://")) ?? "";
    fixture.configure({ expireToken: true });
    try {
      for (let ask = 0; ask < 2; ask++) {
        const refused = await source.get(variant);
        expect(refused.ok).toBe(false);
        if (refused.ok) return;
        expect(refused.error.status).toBe(502);
        expect(refused.error.message).toBe("the sharer's Jellyfin server answered HTTP 401");
      }
      expect(told, "said once, however many asks fail").toBe(1);
      expect(served(await source.get(source.masterUrl)).bytes.byteLength, "what is cached still serves").toBeGreaterThan(0);
    } finally {
      fixture.configure({ expireToken: false });
    }
  });

  it("stop() ends the transcode, reports the stop and refuses every URL afterwards", async () => {
    const { source, shareId } = await openShare();
    const { init, segments } = await walk(source, shareId);
    served(await source.get(segments[0] ?? ""));
    const before = fixture.log().length;
    const positionTicks = 123_450_000;
    await source.stop(positionTicks);

    const encodings = requestsSince(before, "DELETE", "/Videos/ActiveEncodings");
    expect(encodings).toHaveLength(1);
    expect(encodings[0]?.query["playSessionId"]).toBe(source.playSessionId);
    expect(encodings[0]?.tokenOk).toBe(true);
    const stopped = requestsSince(before, "POST", "/Sessions/Playing/Stopped");
    expect(stopped).toHaveLength(1);
    expect(stopped[0]?.tokenOk).toBe(true);
    expect(stopped[0]?.body).toMatchObject({ ItemId: "m1", MediaSourceId: "ms-m1", PlaySessionId: source.playSessionId, PositionTicks: positionTicks });

    // Cached or not, nothing of the share is served any more, and Jellyfin is not asked.
    const afterStop = fixture.log().length;
    for (const opaque of [source.masterUrl, init, segments[0] ?? "", segments[1] ?? ""]) {
      const result = await source.get(opaque);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.status).toBe(404);
    }
    expect(fixture.log().length).toBe(afterStop);

    // A second stop is a no-op: the transcode is not stopped twice.
    await source.stop(positionTicks);
    expect(requestsSince(before, "DELETE", "/Videos/ActiveEncodings")).toHaveLength(1);
  });

  it("stop() while a segment is in flight answers that ask with an error, not with stale bytes", async () => {
    const { source, shareId } = await openShare();
    const { segments } = await walk(source, shareId);
    fixture.configure({ segmentDelayMs: 300 });
    const inFlight = source.get(segments[2] ?? "");
    // Let the request reach the fixture before stopping.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await source.stop(0);
    const result = await inFlight;
    expect(result.ok).toBe(false);
    const after = await source.get(segments[2] ?? "");
    expect(after.ok ? undefined : after.error.status).toBe(404);
  });

  it("in broadcast mode asks Jellyfin to burn the subtitles in, so the master offers no subtitle rendition", async () => {
    const before = fixture.log().length;
    const { source, shareId } = await openShare({ ...SELECTION, mode: "broadcast" });
    const master = text(served(await source.get(source.masterUrl)).bytes);
    expectOpaquePlaylist(master, shareId);
    expect(master).not.toContain("#EXT-X-MEDIA");
    expect(master).not.toContain("SUBTITLES");
    const request = requestsSince(before, "GET", "/Videos/m1/master.m3u8");
    expect(request).toHaveLength(1);
    expect(request[0]?.query["subtitleMethod"]).toBe("Encode");
    expect(request[0]?.query["subtitleStreamIndex"]).toBe("2");
  });

  it("reports why a share cannot open (an item that does not exist)", async () => {
    const opening = await ShareSource.open(client, "share-missing", { ...SELECTION, itemId: "no-such-item" });
    expect(opening.ok).toBe(false);
    if (!opening.ok) expect(opening.error.length).toBeGreaterThan(0);
  });
});
