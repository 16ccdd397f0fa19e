// TEST FIXTURE ONLY, never production code: a tiny HTTP server imitating the part of the Jellyfin
// API meshmeet uses, so client and relay tests run without a real Jellyfin
// (none can be installed here). Same paths, parameter and JSON field names as Jellyfin,
// only the fields our client reads. Media is real: ffmpeg output generated once per process.
// Jellyfin's own routing and query binding are case-insensitive, so this server matches both
// case-insensitively too.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, rmSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { parseAuthorization } from "../../client-web/jellyfin/auth-header.js";

export interface FixtureLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  deviceId?: string;
  tokenOk: boolean;
  at: number;
  /** JSON body of /Sessions/Playing* reports (not of logins: no passwords in the log). */
  body?: unknown;
}

export interface FixtureConfig {
  /** Delay of the first media segment (index ≥ 0) served after each master.m3u8 request. */
  firstSegmentDelayMs?: number;
  /** Delay of every other hls1 request, the init segment included. */
  segmentDelayMs?: number;
  /** Segment index → HTTP status to answer instead, until configured otherwise. */
  failSegment?: Record<number, number>;
  /** While true, the token is refused everywhere (401), login included. */
  expireToken?: boolean;
  /** A Quick Connect request reports Authenticated on the first poll after this many polls. */
  quickConnectAutoApproveAfterPolls?: number;
}

export interface JellyfinFixture {
  /** http://HOST:PORT, no trailing slash. */
  readonly url: string;
  log(): FixtureLogEntry[];
  configure(config: FixtureConfig): void;
  /** The one access token this fixture issues (login and Quick Connect both return it). */
  readonly token: string;
  /** Files ffmpeg produced, for byte comparisons. */
  readonly media: FixtureMedia;
  close(): Promise<void>;
}

export interface FixtureSegment {
  readonly file: string;
  readonly durationS: number;
  readonly startTicks: number;
  readonly lengthTicks: number;
}

export interface FixtureMedia {
  readonly dir: string;
  readonly initFile: string;
  readonly segments: readonly FixtureSegment[];
  readonly posterFile: string;
  readonly vttFile: string;
  /** From ffmpeg's master.m3u8. */
  readonly bandwidth: number;
  readonly codecs: string;
  readonly width: number;
  readonly height: number;
  readonly runTimeTicks: number;
}

const MAX_BODY_BYTES = 1024 * 1024;
const TICKS_PER_SECOND = 10_000_000;
const FRAME_RATE = 25;
const SERVER_ID = "srv1";
const USER = { Id: "u1", Name: "alice", password: "pw" } as const;
const QUICK_CONNECT_CODE = "123456";
/** MediaStreams index of the one (text) subtitle stream, as a path/query string. */
const SUBTITLE_INDEX = "2";

// ---------------------------------------------------------------------------------------------
// Media, generated once per process and shared by every fixture in it. The directory goes
// when the last fixture using it closes: vitest ends its worker processes without an "exit"
// event, so the exit hook alone leaked one directory per test file. The hook stays as the last
// resort for runs that never reach close().

let mediaPromise: Promise<FixtureMedia> | undefined;
let mediaUsers = 0;
const liveDirs = new Set<string>();

async function acquireMedia(): Promise<FixtureMedia> {
  mediaUsers += 1;
  try {
    mediaPromise ??= generateMedia();
    return await mediaPromise;
  } catch (cause) {
    mediaPromise = undefined; // let the next fixture retry instead of caching the failure
    mediaUsers -= 1;
    throw cause;
  }
}

async function releaseMedia(): Promise<void> {
  mediaUsers -= 1;
  if (mediaUsers > 0 || mediaPromise === undefined) return;
  const { dir } = await mediaPromise;
  mediaPromise = undefined;
  liveDirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

let exitHookInstalled = false;

function trackDir(dir: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Synchronous on purpose: "exit" handlers cannot wait for promises.
    process.once("exit", () => {
      for (const live of liveDirs) rmSync(live, { recursive: true, force: true });
    });
  }
  liveDirs.add(dir);
}

const run = promisify(execFile);

async function generateMedia(): Promise<FixtureMedia> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "meshmeet-jellyfin-"));
  trackDir(dir);
  try {
    return await generateInto(dir);
  } catch (cause) {
    liveDirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`generating the Jellyfin fixture media with ffmpeg failed (is ffmpeg on PATH?)`, { cause });
  }
}

/**
 * The plan was 10 s; 30 s leaves an end-to-end test room to join, settle, measure
 * drift, pause and seek before the video ends (still only about 1.2 MB of segments).
 */
const MEDIA_SECONDS = 30;

async function generateInto(dir: string): Promise<FixtureMedia> {
  const lavfi = (spec: string) => ["-f", "lavfi", "-i", spec];
  // Run inside `dir` with relative names, exactly as the generating command, so the playlists ffmpeg
  // writes hold plain file names.
  const inDir = { cwd: dir };
  await run("ffmpeg", [
    ...["-hide_banner", "-loglevel", "error", "-y"],
    ...lavfi(`testsrc2=size=320x180:rate=25:duration=${MEDIA_SECONDS}`),
    ...lavfi(`sine=frequency=440:sample_rate=48000:duration=${MEDIA_SECONDS}`),
    ...["-map", "0:v", "-map", "1:a"],
    ...["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p"],
    ...["-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-b:v", "250k", "-maxrate", "300k", "-bufsize", "600k"],
    ...["-c:a", "aac", "-b:a", "64k", "-ac", "2", "-shortest"],
    ...["-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4"],
    ...["-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", "seg%d.mp4"],
    ...["-master_pl_name", "master.m3u8", "main.m3u8"],
  ], inDir);
  const posterFile = path.join(dir, "poster.png");
  await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...lavfi("testsrc2=size=320x180:rate=1:duration=1"), "-frames:v", "1", "poster.png"], inDir);
  const vttFile = path.join(dir, "sub.vtt");
  await writeFile(vttFile, "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nFirst cue\n\n00:00:05.000 --> 00:00:09.000\nSecond cue\n");
  return readFfmpegPlaylists(dir, posterFile, vttFile);
}

async function readFfmpegPlaylists(dir: string, posterFile: string, vttFile: string): Promise<FixtureMedia> {
  const master = await readFile(path.join(dir, "master.m3u8"), "utf8");
  const streamInf = master.split("\n").find((line) => line.startsWith("#EXT-X-STREAM-INF:"));
  if (streamInf === undefined) throw new Error("ffmpeg master.m3u8 has no EXT-X-STREAM-INF");
  const attrs = parseAttributes(streamInf.slice("#EXT-X-STREAM-INF:".length));
  const [width, height] = (attrs.RESOLUTION ?? "").split("x").map(Number);
  if (attrs.BANDWIDTH === undefined || attrs.CODECS === undefined || !width || !height) {
    throw new Error(`unexpected ffmpeg master playlist: ${streamInf}`);
  }
  const main = (await readFile(path.join(dir, "main.m3u8"), "utf8")).split("\n").map((line) => line.trim());
  const map = main.find((line) => line.startsWith("#EXT-X-MAP:"));
  const initUri = map === undefined ? undefined : parseAttributes(map.slice("#EXT-X-MAP:".length)).URI;
  if (initUri === undefined) throw new Error("ffmpeg main.m3u8 has no EXT-X-MAP");
  const segments: FixtureSegment[] = [];
  let startTicks = 0;
  main.forEach((line, i) => {
    if (!line.startsWith("#EXTINF:")) return;
    const durationS = Number.parseFloat(line.slice("#EXTINF:".length));
    const uri = main[i + 1];
    if (!Number.isFinite(durationS) || uri === undefined || uri.startsWith("#")) throw new Error(`bad EXTINF in ffmpeg main.m3u8: ${line}`);
    const lengthTicks = Math.round(durationS * TICKS_PER_SECOND);
    segments.push({ file: path.resolve(dir, uri), durationS, startTicks, lengthTicks });
    startTicks += lengthTicks;
  });
  if (segments.length === 0) throw new Error("ffmpeg main.m3u8 lists no segments");
  return {
    dir,
    initFile: path.resolve(dir, initUri),
    segments,
    posterFile,
    vttFile,
    bandwidth: Number(attrs.BANDWIDTH),
    codecs: attrs.CODECS,
    width,
    height,
    runTimeTicks: startTicks,
  };
}

/** HLS attribute list: KEY=value or KEY="quoted, value". */
function parseAttributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) {
    const [, key, value] = m;
    if (key !== undefined && value !== undefined) out[key] = value.replace(/^"|"$/g, "");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Library data

interface LibraryItem {
  readonly Id: string;
  readonly Name: string;
  readonly Type: string;
  readonly ParentId: string | undefined;
  readonly IsFolder: boolean;
  readonly playable: boolean;
  readonly extra: Readonly<Record<string, unknown>>;
}

const ROOT_ID = "root";

function libraryItems(): LibraryItem[] {
  const series = { SeriesId: "s1", SeriesName: "Fixture Series" };
  const season = { ...series, SeasonId: "s1s1", SeasonName: "Season 1", ParentIndexNumber: 1 };
  const item = (Id: string, Name: string, Type: string, ParentId: string, IsFolder: boolean, extra: Record<string, unknown> = {}): LibraryItem => ({
    Id,
    Name,
    Type,
    ParentId,
    IsFolder,
    playable: !IsFolder,
    extra,
  });
  return [
    item("v-movies", "Movies", "CollectionFolder", ROOT_ID, true, { CollectionType: "movies" }),
    item("v-shows", "Shows", "CollectionFolder", ROOT_ID, true, { CollectionType: "tvshows" }),
    item("m1", "Fixture Movie", "Movie", "v-movies", false, { ProductionYear: 2024 }),
    item("s1", "Fixture Series", "Series", "v-shows", true, { ProductionYear: 2023 }),
    item("s1s1", "Season 1", "Season", "s1", true, { ...series, IndexNumber: 1 }),
    item("e1", "Episode One", "Episode", "s1s1", false, { ...season, IndexNumber: 1 }),
    item("e2", "Episode Two", "Episode", "s1s1", false, { ...season, IndexNumber: 2 }),
  ];
}

function mediaSource(item: LibraryItem, media: FixtureMedia): Record<string, unknown> {
  const streams = [
    { Index: 0, Type: "Video", Codec: "h264", Width: media.width, Height: media.height, AverageFrameRate: FRAME_RATE, DisplayTitle: `${media.height}p H264`, IsDefault: true },
    { Index: 1, Type: "Audio", Codec: "aac", Channels: 2, ChannelLayout: "stereo", Language: "eng", DisplayTitle: "English - AAC - Stereo - Default", IsDefault: true },
    { Index: 2, Type: "Subtitle", Codec: "subrip", Language: "eng", DisplayTitle: "English - SUBRIP - External", IsTextSubtitleStream: true, IsExternal: true, IsDefault: false },
  ];
  return {
    Id: `ms-${item.Id}`,
    Name: item.Name,
    Protocol: "File",
    Container: "mp4",
    RunTimeTicks: media.runTimeTicks,
    Bitrate: media.bandwidth,
    SupportsTranscoding: true,
    SupportsDirectPlay: true,
    SupportsDirectStream: true,
    MediaStreams: streams,
    DefaultAudioStreamIndex: 1,
  };
}

// ---------------------------------------------------------------------------------------------
// The server

interface Context {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly params: readonly string[];
  readonly body: Buffer;
  readonly token: string | undefined;
  readonly entry: FixtureLogEntry;
  /** Case-insensitive query lookup (Jellyfin binds query parameters case-insensitively). */
  q(name: string): string | undefined;
}

interface Route {
  readonly method: "GET" | "POST" | "DELETE";
  readonly pattern: RegExp;
  readonly auth: boolean;
  readonly handle: (ctx: Context) => Promise<void> | void;
}

interface QuickConnectRequest {
  readonly secret: string;
  readonly deviceId: string;
  readonly deviceName: string;
  readonly appName: string;
  readonly appVersion: string;
  readonly dateAdded: string;
  polls: number;
  authorized: boolean;
}

export async function startJellyfinFixture(options: { host?: string } = {}): Promise<JellyfinFixture> {
  const media = await acquireMedia();
  try {
    return await new FixtureServer(media).listen(options.host ?? "127.0.0.1");
  } catch (cause) {
    await releaseMedia();
    throw cause;
  }
}

class FixtureServer {
  private readonly token = randomBytes(16).toString("hex");
  private readonly entries: FixtureLogEntry[] = [];
  private readonly items = libraryItems();
  private readonly quickConnect = new Map<string, QuickConnectRequest>();
  private readonly closing = new AbortController();
  private config: FixtureConfig = {};
  /** Set by each master request, consumed by the next media segment (transcode spin-up). */
  private firstSegmentPending = false;
  private readonly server = createServer((req, res) => this.handle(req, res));
  private readonly routes: readonly Route[];
  private closed: Promise<void> | undefined;

  constructor(private readonly media: FixtureMedia) {
    const route = (method: Route["method"], pattern: string, auth: boolean, handle: Route["handle"]): Route => ({
      method,
      pattern: new RegExp(`^${pattern}$`, "i"),
      auth,
      handle,
    });
    const seg = "([^/]+)";
    this.routes = [
      route("GET", "/System/Info/Public", false, (c) => sendJson(c.res, 200, { ServerName: "fixture", Version: "10.10.7", Id: SERVER_ID, ProductName: "Jellyfin Server", StartupWizardCompleted: true })),
      route("POST", "/Users/AuthenticateByName", false, (c) => this.authenticateByName(c)),
      route("GET", "/QuickConnect/Enabled", false, (c) => sendJson(c.res, 200, true)),
      route("POST", "/QuickConnect/Initiate", false, (c) => this.quickConnectInitiate(c)),
      route("GET", "/QuickConnect/Connect", false, (c) => this.quickConnectConnect(c)),
      route("POST", "/QuickConnect/Authorize", false, (c) => this.quickConnectAuthorize(c)),
      route("POST", "/Users/AuthenticateWithQuickConnect", false, (c) => this.authenticateWithQuickConnect(c)),
      route("GET", "/Users/Me", true, (c) => sendJson(c.res, 200, { Id: USER.Id, Name: USER.Name, ServerId: SERVER_ID, HasPassword: true })),
      route("GET", "/UserViews", true, (c) => sendJson(c.res, 200, this.page(this.children(ROOT_ID, false), 0, undefined))),
      route("GET", "/Items", true, (c) => this.queryItems(c)),
      route("GET", `/Items/${seg}`, true, (c) => this.itemDetails(c)),
      route("GET", `/Shows/${seg}/Seasons`, true, (c) => this.showChildren(c, "Season")),
      route("GET", `/Shows/${seg}/Episodes`, true, (c) => this.showChildren(c, "Episode")),
      route("POST", `/Items/${seg}/PlaybackInfo`, true, (c) => this.playbackInfo(c)),
      route("GET", `/Videos/${seg}/master\\.m3u8`, true, (c) => this.masterPlaylist(c)),
      route("GET", `/Videos/${seg}/main\\.m3u8`, true, (c) => this.mediaPlaylist(c)),
      route("GET", `/Videos/${seg}/hls1/${seg}/(-?\\d+)\\.(\\w+)`, true, (c) => this.segment(c)),
      route("GET", `/Videos/${seg}/${seg}/Subtitles/(\\d+)/subtitles\\.m3u8`, true, (c) => this.subtitlePlaylist(c)),
      route("GET", `/Videos/${seg}/${seg}/Subtitles/(\\d+)/(?:\\d+/)?Stream\\.vtt`, true, (c) => this.subtitleFile(c)),
      route("GET", `/Items/${seg}/Images/Primary`, false, (c) => this.image(c)),
      route("POST", "/Sessions/Playing(?:/Progress|/Stopped)?", true, (c) => this.sessionReport(c)),
      route("DELETE", "/Videos/ActiveEncodings", true, (c) => sendEmpty(c.res, 204)),
      route("GET", "/__fixture/log", false, (c) => sendJson(c.res, 200, this.log())),
      route("POST", "/__fixture/config", false, (c) => this.configFromBody(c)),
    ];
  }

  async listen(host: string): Promise<JellyfinFixture> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, host, () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    const urlHost = host.includes(":") ? `[${host}]` : host;
    return {
      url: `http://${urlHost}:${port}`,
      token: this.token,
      media: this.media,
      log: () => this.log(),
      configure: (config) => this.configure(config),
      close: () => this.close(),
    };
  }

  private log(): FixtureLogEntry[] {
    return structuredClone(this.entries);
  }

  private configure(patch: FixtureConfig): void {
    this.config = { ...this.config, ...patch };
  }

  private close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.closing.abort(); // cuts short any segment delay still sleeping
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    }).then(releaseMedia);
    return this.closed;
  }

  // --- per request ---------------------------------------------------------------------------

  private handle(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader("Access-Control-Allow-Origin", "*");
    this.dispatch(req, res).catch((cause: unknown) => {
      // A test fixture: surface the bug as a 500 the test will see, not as a hung request.
      if (!res.headersSent) sendText(res, 500, `fixture error: ${String(cause)}`);
      else res.destroy();
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fixture.invalid");
    const method = req.method ?? "GET";
    const token = tokenOf(req, url);
    const auth = parseAuthorization(headerValue(req, "authorization") ?? headerValue(req, "x-emby-authorization") ?? "");
    const deviceId = lookup(auth, "DeviceId") ?? queryValue(url, "deviceId");
    const tokenOk = token === this.token && this.config.expireToken !== true;
    const entry: FixtureLogEntry = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), tokenOk, at: Date.now() };
    if (deviceId !== undefined) entry.deviceId = deviceId;
    this.entries.push(entry);

    if (method === "OPTIONS") return preflight(res);
    const body = await readBody(req);
    if (body === undefined) return sendText(res, 413, "request body over 1 MiB", { Connection: "close" });

    const matching = this.routes.map((route) => ({ route, match: route.pattern.exec(url.pathname) })).filter((m) => m.match !== null);
    const found = matching.find((m) => m.route.method === method);
    if (found === undefined || found.match === null) return sendText(res, matching.length > 0 ? 405 : 404, "no such endpoint in the fixture");
    if (found.route.auth && !tokenOk) return sendText(res, 401, "Unauthorized");
    const params = found.match.slice(1).map((p) => safeDecode(p ?? ""));
    await found.route.handle({ req, res, url, params, body, token, entry, q: (name) => queryValue(url, name) });
  }

  // --- auth and Quick Connect ----------------------------------------------------------------

  private authResult(deviceId: string | undefined): Record<string, unknown> {
    return {
      AccessToken: this.token,
      ServerId: SERVER_ID,
      User: { Id: USER.Id, Name: USER.Name, ServerId: SERVER_ID },
      SessionInfo: { Id: randomBytes(8).toString("hex"), UserId: USER.Id, DeviceId: deviceId ?? null },
    };
  }

  private authenticateByName(c: Context): void {
    const body = jsonObject(c);
    if (body === undefined) return;
    const okLogin = body.Username === USER.Name && body.Pw === USER.password && this.config.expireToken !== true;
    if (!okLogin) return sendText(c.res, 401, "Invalid user name or password.");
    sendJson(c.res, 200, this.authResult(c.entry.deviceId));
  }

  private quickConnectInitiate(c: Context): void {
    const auth = parseAuthorization(headerValue(c.req, "authorization") ?? "");
    const request: QuickConnectRequest = {
      secret: randomBytes(32).toString("hex"),
      deviceId: lookup(auth, "DeviceId") ?? "",
      deviceName: lookup(auth, "Device") ?? "",
      appName: lookup(auth, "Client") ?? "",
      appVersion: lookup(auth, "Version") ?? "",
      dateAdded: new Date().toISOString(),
      polls: 0,
      authorized: false,
    };
    this.quickConnect.set(request.secret, request);
    sendJson(c.res, 200, quickConnectJson(request));
  }

  private quickConnectConnect(c: Context): void {
    const request = this.quickConnect.get(c.q("secret") ?? "");
    if (request === undefined) return sendText(c.res, 404, "Unknown secret");
    const approveAfter = this.config.quickConnectAutoApproveAfterPolls;
    if (approveAfter !== undefined && request.polls >= approveAfter) request.authorized = true;
    request.polls += 1;
    sendJson(c.res, 200, quickConnectJson(request));
  }

  private quickConnectAuthorize(c: Context): void {
    // Every request shows the same code, so approving it approves all that are pending.
    const pending = c.q("code") === QUICK_CONNECT_CODE ? [...this.quickConnect.values()] : [];
    if (pending.length === 0) return sendText(c.res, 404, "Unknown code");
    for (const request of pending) request.authorized = true;
    sendJson(c.res, 200, true);
  }

  private authenticateWithQuickConnect(c: Context): void {
    const body = jsonObject(c);
    if (body === undefined) return;
    const secret = typeof body.Secret === "string" ? body.Secret : "";
    const request = this.quickConnect.get(secret);
    if (request === undefined || !request.authorized || this.config.expireToken === true) return sendText(c.res, 401, "Unauthorized");
    this.quickConnect.delete(secret);
    sendJson(c.res, 200, this.authResult(request.deviceId));
  }

  // --- library -------------------------------------------------------------------------------

  private summary(item: LibraryItem): Record<string, unknown> {
    const playable = item.playable ? { RunTimeTicks: this.media.runTimeTicks, MediaType: "Video" } : {};
    const image = item.Type === "CollectionFolder" ? {} : { ImageTags: { Primary: "t1" } };
    return { Id: item.Id, Name: item.Name, Type: item.Type, ServerId: SERVER_ID, ParentId: item.ParentId, IsFolder: item.IsFolder, ...item.extra, ...playable, ...image };
  }

  private children(parentId: string, recursive: boolean): LibraryItem[] {
    const direct = this.items.filter((item) => item.ParentId === parentId);
    return recursive ? direct.flatMap((item) => [item, ...this.children(item.Id, true)]) : direct;
  }

  private page(items: readonly LibraryItem[], startIndex: number, limit: number | undefined): Record<string, unknown> {
    const slice = items.slice(startIndex, limit === undefined ? undefined : startIndex + limit);
    return { Items: slice.map((item) => this.summary(item)), TotalRecordCount: items.length, StartIndex: startIndex };
  }

  private queryItems(c: Context): void {
    const parentId = c.q("parentId") ?? ROOT_ID;
    if (parentId !== ROOT_ID && !this.items.some((item) => item.Id === parentId)) return sendText(c.res, 404, "Unknown parentId");
    let found = this.children(parentId, c.q("recursive")?.toLowerCase() === "true");
    const types = c.q("includeItemTypes")?.split(",").map((t) => t.trim().toLowerCase()).filter((t) => t !== "");
    if (types !== undefined && types.length > 0) found = found.filter((item) => types.includes(item.Type.toLowerCase()));
    const term = c.q("searchTerm")?.toLowerCase();
    if (term !== undefined) found = found.filter((item) => item.Name.toLowerCase().includes(term));
    if (c.q("sortBy")?.toLowerCase().includes("sortname")) found = [...found].sort((a, b) => a.Name.localeCompare(b.Name));
    const startIndex = nonNegativeInt(c.q("startIndex")) ?? 0;
    sendJson(c.res, 200, this.page(found, startIndex, nonNegativeInt(c.q("limit"))));
  }

  private itemById(id: string | undefined): LibraryItem | undefined {
    return this.items.find((item) => item.Id === id);
  }

  private itemDetails(c: Context): void {
    const item = this.itemById(c.params[0]);
    if (item === undefined) return sendText(c.res, 404, "Item not found");
    const sources = item.playable ? { MediaSources: [mediaSource(item, this.media)] } : {};
    sendJson(c.res, 200, { ...this.summary(item), Overview: `${item.Name}, served by the meshmeet test fixture.`, ...sources });
  }

  private showChildren(c: Context, type: "Season" | "Episode"): void {
    const series = this.itemById(c.params[0]);
    if (series === undefined || series.Type !== "Series") return sendText(c.res, 404, "Series not found");
    const seasonId = type === "Episode" ? c.q("seasonId") : undefined;
    const found = this.children(series.Id, true).filter(
      (item) => item.Type === type && (seasonId === undefined || item.ParentId === seasonId),
    );
    sendJson(c.res, 200, this.page(found, 0, undefined));
  }

  private image(c: Context): Promise<void> {
    if (this.itemById(c.params[0]) === undefined) return Promise.resolve(sendText(c.res, 404, "Item not found"));
    return sendFile(c.res, this.media.posterFile, "image/png");
  }

  // --- playback ------------------------------------------------------------------------------

  private playableSource(c: Context, required: boolean): { item: LibraryItem; msId: string } | undefined {
    const item = this.itemById(c.params[0]);
    if (item === undefined || !item.playable) {
      sendText(c.res, 404, "Item not found or not playable");
      return undefined;
    }
    const msId = `ms-${item.Id}`;
    const asked = c.q("mediaSourceId");
    if ((required && asked === undefined) || (asked !== undefined && asked !== msId)) {
      sendText(c.res, 400, asked === undefined ? "mediaSourceId is required" : `Unknown mediaSourceId ${asked}`);
      return undefined;
    }
    return { item, msId };
  }

  private playbackInfo(c: Context): void {
    const body = jsonObject(c);
    const source = body === undefined ? undefined : this.playableSource(c, false);
    if (source === undefined) return;
    const playSessionId = randomBytes(16).toString("hex");
    const transcodingUrl =
      `/videos/${source.item.Id}/master.m3u8?MediaSourceId=${source.msId}&PlaySessionId=${playSessionId}` +
      `&DeviceId=${encodeURIComponent(c.entry.deviceId ?? "")}&VideoCodec=h264&AudioCodec=aac&SegmentContainer=mp4&ApiKey=${this.token}`;
    const mediaSourceInfo = {
      ...mediaSource(source.item, this.media),
      TranscodingSubProtocol: "hls",
      TranscodingContainer: "mp4",
      TranscodingUrl: transcodingUrl,
    };
    sendJson(c.res, 200, { PlaySessionId: playSessionId, MediaSources: [mediaSourceInfo] });
  }

  private masterPlaylist(c: Context): void {
    const source = this.playableSource(c, true);
    if (source === undefined || !this.isFmp4(c)) return;
    this.firstSegmentPending = true;
    const lines = ["#EXTM3U"];
    const subtitleIndex = c.q("subtitleStreamIndex");
    // Index 2 is the only subtitle stream; any other index names no text track to offer.
    const withSubtitles = c.q("subtitleMethod")?.toLowerCase() === "hls" && subtitleIndex === SUBTITLE_INDEX;
    if (withSubtitles) {
      const uri = `${source.msId}/Subtitles/${subtitleIndex}/subtitles.m3u8?SegmentLength=10&ApiKey=${c.token ?? ""}`;
      lines.push(`#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,URI="${uri}"`);
    }
    const { bandwidth, codecs, width, height } = this.media;
    const subtitles = withSubtitles ? `,SUBTITLES="subs"` : "";
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},CODECS="${codecs}",RESOLUTION=${width}x${height},FRAME-RATE=${FRAME_RATE}${subtitles}`);
    lines.push(`main.m3u8${c.url.search}`);
    sendPlaylist(c.res, lines);
  }

  private mediaPlaylist(c: Context): void {
    if (this.playableSource(c, false) === undefined || !this.isFmp4(c)) return;
    const q = c.url.search.slice(1);
    const withQuery = (extra: string) => {
      const joined = [q, extra].filter((part) => part !== "").join("&");
      return joined === "" ? "" : `?${joined}`;
    };
    const target = Math.ceil(Math.max(...this.media.segments.map((s) => s.durationS)));
    const lines = ["#EXTM3U", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-VERSION:7", `#EXT-X-TARGETDURATION:${target}`, "#EXT-X-MEDIA-SEQUENCE:0"];
    lines.push(`#EXT-X-MAP:URI="hls1/main/-1.mp4${withQuery("")}"`);
    this.media.segments.forEach((s, n) => {
      lines.push(`#EXTINF:${s.durationS.toFixed(6)},`);
      lines.push(`hls1/main/${n}.mp4${withQuery(`runtimeTicks=${s.startTicks}&actualSegmentLengthTicks=${s.lengthTicks}`)}`);
    });
    lines.push("#EXT-X-ENDLIST");
    sendPlaylist(c.res, lines);
  }

  /** Only fMP4 media is generated, so TS segment requests are refused outright. */
  private isFmp4(c: Context): boolean {
    const container = c.q("segmentContainer")?.toLowerCase() ?? "mp4";
    if (container === "mp4") return true;
    sendText(c.res, 400, `the fixture serves only segmentContainer=mp4, not ${container}`);
    return false;
  }

  private async segment(c: Context): Promise<void> {
    if (this.playableSource(c, false) === undefined) return;
    const index = Number(c.params[2]);
    const ext = c.params[3]?.toLowerCase();
    const segment = this.media.segments[index];
    if (ext !== "mp4" || (index !== -1 && segment === undefined)) return sendText(c.res, 404, "No such segment");
    if (segment !== undefined && !ticksMatch(c, segment)) return sendText(c.res, 400, "runtimeTicks/actualSegmentLengthTicks do not match the playlist");
    await this.segmentDelay(index);
    const failStatus = this.config.failSegment?.[index];
    if (failStatus !== undefined) return sendText(c.res, failStatus, `segment ${index} failed (fixture failSegment)`);
    await sendFile(c.res, segment?.file ?? this.media.initFile, "video/mp4");
  }

  private async segmentDelay(index: number): Promise<void> {
    let ms = this.config.segmentDelayMs ?? 0;
    if (index >= 0 && this.firstSegmentPending) {
      this.firstSegmentPending = false;
      ms = this.config.firstSegmentDelayMs ?? ms;
    }
    if (ms > 0) await sleep(ms, undefined, { signal: this.closing.signal });
  }

  private subtitlePlaylist(c: Context): void {
    const source = this.playableSource(c, false);
    if (source === undefined || c.params[1] !== source.msId || c.params[2] !== SUBTITLE_INDEX) return sendText(c.res, 404, "No such subtitle stream");
    const seconds = Math.round(this.media.runTimeTicks / TICKS_PER_SECOND);
    sendPlaylist(c.res, [
      "#EXTM3U",
      `#EXT-X-TARGETDURATION:${seconds}`,
      "#EXT-X-VERSION:3",
      "#EXT-X-MEDIA-SEQUENCE:0",
      "#EXT-X-PLAYLIST-TYPE:VOD",
      `#EXTINF:${seconds},`,
      `0/Stream.vtt?ApiKey=${c.token ?? ""}`,
      "#EXT-X-ENDLIST",
    ]);
  }

  private subtitleFile(c: Context): Promise<void> {
    const source = this.playableSource(c, false);
    if (source === undefined) return Promise.resolve();
    if (c.params[1] !== source.msId || c.params[2] !== SUBTITLE_INDEX) return Promise.resolve(sendText(c.res, 404, "No such subtitle stream"));
    return sendFile(c.res, this.media.vttFile, "text/vtt");
  }

  private sessionReport(c: Context): void {
    const body = jsonObject(c);
    if (body === undefined) return;
    c.entry.body = body;
    sendEmpty(c.res, 204);
  }

  // --- test-only -----------------------------------------------------------------------------

  private configFromBody(c: Context): void {
    const body = jsonObject(c);
    if (body === undefined) return;
    const parsed = parseConfig(body);
    if (typeof parsed === "string") return sendText(c.res, 400, parsed);
    this.configure(parsed);
    sendEmpty(c.res, 204);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function lookup(record: Record<string, string>, key: string): string | undefined {
  const found = Object.keys(record).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : record[found];
}

function queryValue(url: URL, name: string): string | undefined {
  for (const [key, value] of url.searchParams) {
    if (key.toLowerCase() === name.toLowerCase()) return value;
  }
  return undefined;
}

/** Every way Jellyfin accepts a token, header forms first. */
function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  for (const header of ["authorization", "x-emby-authorization"]) {
    const value = headerValue(req, header);
    const token = value === undefined ? undefined : lookup(parseAuthorization(value), "Token");
    if (token !== undefined && token !== "") return token;
  }
  return headerValue(req, "x-emby-token") ?? headerValue(req, "x-mediabrowser-token") ?? queryValue(url, "ApiKey") ?? queryValue(url, "api_key");
}

function ticksMatch(c: Context, segment: FixtureSegment): boolean {
  return c.q("runtimeTicks") === String(segment.startTicks) && c.q("actualSegmentLengthTicks") === String(segment.lengthTicks);
}

function nonNegativeInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // a malformed escape simply names no item, which the handler answers with 404
  }
}

/**
 * The body, or undefined as soon as it exceeds MAX_BODY_BYTES. The rest is read and dropped, not
 * destroyed: destroying the request would close the socket before the 413 goes out.
 */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const refuse = () => {
      over = true;
      chunks.length = 0;
      resolve(undefined);
    };
    if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) refuse();
    req.on("data", (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) refuse();
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The JSON object body, or undefined after answering 400. An empty body counts as {}. */
function jsonObject(c: Context): Record<string, unknown> | undefined {
  if (c.body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(c.body.toString("utf8"));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // falls through to the 400 below: the client sent something that is not JSON
  }
  sendText(c.res, 400, "body is not a JSON object");
  return undefined;
}

function quickConnectJson(request: QuickConnectRequest): Record<string, unknown> {
  return {
    Authenticated: request.authorized,
    Secret: request.secret,
    Code: QUICK_CONNECT_CODE,
    DeviceId: request.deviceId,
    DeviceName: request.deviceName,
    AppName: request.appName,
    AppVersion: request.appVersion,
    DateAdded: request.dateAdded,
  };
}

/** Validates a /__fixture/config body; JSON null unsets a knob. Returns an error text if bad. */
function parseConfig(body: Record<string, unknown>): FixtureConfig | string {
  const out: FixtureConfig = {};
  const numberKeys = ["firstSegmentDelayMs", "segmentDelayMs", "quickConnectAutoApproveAfterPolls"] as const;
  for (const key of numberKeys) {
    const value = body[key];
    if (value === null) out[key] = undefined;
    else if (typeof value === "number" && Number.isFinite(value) && value >= 0) out[key] = value;
    else if (value !== undefined) return `${key} must be a non-negative number`;
  }
  if (body.expireToken === null || typeof body.expireToken === "boolean") out.expireToken = body.expireToken ?? undefined;
  else if (body.expireToken !== undefined) return "expireToken must be a boolean";
  const fail = body.failSegment;
  if (fail === null) out.failSegment = undefined;
  else if (typeof fail === "object" && !Array.isArray(fail)) {
    const entries = Object.entries(fail as Record<string, unknown>);
    if (!entries.every(([k, v]) => /^-?\d+$/.test(k) && typeof v === "number" && v >= 100 && v <= 599)) return "failSegment must map segment index → HTTP status";
    out.failSegment = Object.fromEntries(entries) as Record<number, number>;
  } else if (fail !== undefined) return "failSegment must be an object";
  return out;
}

function preflight(res: ServerResponse): void {
  res.writeHead(204, {
    "Access-Control-Allow-Headers": "Authorization, X-Emby-Authorization, Content-Type",
    "Access-Control-Allow-Methods": "GET, POST, DELETE",
    "Access-Control-Max-Age": "600",
  });
  res.end();
}

function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", ...headers });
  res.end(text);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(value));
}

function sendPlaylist(res: ServerResponse, lines: readonly string[]): void {
  res.writeHead(200, { "Content-Type": "application/vnd.apple.mpegurl" });
  res.end(`${lines.join("\n")}\n`);
}

async function sendFile(res: ServerResponse, file: string, contentType: string): Promise<void> {
  const { size } = await stat(file);
  res.writeHead(200, { "Content-Type": contentType, "Content-Length": String(size) });
  await pipeline(createReadStream(file), res);
}
