// The typed Jellyfin client against the fixture server over real loopback HTTP: auth header,
// login and Quick Connect, browsing, playback (PlaybackInfo, master URL, playlists and segments
// byte for byte), reporting, the fixture's fault knobs, and every error kind the UI must show.

import { readFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildAuthorization, parseAuthorization } from "../../client-web/jellyfin/auth-header.js";
import { JellyfinClient, type JellyfinClientOptions } from "../../client-web/jellyfin/client.js";
import { startJellyfinFixture, type JellyfinFixture } from "./fixture.js";

const DEVICE_ID = "device-1";
let fixture: JellyfinFixture;

beforeAll(async () => {
  fixture = await startJellyfinFixture();
});

afterAll(async () => {
  await fixture.close();
});

afterEach(() => {
  fixture.configure({ firstSegmentDelayMs: undefined, segmentDelayMs: undefined, failSegment: undefined, expireToken: undefined, quickConnectAutoApproveAfterPolls: undefined });
});

function client(options: Partial<JellyfinClientOptions> = {}): JellyfinClient {
  return new JellyfinClient({ serverUrl: fixture.url, deviceId: DEVICE_ID, ...options });
}

function loggedIn(options: Partial<JellyfinClientOptions> = {}): JellyfinClient {
  return client({ token: fixture.token, userId: "u1", ...options });
}

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.message}`);
  return result.value;
}

const text = (bytes: ArrayBuffer) => new TextDecoder().decode(bytes);

/** Every URI in a playlist: plain URI lines and URI="…" attributes. */
function playlistUris(playlist: string): string[] {
  return playlist.split("\n").flatMap((line) => {
    if (line.startsWith("#")) return [...line.matchAll(/URI="([^"]*)"/g)].map((m) => m[1] ?? "");
    return line.trim() === "" ? [] : [line.trim()];
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe("Authorization header", () => {
  it("round-trips values with quotes, commas and non-ASCII", () => {
    const fields = { client: "meshmeet", device: 'Fire"fox, "beta" ü', deviceId: "a=b,c", version: "0.1.0", token: "t/+ken" };
    const header = buildAuthorization(fields);
    expect(header.startsWith('MediaBrowser Client="meshmeet", Device="')).toBe(true);
    expect(parseAuthorization(header)).toEqual({ Client: "meshmeet", Device: fields.device, DeviceId: "a=b,c", Version: "0.1.0", Token: "t/+ken" });
  });

  it("leaves Token out before login and parses other schemes and sloppy spacing", () => {
    expect(parseAuthorization(buildAuthorization({ client: "c", device: "d", deviceId: "i", version: "v" }))).not.toHaveProperty("Token");
    expect(parseAuthorization('Emby Token = "abc",DeviceId="x%ZZ"')).toEqual({ Token: "abc", DeviceId: "x%ZZ" });
    expect(parseAuthorization("garbage")).toEqual({});
  });
});

describe("login", () => {
  it("logs in by name and keeps token and user id", async () => {
    const c = client();
    const auth = unwrap(await c.login("alice", "pw"));
    expect(auth.AccessToken).toBe(fixture.token);
    expect(auth.User).toMatchObject({ Id: "u1", Name: "alice" });
    expect(c.session()).toEqual({ token: fixture.token, userId: "u1" });
    expect(unwrap(await c.me()).Name).toBe("alice");
  });

  it("turns a wrong password into a plain unauthorized error", async () => {
    const c = client();
    const result = await c.login("alice", "nope");
    expect(result).toEqual({ ok: false, error: { kind: "unauthorized", status: 401, message: "Wrong user name or password." } });
    expect(c.token).toBeUndefined();
  });

  it("reads the public server info without a token", async () => {
    expect(unwrap(await client().publicInfo())).toMatchObject({ ServerName: "fixture", ProductName: "Jellyfin Server" });
  });

  it("learns the user id from /Users/Me when built with a token only", async () => {
    const c = client({ token: fixture.token });
    expect(c.session()).toBeUndefined();
    unwrap(await c.me());
    expect(c.session()).toEqual({ token: fixture.token, userId: "u1" });
  });
});

describe("Quick Connect", () => {
  it("initiates, polls until approved, then authenticates", async () => {
    fixture.configure({ quickConnectAutoApproveAfterPolls: 2 });
    const c = client();
    expect(unwrap(await c.quickConnectEnabled())).toBe(true);
    const started = unwrap(await c.quickConnectInitiate());
    expect(started).toMatchObject({ Code: "123456", Authenticated: false });
    const early = await c.quickConnectAuthenticate(started.Secret);
    expect(early.ok ? undefined : early.error.kind).toBe("unauthorized");
    const polls: boolean[] = [];
    for (let i = 0; i < 3; i++) polls.push(unwrap(await c.quickConnectPoll(started.Secret)).Authenticated);
    expect(polls).toEqual([false, false, true]);
    expect(unwrap(await c.quickConnectAuthenticate(started.Secret)).AccessToken).toBe(fixture.token);
    expect(c.session()).toEqual({ token: fixture.token, userId: "u1" });
    const initiate = fixture.log().find((e) => e.path === "/QuickConnect/Initiate");
    expect(initiate?.deviceId).toBe(DEVICE_ID);
  });

  it("can be approved by code from another client", async () => {
    const c = client();
    const started = unwrap(await c.quickConnectInitiate());
    const approve = await fetch(`${fixture.url}/QuickConnect/Authorize?code=123456&userId=u1`, { method: "POST" });
    expect(approve.status).toBe(200);
    expect(unwrap(await c.quickConnectPoll(started.Secret)).Authenticated).toBe(true);
  });
});

describe("browsing", () => {
  it("lists views, a view's items, seasons and episodes", async () => {
    const c = loggedIn();
    const views = unwrap(await c.views());
    expect(views.map((v) => [v.Id, v.CollectionType])).toEqual([
      ["v-movies", "movies"],
      ["v-shows", "tvshows"],
    ]);
    const movies = unwrap(await c.items({ parentId: "v-movies", includeItemTypes: ["Movie", "Series", "Video"], recursive: true }));
    expect(movies).toEqual([expect.objectContaining({ Id: "m1", Name: "Fixture Movie", Type: "Movie", ProductionYear: 2024, RunTimeTicks: 300_000_000, IsFolder: false, ImageTags: { Primary: "t1" } })]);
    expect(unwrap(await c.seasons("s1")).map((s) => s.Id)).toEqual(["s1s1"]);
    const episodes = unwrap(await c.episodes("s1", "s1s1"));
    expect(episodes.map((e) => e.Id)).toEqual(["e1", "e2"]);
    expect(episodes[1]).toMatchObject({ SeriesName: "Fixture Series", SeriesId: "s1", SeasonName: "Season 1", SeasonId: "s1s1", IndexNumber: 2, ParentIndexNumber: 1 });
  });

  it("searches with type filters and pages", async () => {
    const c = loggedIn();
    const found = unwrap(await c.items({ searchTerm: "fixture", includeItemTypes: ["Movie", "Series", "Episode"], recursive: true, limit: 50 }));
    expect(found.map((i) => i.Id).sort()).toEqual(["m1", "s1"]);
    const episodes = unwrap(await c.items({ searchTerm: "episode", includeItemTypes: ["Episode"], recursive: true }));
    expect(episodes.map((i) => i.Id)).toEqual(["e1", "e2"]);
    const page = unwrap(await c.itemPage({ includeItemTypes: ["Episode"], recursive: true, startIndex: 1, limit: 1 }));
    expect(page).toMatchObject({ TotalRecordCount: 2, StartIndex: 1 });
    expect(page.Items.map((i) => i.Id)).toEqual(["e2"]);
    const search = fixture.log().find((e) => e.query.searchTerm === "fixture");
    expect(search?.query).toMatchObject({ includeItemTypes: "Movie,Series,Episode", recursive: "true", limit: "50", userId: "u1" });
  });

  it("reads item details with media sources and streams", async () => {
    const item = unwrap(await loggedIn().item("m1"));
    const source = item.MediaSources?.[0];
    expect(source).toMatchObject({ Id: "ms-m1", Container: "mp4", RunTimeTicks: 300_000_000, DefaultAudioStreamIndex: 1 });
    expect(source?.MediaStreams.map((s) => [s.Index, s.Type, s.Codec])).toEqual([
      [0, "Video", "h264"],
      [1, "Audio", "aac"],
      [2, "Subtitle", "subrip"],
    ]);
    expect(source?.MediaStreams[2]).toMatchObject({ Language: "eng", IsTextSubtitleStream: true });
    const missing = await loggedIn().item("nope");
    expect(missing.ok ? undefined : missing.error).toMatchObject({ kind: "http", status: 404 });
  });

  it("builds poster URLs without a token, and the poster is a PNG", async () => {
    const c = loggedIn();
    const url = c.imageUrl("m1", { width: 160, height: 240 });
    expect(url).toBe(`${fixture.url}/Items/m1/Images/Primary?fillWidth=160&fillHeight=240&quality=90`);
    const poster = unwrap(await c.fetchMedia(url));
    expect(poster.contentType).toBe("image/png");
    expect(Buffer.from(poster.bytes).equals(await readFile(fixture.media.posterFile))).toBe(true);
  });
});

describe("playback", () => {
  it("gets a PlaySessionId and builds a master URL that keeps index 0 and carries ApiKey", async () => {
    const c = loggedIn();
    const info = unwrap(await c.playbackInfo("m1", { mediaSourceId: "ms-m1", audioStreamIndex: 1 }));
    expect(info.PlaySessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(info.MediaSources[0]?.Id).toBe("ms-m1");
    const url = new URL(
      c.masterUrl({ itemId: "m1", mediaSourceId: "ms-m1", playSessionId: info.PlaySessionId, audioStreamIndex: 0, subtitleStreamIndex: 0, subtitleMethod: "Encode", preset: "480p" }),
    );
    expect(url.pathname).toBe("/Videos/m1/master.m3u8");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      mediaSourceId: "ms-m1",
      deviceId: DEVICE_ID,
      playSessionId: info.PlaySessionId,
      audioStreamIndex: "0",
      subtitleStreamIndex: "0",
      subtitleMethod: "Encode",
      videoCodec: "h264",
      audioCodec: "aac",
      segmentContainer: "mp4",
      maxWidth: "854",
      videoBitRate: "1500000",
      ApiKey: fixture.token,
    });
    const withoutSubs = new URL(c.masterUrl({ itemId: "m1", mediaSourceId: "ms-m1", playSessionId: "p", subtitleMethod: "Hls", preset: "1080p" }));
    expect(withoutSubs.searchParams.has("subtitleStreamIndex")).toBe(false);
    expect(withoutSubs.searchParams.get("maxWidth")).toBe("1920");
  });

  it("fetches master, media and subtitle playlists and segments byte for byte", async () => {
    const c = loggedIn();
    const { PlaySessionId } = unwrap(await c.playbackInfo("m1"));
    const masterUrl = c.masterUrl({ itemId: "m1", mediaSourceId: "ms-m1", playSessionId: PlaySessionId, audioStreamIndex: 1, subtitleStreamIndex: 2, subtitleMethod: "Hls", preset: "720p" });
    const master = unwrap(await c.fetchMedia(masterUrl));
    expect(master.contentType).toBe("application/vnd.apple.mpegurl");
    const masterText = text(master.bytes);
    expect(masterText).toContain(`CODECS="${fixture.media.codecs}"`);
    expect(masterText).toContain(`BANDWIDTH=${fixture.media.bandwidth},`);
    expect(masterText).toContain('SUBTITLES="subs"');
    const [subtitleUri, mainUri] = playlistUris(masterText);
    expect(subtitleUri).toMatch(/^ms-m1\/Subtitles\/2\/subtitles\.m3u8\?/);
    expect(mainUri).toMatch(/^main\.m3u8\?/);

    const mainUrl = new URL(mainUri ?? "", masterUrl).href;
    const mainText = text(unwrap(await c.fetchMedia(mainUrl)).bytes);
    expect(mainText).toContain("#EXT-X-MAP:URI=");
    expect(mainText.match(/#EXTINF:/g)).toHaveLength(fixture.media.segments.length);
    const [initUri, firstUri] = playlistUris(mainText);
    expect(initUri).toMatch(/^hls1\/main\/-1\.mp4\?/);
    expect(firstUri).toMatch(/^hls1\/main\/0\.mp4\?.*runtimeTicks=0&actualSegmentLengthTicks=20000000$/);
    const init = unwrap(await c.fetchMedia(new URL(initUri ?? "", mainUrl).href));
    expect(Buffer.from(init.bytes).equals(await readFile(fixture.media.initFile))).toBe(true);
    const first = unwrap(await c.fetchMedia(new URL(firstUri ?? "", mainUrl).href));
    expect(first.contentType).toBe("video/mp4");
    expect(Buffer.from(first.bytes).equals(await readFile(fixture.media.segments[0]?.file ?? ""))).toBe(true);

    const subtitlesUrl = new URL(subtitleUri ?? "", masterUrl).href;
    const [vttUri] = playlistUris(text(unwrap(await c.fetchMedia(subtitlesUrl)).bytes));
    const vtt = unwrap(await c.fetchMedia(new URL(vttUri ?? "", subtitlesUrl).href));
    expect(vtt.contentType).toBe("text/vtt");
    expect(text(vtt.bytes)).toContain("First cue");

    const segmentHit = fixture.log().find((e) => e.path === "/Videos/m1/hls1/main/0.mp4");
    expect(segmentHit).toMatchObject({ method: "GET", deviceId: DEVICE_ID, tokenOk: true });
    expect(segmentHit?.query.playSessionId).toBe(PlaySessionId);
  });

  it("leaves the subtitle group out unless subtitleMethod=Hls, and requires mediaSourceId", async () => {
    const c = loggedIn();
    const burned = c.masterUrl({ itemId: "m1", mediaSourceId: "ms-m1", playSessionId: "p", subtitleStreamIndex: 2, subtitleMethod: "Encode", preset: "720p" });
    expect(text(unwrap(await c.fetchMedia(burned)).bytes)).not.toContain("SUBTITLES");
    const missing = await c.fetchMedia("/Videos/m1/master.m3u8?segmentContainer=mp4");
    expect(missing.ok ? undefined : missing.error).toMatchObject({ kind: "http", status: 400 });
  });

  it("reports playback and stops the encoding, all visible in the fixture log", async () => {
    const c = loggedIn();
    const report = { itemId: "m1", mediaSourceId: "ms-m1", playSessionId: "ps-1", positionTicks: 12_345 };
    unwrap(await c.reportPlaying(report));
    unwrap(await c.reportProgress({ ...report, isPaused: true }));
    unwrap(await c.reportStopped(report));
    unwrap(await c.stopEncoding("ps-1"));
    const hits = fixture.log().filter((e) => e.path.startsWith("/Sessions/Playing") || e.path === "/Videos/ActiveEncodings");
    expect(hits.map((e) => `${e.method} ${e.path}`)).toEqual([
      "POST /Sessions/Playing",
      "POST /Sessions/Playing/Progress",
      "POST /Sessions/Playing/Stopped",
      "DELETE /Videos/ActiveEncodings",
    ]);
    expect(hits[1]?.body).toMatchObject({ ItemId: "m1", PlaySessionId: "ps-1", PositionTicks: 12_345, IsPaused: true });
    expect(hits[3]?.query).toEqual({ deviceId: DEVICE_ID, playSessionId: "ps-1" });
  });
});

describe("fixture knobs and surface", () => {
  async function segmentUrl(c: JellyfinClient, n: number): Promise<string> {
    const masterUrl = c.masterUrl({ itemId: "e1", mediaSourceId: "ms-e1", playSessionId: "p", subtitleMethod: "Hls", preset: "720p" });
    const mainUrl = new URL(playlistUris(text(unwrap(await c.fetchMedia(masterUrl)).bytes))[0] ?? "", masterUrl).href;
    return new URL(playlistUris(text(unwrap(await c.fetchMedia(mainUrl)).bytes))[n + 1] ?? "", mainUrl).href;
  }

  it("delays the first segment after a master request and fails configured segments", async () => {
    const c = loggedIn();
    fixture.configure({ firstSegmentDelayMs: 400, failSegment: { 2: 503 } });
    const first = await segmentUrl(c, 0);
    let started = performance.now();
    unwrap(await c.fetchMedia(first));
    expect(performance.now() - started).toBeGreaterThanOrEqual(350);
    started = performance.now();
    unwrap(await c.fetchMedia(first));
    expect(performance.now() - started).toBeLessThan(300);
    const failed = await c.fetchMedia(await segmentUrl(c, 2));
    expect(failed.ok ? undefined : failed.error).toMatchObject({ kind: "http", status: 503 });
  });

  it("expires the token on demand and takes config over HTTP", async () => {
    const c = loggedIn();
    const config = await fetch(`${fixture.url}/__fixture/config`, { method: "POST", body: JSON.stringify({ expireToken: true }) });
    expect(config.status).toBe(204);
    const expired = await c.me();
    expect(expired.ok ? undefined : expired.error).toMatchObject({ kind: "unauthorized", status: 401 });
    fixture.configure({ expireToken: false });
    expect((await c.me()).ok).toBe(true);
    const bad = await fetch(`${fixture.url}/__fixture/config`, { method: "POST", body: JSON.stringify({ segmentDelayMs: "slow" }) });
    expect(bad.status).toBe(400);
  });

  it("answers CORS preflights and exposes its log over HTTP", async () => {
    const preflight = await fetch(`${fixture.url}/Items`, { method: "OPTIONS" });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("Authorization, X-Emby-Authorization, Content-Type");
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET, POST, DELETE");
    const denied = await fetch(`${fixture.url}/Users/Me`);
    expect([denied.status, denied.headers.get("access-control-allow-origin")]).toEqual([401, "*"]);
    const log = (await (await fetch(`${fixture.url}/__fixture/log`)).json()) as { path: string; method: string; tokenOk: boolean }[];
    expect(log).toContainEqual(expect.objectContaining({ method: "OPTIONS", path: "/Items" }));
    expect(log).toContainEqual(expect.objectContaining({ path: "/Users/Me", tokenOk: false }));
  });

  it("accepts the legacy token forms and rejects bodies over 1 MiB", async () => {
    const headerForms: Record<string, string>[] = [{ "X-Emby-Token": fixture.token }, { "X-Emby-Authorization": `MediaBrowser Token="${fixture.token}"` }];
    for (const headers of headerForms) {
      expect((await fetch(`${fixture.url}/Users/Me`, { headers })).status).toBe(200);
    }
    expect((await fetch(`${fixture.url}/Users/Me?api_key=${fixture.token}`)).status).toBe(200);
    const big = await fetch(`${fixture.url}/Sessions/Playing`, { method: "POST", headers: { "X-Emby-Token": fixture.token }, body: "x".repeat(1024 * 1024 + 1) });
    expect(big.status).toBe(413);
    // Chunked, so the size only shows while reading.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(`${fixture.url}/Sessions/Playing`, { method: "POST", headers: { "X-Emby-Token": fixture.token } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      for (let i = 0; i < 3; i++) req.write(Buffer.alloc(512 * 1024));
      req.end();
    });
    expect(chunked).toBe(413);
  });
});

describe("errors", () => {
  it("maps a missing token to unauthorized", async () => {
    const result = await client().views();
    expect(result.ok ? undefined : result.error).toMatchObject({ kind: "unauthorized", status: 401 });
    expect(fixture.log().some((e) => e.path === "/UserViews" && !e.tokenOk)).toBe(true);
  });

  it("reports an unreachable server and explains CORS", async () => {
    const server = createServer();
    const url = await listen(server);
    await closeServer(server);
    const result = await new JellyfinClient({ serverUrl: url, deviceId: DEVICE_ID }).publicInfo();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.kind).toBe("unreachable");
    expect(result.error.message).toContain("CORS");
    expect(result.error.message).toContain("Access-Control-Allow-Origin");
    expect(result.error.message).toContain("Authorization header");
  });

  it("turns garbage and wrongly shaped JSON into bad_response", async () => {
    const bodies: Record<string, string> = {
      "/Users/Me": "<html>not json",
      "/UserViews": '{"Items": 5}',
      "/Items/x": '{"Id": 7, "Type": "Movie"}',
      "/Items": '{"Items": [{"Id": "a", "Type": "Movie", "MediaSources": [{"Id": "s", "MediaStreams": [{"Index": "0", "Type": "Video"}]}]}]}',
      "/QuickConnect/Enabled": '"yes"',
    };
    const server = createServer((req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(bodies[new URL(req.url ?? "/", "http://x").pathname] ?? "null");
    });
    const c = new JellyfinClient({ serverUrl: await listen(server), deviceId: DEVICE_ID, token: "t" });
    try {
      const results = [await c.me(), await c.views(), await c.item("x"), await c.items({}), await c.quickConnectEnabled(), await c.playbackInfo("x")];
      expect(results.map((r) => (r.ok ? "ok" : r.error.kind))).toEqual(results.map(() => "bad_response"));
    } finally {
      server.closeAllConnections();
      await closeServer(server);
    }
  });

  it("times out, honours abort signals and refuses to send the token to another origin", async () => {
    fixture.configure({ segmentDelayMs: 1000 });
    const c = loggedIn({ timeoutMs: 150 });
    const segment = `/Videos/m1/hls1/main/-1.mp4?ApiKey=${fixture.token}`;
    const slow = await c.fetchMedia(segment);
    expect(slow.ok ? undefined : slow.error.kind).toBe("timeout");
    const aborter = new AbortController();
    const pending = loggedIn().fetchMedia(segment, aborter.signal);
    setTimeout(() => aborter.abort(), 50);
    const aborted = await pending;
    expect(aborted.ok ? undefined : aborted.error.kind).toBe("aborted");
    const elsewhere = await c.fetchMedia("http://127.0.0.2:9/steal");
    expect(elsewhere.ok ? undefined : elsewhere.error).toMatchObject({ kind: "bad_response" });
    expect(fixture.log().some((e) => e.path === "/steal")).toBe(false);
  });

  it("rejects a server URL that is not http(s)", () => {
    expect(() => new JellyfinClient({ serverUrl: "ftp://x", deviceId: DEVICE_ID })).toThrow(TypeError);
  });
});
