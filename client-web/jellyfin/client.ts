// A small typed client for the sharer's Jellyfin server: login, Quick Connect,
// browsing, PlaybackInfo, HLS URLs, playback reports, and authenticated fetches of playlists and
// segments. DOM-free (global `fetch` only). Every call returns a Result: a down server, a CORS
// refusal, a 401 or a hostile JSON body are expected outcomes, not exceptions.
//
// Hand-written rather than @jellyfin/sdk on purpose: SDK 1.0.0 has no
// dynamic-HLS helpers, which is the part we need most, and it drags axios (~58 KB minified, a
// second HTTP stack with its own abort handling) into the bundle for ~15 calls.

import { err, ok, type Result } from "../../common/result.js";
import { buildAuthorization } from "./auth-header.js";

// ---------------------------------------------------------------------------------------------
// Public types: only the fields the app reads, validated on the way in.

export type JellyfinErrorKind = "unauthorized" | "unreachable" | "http" | "timeout" | "bad_response" | "aborted";

export interface JellyfinError {
  readonly kind: JellyfinErrorKind;
  readonly status?: number;
  readonly message: string;
}

export type JellyfinResult<T> = Promise<Result<T, JellyfinError>>;

export interface PublicSystemInfo {
  readonly ServerName?: string;
  readonly Version?: string;
  readonly Id?: string;
  readonly ProductName?: string;
}

export interface JellyfinUser {
  readonly Id: string;
  readonly Name: string;
  readonly ServerId?: string;
}

export interface AuthResult {
  readonly AccessToken: string;
  readonly User: JellyfinUser;
  readonly ServerId?: string;
}

export interface QuickConnectState {
  readonly Secret: string;
  readonly Code: string;
  readonly Authenticated: boolean;
}

export interface MediaStreamInfo {
  readonly Index: number;
  /** Video, Audio, Subtitle, EmbeddedImage, Data, Lyric. */
  readonly Type: string;
  readonly Codec?: string;
  readonly Language?: string;
  readonly DisplayTitle?: string;
  readonly IsTextSubtitleStream?: boolean;
  readonly IsDefault?: boolean;
}

export interface MediaSource {
  readonly Id: string;
  readonly Container?: string;
  readonly RunTimeTicks?: number;
  readonly MediaStreams: readonly MediaStreamInfo[];
  readonly DefaultAudioStreamIndex?: number;
  readonly DefaultSubtitleStreamIndex?: number;
}

export interface JellyfinItem {
  readonly Id: string;
  readonly Name: string;
  /** BaseItemKind: Movie, Series, Season, Episode, Video, CollectionFolder, UserView, … */
  readonly Type: string;
  readonly ProductionYear?: number;
  /** 100 ns units: / 10_000_000 gives seconds. */
  readonly RunTimeTicks?: number;
  readonly IsFolder?: boolean;
  readonly ImageTags?: Readonly<Record<string, string>>;
  readonly SeriesName?: string;
  readonly SeriesId?: string;
  readonly SeasonName?: string;
  readonly SeasonId?: string;
  readonly IndexNumber?: number;
  readonly ParentIndexNumber?: number;
  readonly CollectionType?: string;
  /** Only on item details (`item(id)`). */
  readonly MediaSources?: readonly MediaSource[];
}

export interface ItemPage {
  readonly Items: readonly JellyfinItem[];
  readonly TotalRecordCount: number;
  readonly StartIndex: number;
}

export interface PlaybackInfo {
  readonly PlaySessionId: string;
  readonly MediaSources: readonly MediaSource[];
}

export interface ItemQuery {
  readonly parentId?: string;
  readonly searchTerm?: string;
  readonly includeItemTypes?: readonly string[];
  readonly recursive?: boolean;
  readonly startIndex?: number;
  readonly limit?: number;
}

export interface PlaybackInfoOptions {
  readonly mediaSourceId?: string;
  readonly audioStreamIndex?: number;
  readonly subtitleStreamIndex?: number;
  readonly maxStreamingBitrate?: number;
}

export type QualityPreset = "480p" | "720p" | "1080p";

export interface MasterUrlOptions {
  readonly itemId: string;
  readonly mediaSourceId: string;
  readonly playSessionId: string;
  readonly audioStreamIndex?: number;
  readonly subtitleStreamIndex?: number;
  /** Hls: text subtitles as a WebVTT rendition (relay mode). Encode: burned in. */
  readonly subtitleMethod: "Hls" | "Encode";
  readonly preset: QualityPreset;
}

export interface PlaybackReport {
  readonly itemId: string;
  readonly mediaSourceId: string;
  readonly playSessionId: string;
  readonly positionTicks: number;
  readonly isPaused?: boolean;
}

export interface MediaBytes {
  readonly bytes: ArrayBuffer;
  readonly contentType: string;
}

export interface JellyfinClientOptions {
  /** Base URL, possibly with a path prefix (https://host/jellyfin). */
  readonly serverUrl: string;
  readonly deviceId: string;
  readonly token?: string;
  readonly userId?: string;
  readonly fetch?: typeof fetch;
  /** Per call, including reading the body. */
  readonly timeoutMs?: number;
  /** Shown in Jellyfin's device list. */
  readonly deviceName?: string;
}

// ---------------------------------------------------------------------------------------------
// Constants

const APP_NAME = "meshmeet";
const APP_VERSION = "0.1.0";
const DEFAULT_TIMEOUT_MS = 20_000;
/** Browse answers are a few hundred KB at most; more means a broken or hostile server. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** A 4 s 1080p segment at 6 Mbps is ~3 MB; leave room for high-bitrate stream copies. */
const MAX_MEDIA_BYTES = 64 * 1024 * 1024;

/** The quality presets a sharer picks from. */
const PRESETS: Readonly<Record<QualityPreset, { maxWidth: number; videoBitRate: number }>> = {
  "480p": { maxWidth: 854, videoBitRate: 1_500_000 },
  "720p": { maxWidth: 1280, videoBitRate: 3_000_000 },
  "1080p": { maxWidth: 1920, videoBitRate: 6_000_000 },
};

/**
 * Asks for H.264 + AAC in fMP4 HLS and nothing else: relay mode feeds the segments to MSE in
 * every viewer's browser, so one universally decodable format beats direct play of the original.
 */
function deviceProfile(maxStreamingBitrate: number): Record<string, unknown> {
  return {
    Name: APP_NAME,
    MaxStreamingBitrate: maxStreamingBitrate,
    MaxStaticBitrate: maxStreamingBitrate,
    MusicStreamingTranscodingBitrate: 192_000,
    DirectPlayProfiles: [],
    TranscodingProfiles: [
      {
        Type: "Video",
        Container: "mp4",
        Protocol: "hls",
        Context: "Streaming",
        VideoCodec: "h264",
        AudioCodec: "aac",
        MaxAudioChannels: "2",
        MinSegments: 1,
        BreakOnNonKeyFrames: true,
      },
    ],
    ContainerProfiles: [],
    CodecProfiles: [
      {
        Type: "Video",
        Codec: "h264",
        Conditions: [
          { Condition: "EqualsAny", Property: "VideoProfile", Value: "high|main|baseline|constrained baseline", IsRequired: false },
          { Condition: "LessThanEqual", Property: "VideoLevel", Value: "52", IsRequired: false },
        ],
      },
    ],
    SubtitleProfiles: [
      { Format: "vtt", Method: "Hls" },
      { Format: "vtt", Method: "External" },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// The client

type QueryValue = string | number | boolean | undefined;
type Query = Readonly<Record<string, QueryValue>>;

interface Call {
  readonly method: "GET" | "POST" | "DELETE";
  readonly path: string;
  readonly query?: Query;
  readonly body?: unknown;
  readonly signal?: AbortSignal | undefined;
  /** What a 401 means for this call, in words for the user. */
  readonly unauthorized?: string;
}

const SESSION_INVALID = "The Jellyfin login is no longer valid. Log in again.";

export class JellyfinClient {
  private readonly base: string;
  private readonly origin: string;
  private readonly deviceId: string;
  private readonly deviceName: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private currentToken: string | undefined;
  private currentUserId: string | undefined;

  /** Throws TypeError for a server URL that is not http(s): check input with `normalizeServerUrl`. */
  constructor(options: JellyfinClientOptions) {
    const base = normalizeServerUrl(options.serverUrl);
    if (base === undefined) throw new TypeError(`not an http(s) server URL: ${JSON.stringify(options.serverUrl)}`);
    this.base = base;
    this.origin = new URL(base).origin;
    this.deviceId = options.deviceId;
    this.deviceName = options.deviceName ?? APP_NAME;
    const f = options.fetch ?? globalThis.fetch;
    // Called unbound, the browser's fetch throws "Illegal invocation".
    this.fetchFn = (input, init) => f(input, init);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.currentToken = options.token;
    this.currentUserId = options.userId;
  }

  get token(): string | undefined {
    return this.currentToken;
  }

  get userId(): string | undefined {
    return this.currentUserId;
  }

  get serverUrl(): string {
    return this.base;
  }

  /** Token and user id once both are known (after login, or `me()` with a stored token). */
  session(): { readonly token: string; readonly userId: string } | undefined {
    const { currentToken: token, currentUserId: userId } = this;
    return token === undefined || userId === undefined ? undefined : { token, userId };
  }

  // --- login ---------------------------------------------------------------------------------

  publicInfo(signal?: AbortSignal): JellyfinResult<PublicSystemInfo> {
    return this.json({ method: "GET", path: "/System/Info/Public", signal }, decodePublicInfo);
  }

  async login(username: string, password: string, signal?: AbortSignal): JellyfinResult<AuthResult> {
    const body = { Username: username, Pw: password };
    const call: Call = { method: "POST", path: "/Users/AuthenticateByName", body, signal, unauthorized: "Wrong user name or password." };
    return this.keepSession(await this.json(call, decodeAuth));
  }

  quickConnectEnabled(signal?: AbortSignal): JellyfinResult<boolean> {
    return this.json({ method: "GET", path: "/QuickConnect/Enabled", signal }, decodeBoolean);
  }

  /** Starts a request; show `Code` to the user, who approves it in another Jellyfin client. */
  quickConnectInitiate(signal?: AbortSignal): JellyfinResult<QuickConnectState> {
    const unauthorized = "Quick Connect is turned off on this Jellyfin server.";
    return this.json({ method: "POST", path: "/QuickConnect/Initiate", signal, unauthorized }, decodeQuickConnect);
  }

  quickConnectPoll(secret: string, signal?: AbortSignal): JellyfinResult<QuickConnectState> {
    return this.json({ method: "GET", path: "/QuickConnect/Connect", query: { secret }, signal }, decodeQuickConnect);
  }

  /** Call once a poll reports `Authenticated`; keeps the token and user id like `login`. */
  async quickConnectAuthenticate(secret: string, signal?: AbortSignal): JellyfinResult<AuthResult> {
    const unauthorized = "The Quick Connect code was not approved (yet), or it expired.";
    const call: Call = { method: "POST", path: "/Users/AuthenticateWithQuickConnect", body: { Secret: secret }, signal, unauthorized };
    return this.keepSession(await this.json(call, decodeAuth));
  }

  /** Checks the token; learns the user id when the client was built with a token only. */
  async me(signal?: AbortSignal): JellyfinResult<JellyfinUser> {
    const result = await this.json({ method: "GET", path: "/Users/Me", signal }, decodeUser);
    if (result.ok) this.currentUserId ??= result.value.Id;
    return result;
  }

  // --- browsing ------------------------------------------------------------------------------

  /** The user's libraries (Movies, Shows, …). */
  async views(signal?: AbortSignal): JellyfinResult<readonly JellyfinItem[]> {
    return onlyItems(await this.json({ method: "GET", path: "/UserViews", query: { userId: this.currentUserId }, signal }, decodePage));
  }

  /** One page of items; see `itemPage` for the total count. */
  async items(query: ItemQuery, signal?: AbortSignal): JellyfinResult<readonly JellyfinItem[]> {
    return onlyItems(await this.itemPage(query, signal));
  }

  /** `items` with paging information, for "more" buttons. */
  itemPage(query: ItemQuery, signal?: AbortSignal): JellyfinResult<ItemPage> {
    const isSearch = query.searchTerm !== undefined;
    const params: Query = {
      userId: this.currentUserId,
      parentId: query.parentId,
      searchTerm: query.searchTerm,
      includeItemTypes: query.includeItemTypes?.join(","),
      recursive: query.recursive,
      startIndex: query.startIndex,
      limit: query.limit,
      // A search keeps the server's relevance order; a listing reads best alphabetically.
      sortBy: isSearch ? undefined : "SortName",
      fields: "PrimaryImageAspectRatio,ProductionYear",
    };
    return this.json({ method: "GET", path: "/Items", query: params, signal }, decodePage);
  }

  item(itemId: string, signal?: AbortSignal): JellyfinResult<JellyfinItem> {
    const path = `/Items/${encodeURIComponent(itemId)}`;
    return this.json({ method: "GET", path, query: { userId: this.currentUserId }, signal }, (v) => decodeItem(v, "item"));
  }

  async seasons(seriesId: string, signal?: AbortSignal): JellyfinResult<readonly JellyfinItem[]> {
    const path = `/Shows/${encodeURIComponent(seriesId)}/Seasons`;
    return onlyItems(await this.json({ method: "GET", path, query: { userId: this.currentUserId }, signal }, decodePage));
  }

  async episodes(seriesId: string, seasonId: string, signal?: AbortSignal): JellyfinResult<readonly JellyfinItem[]> {
    const path = `/Shows/${encodeURIComponent(seriesId)}/Episodes`;
    return onlyItems(await this.json({ method: "GET", path, query: { seasonId, userId: this.currentUserId }, signal }, decodePage));
  }

  /** Poster URL. Jellyfin serves images without auth, so the URL carries no token. */
  imageUrl(itemId: string, size: { width: number; height: number }): string {
    const query = { fillWidth: Math.round(size.width), fillHeight: Math.round(size.height), quality: 90 };
    return this.url(`/Items/${encodeURIComponent(itemId)}/Images/Primary`, query);
  }

  // --- playback ------------------------------------------------------------------------------

  /** Opens a playback session; keep `PlaySessionId` and the chosen `MediaSources[i].Id`. */
  async playbackInfo(itemId: string, options: PlaybackInfoOptions = {}, signal?: AbortSignal): JellyfinResult<PlaybackInfo> {
    const maxStreamingBitrate = options.maxStreamingBitrate ?? 120_000_000;
    const query: Query = {
      userId: this.currentUserId,
      mediaSourceId: options.mediaSourceId,
      audioStreamIndex: options.audioStreamIndex,
      subtitleStreamIndex: options.subtitleStreamIndex,
      maxStreamingBitrate,
      autoOpenLiveStream: true,
    };
    const body = {
      UserId: this.currentUserId,
      MediaSourceId: options.mediaSourceId,
      AudioStreamIndex: options.audioStreamIndex,
      SubtitleStreamIndex: options.subtitleStreamIndex,
      MaxStreamingBitrate: maxStreamingBitrate,
      AutoOpenLiveStream: true,
      EnableTranscoding: true,
      DeviceProfile: deviceProfile(maxStreamingBitrate),
    };
    const path = `/Items/${encodeURIComponent(itemId)}/PlaybackInfo`;
    const result = await this.json({ method: "POST", path, query, body, signal }, decodePlaybackInfo);
    if (!result.ok) return result;
    const { PlaySessionId, ErrorCode, MediaSources } = result.value;
    if (PlaySessionId === undefined) {
      const why = ErrorCode ?? "no PlaySessionId in the answer";
      return err({ kind: ErrorCode === undefined ? "bad_response" : "http", message: `Jellyfin will not play this item (${why}).` });
    }
    return ok({ PlaySessionId, MediaSources });
  }

  /**
   * The HLS master playlist URL, built by hand rather than taken from
   * `TranscodingUrl`, whose shape is not a documented contract. The token rides as `ApiKey` so
   * the relative child URIs inherit it, and `fetchMedia` then needs no header (no preflight).
   */
  masterUrl(options: MasterUrlOptions): string {
    const preset = PRESETS[options.preset];
    const query: Query = {
      mediaSourceId: options.mediaSourceId,
      deviceId: this.deviceId,
      playSessionId: options.playSessionId,
      videoCodec: "h264",
      audioCodec: "aac",
      segmentContainer: "mp4",
      segmentLength: 4,
      minSegments: 1,
      breakOnNonKeyFrames: true,
      allowVideoStreamCopy: true,
      allowAudioStreamCopy: true,
      // `url()` drops only undefined, so stream index 0 survives (togetherfin lost it).
      audioStreamIndex: options.audioStreamIndex,
      subtitleStreamIndex: options.subtitleStreamIndex,
      subtitleMethod: options.subtitleMethod,
      maxWidth: preset.maxWidth,
      videoBitRate: preset.videoBitRate,
      audioBitRate: 192_000,
      transcodingMaxAudioChannels: 2,
      ApiKey: this.currentToken,
    };
    return this.url(`/Videos/${encodeURIComponent(options.itemId)}/master.m3u8`, query);
  }

  reportPlaying(report: PlaybackReport, signal?: AbortSignal): JellyfinResult<void> {
    return this.empty({ method: "POST", path: "/Sessions/Playing", body: reportBody(report), signal });
  }

  reportProgress(report: PlaybackReport, signal?: AbortSignal): JellyfinResult<void> {
    return this.empty({ method: "POST", path: "/Sessions/Playing/Progress", body: reportBody(report), signal });
  }

  reportStopped(report: PlaybackReport, signal?: AbortSignal): JellyfinResult<void> {
    return this.empty({ method: "POST", path: "/Sessions/Playing/Stopped", body: reportBody(report), signal });
  }

  /** Ends the server's transcode for this session (share ended or item changed). */
  stopEncoding(playSessionId: string, signal?: AbortSignal): JellyfinResult<void> {
    const query = { deviceId: this.deviceId, playSessionId };
    return this.empty({ method: "DELETE", path: "/Videos/ActiveEncodings", query, signal });
  }

  /**
   * GETs a playlist, segment or subtitle file with the Authorization header. `url` may be
   * relative to the server URL. Refuses any other origin: playlist URIs come from the server,
   * and a hostile one must not be able to send our token elsewhere.
   */
  async fetchMedia(url: string, signal?: AbortSignal): JellyfinResult<MediaBytes> {
    let target: URL;
    try {
      target = new URL(url, `${this.base}/`);
    } catch {
      return err({ kind: "bad_response", message: `Not a valid media URL: ${JSON.stringify(url.slice(0, 200))}.` });
    }
    if (target.origin !== this.origin) {
      return err({ kind: "bad_response", message: `Refusing to send the Jellyfin token to ${target.origin}: it is not the Jellyfin server.` });
    }
    const what = `GET ${target.pathname}`;
    // A URL that carries the token (the HLS URLs do) goes without headers: a plain GET needs no
    // CORS preflight, and with one per segment URL every segment would cost a second round trip.
    const carriesToken = [...target.searchParams.keys()].some((key) => key.toLowerCase() === "apikey" || key.toLowerCase() === "api_key");
    const init: RequestInit = carriesToken ? { method: "GET" } : { method: "GET", headers: this.headers(false) };
    return this.exchange(target.href, init, signal, async (res) => {
      const failed = await statusError(res, what, SESSION_INVALID);
      if (failed) return err(failed);
      const bytes = await readLimited(res, MAX_MEDIA_BYTES);
      return ok({ bytes: bytes.buffer, contentType: res.headers.get("content-type") ?? "" });
    });
  }

  // --- plumbing ------------------------------------------------------------------------------

  private keepSession(result: Result<AuthResult, JellyfinError>): Result<AuthResult, JellyfinError> {
    if (result.ok) {
      this.currentToken = result.value.AccessToken;
      this.currentUserId = result.value.User.Id;
    }
    return result;
  }

  private url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    const search = params.toString();
    return `${this.base}${path}${search === "" ? "" : `?${search}`}`;
  }

  private headers(hasJsonBody: boolean): Record<string, string> {
    const authorization = buildAuthorization({
      client: APP_NAME,
      device: this.deviceName,
      deviceId: this.deviceId,
      version: APP_VERSION,
      token: this.currentToken,
    });
    return hasJsonBody ? { Authorization: authorization, "Content-Type": "application/json" } : { Authorization: authorization };
  }

  /** A call whose answer is JSON, decoded by `decode` (which throws ShapeError on a bad shape). */
  private json<T>(call: Call, decode: (value: unknown) => T): JellyfinResult<T> {
    return this.request(call, async (res) => decode(await readJson(res)));
  }

  /** A call whose answer body does not matter (Jellyfin sends 204). */
  private empty(call: Call): JellyfinResult<void> {
    return this.request(call, async (res) => {
      await discard(res);
    });
  }

  private request<T>(call: Call, read: (res: Response) => Promise<T>): JellyfinResult<T> {
    const hasBody = call.body !== undefined;
    const init: RequestInit = { method: call.method, headers: this.headers(hasBody) };
    if (hasBody) init.body = JSON.stringify(call.body);
    const what = `${call.method} ${call.path}`;
    return this.exchange(this.url(call.path, call.query), init, call.signal, async (res) => {
      const failed = await statusError(res, what, call.unauthorized ?? SESSION_INVALID);
      return failed ? err(failed) : ok(await read(res));
    });
  }

  /** fetch + `handle` under one deadline and the caller's signal; every throw becomes an error. */
  private async exchange<T>(
    url: string,
    init: RequestInit,
    signal: AbortSignal | undefined,
    handle: (res: Response) => Promise<Result<T, JellyfinError>>,
  ): JellyfinResult<T> {
    if (signal?.aborted) return err(ABORTED);
    const guard = new CallGuard(signal, this.timeoutMs);
    let answered = false;
    try {
      const res = await this.fetchFn(url, { ...init, signal: guard.signal });
      answered = true;
      return await handle(res);
    } catch (cause) {
      return err(this.classify(cause, guard, answered));
    } finally {
      guard.dispose();
    }
  }

  private classify(cause: unknown, guard: CallGuard, answered: boolean): JellyfinError {
    if (cause instanceof ShapeError) return { kind: "bad_response", message: `Unexpected answer from the Jellyfin server: ${cause.message}.` };
    if (guard.timedOut) return { kind: "timeout", message: `The Jellyfin server did not answer within ${Math.round(this.timeoutMs / 1000)} s.` };
    if (guard.signal.aborted) return ABORTED;
    if (answered) return { kind: "unreachable", message: "The connection to the Jellyfin server broke while reading its answer." };
    // fetch rejects with the same bare TypeError for "nothing listens", DNS failures, TLS errors,
    // mixed content and a CORS refusal: the page is not allowed to tell them apart.
    return { kind: "unreachable", message: unreachableMessage(this.origin) };
  }
}

/** Trims, requires http(s), drops trailing slashes, query and fragment; undefined if unusable. */
export function normalizeServerUrl(input: string): string | undefined {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.username !== "" || url.password !== "") return undefined;
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function unreachableMessage(origin: string): string {
  return (
    `Cannot reach the Jellyfin server at ${origin}. Either it is down or not reachable from this browser, ` +
    `or it refused this page's cross-origin request (CORS); the browser does not say which. ` +
    `If the server is up, fix CORS: the Jellyfin server or its reverse proxy must send ` +
    `Access-Control-Allow-Origin for this meshmeet site's origin and allow the Authorization header ` +
    `(Access-Control-Allow-Headers: Authorization). An https page also cannot call an http:// server.`
  );
}

function onlyItems(page: Result<ItemPage, JellyfinError>): Result<readonly JellyfinItem[], JellyfinError> {
  return page.ok ? ok(page.value.Items) : page;
}

const ABORTED: JellyfinError = { kind: "aborted", message: "The request to Jellyfin was cancelled." };

function reportBody(report: PlaybackReport): Record<string, unknown> {
  return {
    ItemId: report.itemId,
    MediaSourceId: report.mediaSourceId,
    PlaySessionId: report.playSessionId,
    PositionTicks: Math.round(report.positionTicks),
    IsPaused: report.isPaused ?? false,
    CanSeek: true,
    PlayMethod: "Transcode",
  };
}

/** One deadline plus the caller's signal, merged into one signal for fetch. */
class CallGuard {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly onOuterAbort = (): void => this.controller.abort();
  timedOut = false;

  constructor(
    private readonly outer: AbortSignal | undefined,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, timeoutMs);
    outer?.addEventListener("abort", this.onOuterAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener("abort", this.onOuterAbort);
  }
}

async function statusError(res: Response, what: string, unauthorized: string): Promise<JellyfinError | undefined> {
  if (res.ok) return undefined;
  await discard(res);
  if (res.status === 401) return { kind: "unauthorized", status: 401, message: unauthorized };
  return { kind: "http", status: res.status, message: `The Jellyfin server answered HTTP ${res.status} to ${what}.` };
}

async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // Only frees the connection early; the answer is already decided, so a failure changes nothing.
  }
}

async function readLimited(res: Response, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await discard(res);
    throw new ShapeError(`the answer is larger than ${maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  for (;;) {
    const next = await reader?.read();
    if (next === undefined || next.done) break;
    total += next.value.byteLength;
    if (total > maxBytes) {
      await reader?.cancel();
      throw new ShapeError(`the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(next.value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

async function readJson(res: Response): Promise<unknown> {
  const text = new TextDecoder().decode(await readLimited(res, MAX_JSON_BYTES));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ShapeError(`the answer is not JSON (${JSON.stringify(text.slice(0, 60))})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoders: untrusted JSON → the narrow types above. They throw ShapeError, which `exchange`
// turns into a bad_response error; nothing past them sees unchecked data. JSON null counts as
// absent, as Jellyfin sends null for many unset fields.

class ShapeError extends Error {}

type Json = Readonly<Record<string, unknown>>;

function asObject(value: unknown, at: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ShapeError(`${at} is not an object`);
  return value as Json;
}

function present(o: Json, key: string): unknown {
  const value = Object.hasOwn(o, key) ? o[key] : undefined;
  return value === null ? undefined : value;
}

function optString(o: Json, key: string, at: string): string | undefined {
  const value = present(o, key);
  if (value !== undefined && typeof value !== "string") throw new ShapeError(`${at}.${key} is not a string`);
  return value;
}

function reqString(o: Json, key: string, at: string): string {
  const value = optString(o, key, at);
  if (value === undefined) throw new ShapeError(`${at}.${key} is missing`);
  return value;
}

function optNumber(o: Json, key: string, at: string): number | undefined {
  const value = present(o, key);
  if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value))) throw new ShapeError(`${at}.${key} is not a number`);
  return value;
}

function reqInteger(o: Json, key: string, at: string): number {
  const value = optNumber(o, key, at);
  if (value === undefined || !Number.isSafeInteger(value)) throw new ShapeError(`${at}.${key} is not an integer`);
  return value;
}

function optBoolean(o: Json, key: string, at: string): boolean | undefined {
  const value = present(o, key);
  if (value !== undefined && typeof value !== "boolean") throw new ShapeError(`${at}.${key} is not a boolean`);
  return value;
}

function optList<T>(o: Json, key: string, at: string, decode: (value: unknown, at: string) => T): T[] | undefined {
  const value = present(o, key);
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new ShapeError(`${at}.${key} is not a list`);
  return value.map((entry: unknown, i) => decode(entry, `${at}.${key}[${i}]`));
}

function optStringMap(o: Json, key: string, at: string): Record<string, string> | undefined {
  const value = present(o, key);
  if (value === undefined) return undefined;
  const entries = Object.entries(asObject(value, `${at}.${key}`));
  for (const [name, tag] of entries) {
    if (typeof tag !== "string") throw new ShapeError(`${at}.${key}.${name} is not a string`);
  }
  // fromEntries defines own properties, so a "__proto__" key cannot reach the prototype.
  return Object.fromEntries(entries) as Record<string, string>;
}

function decodeBoolean(value: unknown): boolean {
  if (typeof value !== "boolean") throw new ShapeError("the answer is not true or false");
  return value;
}

function decodePublicInfo(value: unknown): PublicSystemInfo {
  const o = asObject(value, "info");
  return {
    ServerName: optString(o, "ServerName", "info"),
    Version: optString(o, "Version", "info"),
    Id: optString(o, "Id", "info"),
    ProductName: optString(o, "ProductName", "info"),
  };
}

function decodeUser(value: unknown, at = "user"): JellyfinUser {
  const o = asObject(value, at);
  return { Id: reqString(o, "Id", at), Name: optString(o, "Name", at) ?? "", ServerId: optString(o, "ServerId", at) };
}

function decodeAuth(value: unknown): AuthResult {
  const o = asObject(value, "login");
  const user = present(o, "User");
  if (user === undefined) throw new ShapeError("login.User is missing");
  return { AccessToken: reqString(o, "AccessToken", "login"), User: decodeUser(user, "login.User"), ServerId: optString(o, "ServerId", "login") };
}

function decodeQuickConnect(value: unknown): QuickConnectState {
  const o = asObject(value, "quickConnect");
  return {
    Secret: reqString(o, "Secret", "quickConnect"),
    Code: reqString(o, "Code", "quickConnect"),
    Authenticated: optBoolean(o, "Authenticated", "quickConnect") ?? false,
  };
}

function decodeStream(value: unknown, at: string): MediaStreamInfo {
  const o = asObject(value, at);
  return {
    Index: reqInteger(o, "Index", at),
    Type: reqString(o, "Type", at),
    Codec: optString(o, "Codec", at),
    Language: optString(o, "Language", at),
    DisplayTitle: optString(o, "DisplayTitle", at),
    IsTextSubtitleStream: optBoolean(o, "IsTextSubtitleStream", at),
    IsDefault: optBoolean(o, "IsDefault", at),
  };
}

function decodeSource(value: unknown, at: string): MediaSource {
  const o = asObject(value, at);
  return {
    Id: reqString(o, "Id", at),
    Container: optString(o, "Container", at),
    RunTimeTicks: optNumber(o, "RunTimeTicks", at),
    MediaStreams: optList(o, "MediaStreams", at, decodeStream) ?? [],
    DefaultAudioStreamIndex: optNumber(o, "DefaultAudioStreamIndex", at),
    DefaultSubtitleStreamIndex: optNumber(o, "DefaultSubtitleStreamIndex", at),
  };
}

function decodeItem(value: unknown, at: string): JellyfinItem {
  const o = asObject(value, at);
  return {
    Id: reqString(o, "Id", at),
    Name: optString(o, "Name", at) ?? "",
    Type: reqString(o, "Type", at),
    ProductionYear: optNumber(o, "ProductionYear", at),
    RunTimeTicks: optNumber(o, "RunTimeTicks", at),
    IsFolder: optBoolean(o, "IsFolder", at),
    ImageTags: optStringMap(o, "ImageTags", at),
    SeriesName: optString(o, "SeriesName", at),
    SeriesId: optString(o, "SeriesId", at),
    SeasonName: optString(o, "SeasonName", at),
    SeasonId: optString(o, "SeasonId", at),
    IndexNumber: optNumber(o, "IndexNumber", at),
    ParentIndexNumber: optNumber(o, "ParentIndexNumber", at),
    CollectionType: optString(o, "CollectionType", at),
    MediaSources: optList(o, "MediaSources", at, decodeSource),
  };
}

function decodePage(value: unknown): ItemPage {
  const o = asObject(value, "page");
  const items = optList(o, "Items", "page", decodeItem) ?? [];
  return {
    Items: items,
    TotalRecordCount: optNumber(o, "TotalRecordCount", "page") ?? items.length,
    StartIndex: optNumber(o, "StartIndex", "page") ?? 0,
  };
}

interface RawPlaybackInfo {
  readonly PlaySessionId: string | undefined;
  readonly ErrorCode: string | undefined;
  readonly MediaSources: MediaSource[];
}

function decodePlaybackInfo(value: unknown): RawPlaybackInfo {
  const o = asObject(value, "playbackInfo");
  return {
    PlaySessionId: optString(o, "PlaySessionId", "playbackInfo"),
    ErrorCode: optString(o, "ErrorCode", "playbackInfo"),
    MediaSources: optList(o, "MediaSources", "playbackInfo", decodeSource) ?? [],
  };
}
