// Rewrites the sharer's Jellyfin HLS playlists for peers. Every
// URI is resolved against its playlist's URL and replaced by whatever opaque string `mint`
// returns (`jfp2p://<share>/<n>`), and only the structural tags hls.js needs survive, rebuilt
// from validated values: comments, unknown tags and attributes are dropped, so no server
// host, path, token or item id can reach a peer through a playlist.
//
// Kept: EXTM3U, EXT-X-VERSION, EXT-X-TARGETDURATION, EXT-X-MEDIA-SEQUENCE, EXT-X-PLAYLIST-TYPE,
// EXT-X-MAP (URI only), EXTINF (duration only), EXT-X-ENDLIST, EXT-X-INDEPENDENT-SEGMENTS,
// EXT-X-STREAM-INF (BANDWIDTH, AVERAGE-BANDWIDTH, CODECS, RESOLUTION, FRAME-RATE, SUBTITLES),
// EXT-X-MEDIA (TYPE=SUBTITLES only: GROUP-ID, NAME, LANGUAGE, DEFAULT, AUTOSELECT, FORCED, URI).
//
// Error messages carry a line number and never playlist text: they are shown to viewers.

import { err, ok, type Result } from "../result.js";
import { attributeMap, parseAttributeList, serializeAttributeList, type Attribute } from "./attribute-list.js";
import { MAX_OPAQUE_URL_CHARS } from "./json-message.js";

export type UriKind = "variant" | "init" | "segment" | "subtitles" | "subtitle-segment";

/** Which playlist is being rewritten: it decides the kind of its URIs and which tags belong. */
export type PlaylistKind = "master" | "media" | "subtitles";

export type MintUrl = (absoluteUrl: string, kind: UriKind) => string;

export interface RewriteOptions {
  /** Default: "master" if the text has EXT-X-STREAM-INF or EXT-X-MEDIA, else "media". */
  readonly kind?: PlaylistKind;
}

export interface TimelineSegment {
  readonly opaque: string;
  readonly startS: number;
  readonly durS: number;
}

export interface RewrittenPlaylist {
  readonly kind: PlaylistKind;
  readonly text: string;
  /** Media and subtitle playlists: every segment with its start (sum of earlier EXTINFs). */
  readonly segments: readonly TimelineSegment[];
  /** URIs rewritten (segment lines, variant lines, MAP and MEDIA URIs). */
  readonly uriCount: number;
  /** Sum of EXTINF durations (0 for a master). */
  readonly durationS: number;
}

export type PlaylistErrorCode =
  | "not_m3u" // does not start with #EXTM3U
  | "too_large" // over MAX_PLAYLIST_BYTES
  | "too_many_uris" // over MAX_PLAYLIST_URIS
  | "bad_attributes" // an attribute list that does not parse, or a kept attribute with a bad value
  | "bad_tag" // a kept tag with a malformed value
  | "uri_without_extinf" // a media/subtitle playlist URI line with no EXTINF before it
  | "uri_without_stream_inf" // a master playlist URI line with no EXT-X-STREAM-INF before it
  | "dangling_tag" // EXTINF or EXT-X-STREAM-INF with no URI line after it
  | "wrong_kind" // a master tag in a media playlist or the other way round
  | "bad_uri" // a URI that does not resolve against the playlist URL
  | "foreign_uri" // a URI on another origin than the playlist (our token would be sent there)
  | "unsupported" // byte ranges or encryption: dropping them would break playback silently
  | "bad_mint"; // `mint` returned something that cannot go into a playlist

export interface PlaylistError {
  readonly code: PlaylistErrorCode;
  /** 1-based; 0 when not about one line. */
  readonly line: number;
  readonly message: string;
}

/**
 * Largest playlist accepted. Jellyfin lists the whole runtime up front and each segment URI
 * echoes every transcoding parameter (device id, codecs, session, token …): about 500–900
 * bytes if it echoes our master playlist query (estimated; whether Jellyfin echoes it is unverified).
 * A 3-hour film at 4 s segments is 2 700 segments, ~2.5 MB, so 1 MiB would refuse films
 * longer than about two hours. 16 MiB leaves room for
 * MAX_PLAYLIST_URIS such lines while still refusing a runaway response. (The rewritten output
 * is ~80 bytes per segment.)
 */
export const MAX_PLAYLIST_BYTES = 16 * 1024 * 1024;

/** 20 000 segments of 4 s is 22 hours: more than any film or episode. */
export const MAX_PLAYLIST_URIS = 20_000;

/** EXT-X-STREAM-INF attributes passed on, in the order they are written. */
const STREAM_INF_KEEP = ["BANDWIDTH", "AVERAGE-BANDWIDTH", "CODECS", "RESOLUTION", "FRAME-RATE", "SUBTITLES"] as const;
/** EXT-X-MEDIA (TYPE=SUBTITLES) attributes passed on besides URI. */
const MEDIA_KEEP = ["TYPE", "GROUP-ID", "NAME", "LANGUAGE", "DEFAULT", "AUTOSELECT", "FORCED"] as const;
/** RFC 8216 requires these; without a valid one the tag is useless, so it is an error. */
const STREAM_INF_REQUIRED: ReadonlySet<string> = new Set(["BANDWIDTH"]);
const MEDIA_REQUIRED: ReadonlySet<string> = new Set(["TYPE", "GROUP-ID", "NAME"]);

/** A group id or track name: printable, bounded (the quotes and line breaks are already out). */
const LABEL = /^[^\x00-\x1f\x7f]{1,128}$/u;

/**
 * What each kept attribute may hold. A value outside it is never passed through: a required
 * attribute makes it an error, an optional one is dropped (hls.js copes without CODECS or
 * LANGUAGE, and a share should not fail over a label).
 */
const ATTRIBUTE_VALUES: { readonly [name: string]: RegExp } = {
  BANDWIDTH: /^\d{1,12}$/,
  "AVERAGE-BANDWIDTH": /^\d{1,12}$/,
  // RFC 6381 codec ids ("avc1.4d400c,mp4a.40.2"): letters, digits, dots; eight is plenty.
  CODECS: /^[A-Za-z0-9.+-]{1,64}(?:, ?[A-Za-z0-9.+-]{1,64}){0,7}$/,
  RESOLUTION: /^\d{1,5}x\d{1,5}$/,
  "FRAME-RATE": /^\d{1,4}(?:\.\d{1,6})?$/,
  SUBTITLES: LABEL,
  TYPE: /^SUBTITLES$/,
  "GROUP-ID": LABEL,
  NAME: LABEL,
  // BCP 47 tags ("en", "eng", "pt-BR"); the longest registered forms stay under 35 characters.
  LANGUAGE: /^[A-Za-z0-9-]{1,35}$/,
  DEFAULT: /^(?:YES|NO)$/,
  AUTOSELECT: /^(?:YES|NO)$/,
  FORCED: /^(?:YES|NO)$/,
};

const INTEGER = /^\d{1,15}$/;
/** EXT-X-TARGETDURATION is an integer, but some servers write "4.0"; we round up. */
const DURATION = /^\d{1,7}(?:\.\d{1,9})?$/;
/** `#EXTINF:<duration>,[<title>]`; the comma is optional in older playlists. */
const EXTINF = /^(\d{1,7}(?:\.\d{1,9})?)(?:,.*)?$/s;
/** Opaque strings go on URI lines and in quoted attributes: printable ASCII, no space or '"'. */
const OPAQUE = /^[\x21\x23-\x7e]+$/;

const MASTER_TAGS: ReadonlySet<string> = new Set(["#EXT-X-STREAM-INF", "#EXT-X-MEDIA", "#EXT-X-I-FRAME-STREAM-INF", "#EXT-X-SESSION-DATA", "#EXT-X-SESSION-KEY"]);
const MEDIA_TAGS: ReadonlySet<string> = new Set([
  "#EXTINF",
  "#EXT-X-TARGETDURATION",
  "#EXT-X-MEDIA-SEQUENCE",
  "#EXT-X-PLAYLIST-TYPE",
  "#EXT-X-MAP",
  "#EXT-X-ENDLIST",
  "#EXT-X-BYTERANGE",
  "#EXT-X-KEY",
  "#EXT-X-DISCONTINUITY",
  "#EXT-X-PROGRAM-DATE-TIME",
]);

function fail(code: PlaylistErrorCode, line: number, message: string): { readonly ok: false; readonly error: PlaylistError } {
  return err({ code, line, message });
}

function detectKind(lines: readonly string[]): PlaylistKind {
  return lines.some((line) => line.startsWith("#EXT-X-STREAM-INF") || line.startsWith("#EXT-X-MEDIA:")) ? "master" : "media";
}

/** The UTF-8 size of `text` if it is within `limit`; each UTF-16 unit is at least one byte. */
function withinBytes(text: string, limit: number): boolean {
  return text.length <= limit && new TextEncoder().encode(text).byteLength <= limit;
}

export function rewritePlaylist(text: string, playlistUrl: string, mint: MintUrl, options: RewriteOptions = {}): Result<RewrittenPlaylist, PlaylistError> {
  if (!withinBytes(text, MAX_PLAYLIST_BYTES)) return fail("too_large", 0, `playlist over ${MAX_PLAYLIST_BYTES} bytes`);
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== "#EXTM3U") return fail("not_m3u", 1, "playlist does not start with #EXTM3U");
  let base: URL;
  try {
    base = new URL(playlistUrl);
  } catch {
    return fail("bad_uri", 0, "the playlist URL is not a URL");
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") return fail("bad_uri", 0, "the playlist URL must be http or https");
  return new Rewriter(base, mint, options.kind ?? detectKind(lines)).run(lines);
}

type Step = Result<void, PlaylistError>;
const DONE: Step = ok(undefined);

/** One pass over the lines; state is what the previous tags promised for the next URI line. */
class Rewriter {
  private readonly out: string[] = ["#EXTM3U"];
  private readonly segments: TimelineSegment[] = [];
  private uriCount = 0;
  private durationS = 0;
  /** EXTINF duration waiting for its URI line. */
  private pendingDuration: number | undefined;
  /** Line of the EXTINF or STREAM-INF waiting for its URI line. */
  private pendingLine = 0;
  private pendingVariant = false;
  private line = 0;

  constructor(
    private readonly base: URL,
    private readonly mint: MintUrl,
    private readonly kind: PlaylistKind,
  ) {}

  run(lines: readonly string[]): Result<RewrittenPlaylist, PlaylistError> {
    for (let index = 1; index < lines.length; index++) {
      this.line = index + 1;
      const line = lines[index] ?? "";
      if (line === "") continue;
      const step = line.startsWith("#") ? this.tag(line) : this.uriLine(line);
      if (!step.ok) return step;
    }
    if (this.pendingDuration !== undefined || this.pendingVariant) {
      return fail("dangling_tag", this.pendingLine, "EXTINF or EXT-X-STREAM-INF without a URI line after it");
    }
    return ok({ kind: this.kind, text: `${this.out.join("\n")}\n`, segments: this.segments, uriCount: this.uriCount, durationS: this.durationS });
  }

  private tag(line: string): Step {
    if (!line.startsWith("#EXT")) return DONE; // a comment
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1);
    const isMaster = this.kind === "master";
    if ((isMaster && MEDIA_TAGS.has(name)) || (!isMaster && MASTER_TAGS.has(name))) {
      return fail("wrong_kind", this.line, `a ${isMaster ? "media" : "master"} playlist tag in a ${this.kind} playlist`);
    }
    switch (name) {
      case "#EXTM3U":
        return DONE; // a repeat; we wrote ours
      case "#EXT-X-VERSION":
      case "#EXT-X-MEDIA-SEQUENCE":
        if (!INTEGER.test(value)) return fail("bad_tag", this.line, `${name} needs an integer`);
        this.out.push(`${name}:${Number(value)}`);
        return DONE;
      case "#EXT-X-TARGETDURATION":
        if (!DURATION.test(value)) return fail("bad_tag", this.line, `${name} needs a number`);
        this.out.push(`${name}:${Math.ceil(Number(value))}`);
        return DONE;
      case "#EXT-X-PLAYLIST-TYPE":
        if (value !== "VOD" && value !== "EVENT") return fail("bad_tag", this.line, `${name} must be VOD or EVENT`);
        this.out.push(`${name}:${value}`);
        return DONE;
      case "#EXT-X-ENDLIST":
      case "#EXT-X-INDEPENDENT-SEGMENTS":
        this.out.push(name);
        return DONE;
      case "#EXTINF":
        return this.extinf(value);
      case "#EXT-X-MAP":
        return this.map(value);
      case "#EXT-X-STREAM-INF":
        return this.streamInf(value);
      case "#EXT-X-MEDIA":
        return this.media(value);
      case "#EXT-X-BYTERANGE":
        return fail("unsupported", this.line, "byte-range segments are not supported");
      case "#EXT-X-KEY":
      case "#EXT-X-SESSION-KEY":
        return this.key(value);
      default:
        return DONE; // not structural: dropped
    }
  }

  private extinf(value: string): Step {
    const match = EXTINF.exec(value);
    const duration = match?.[1];
    if (duration === undefined) return fail("bad_tag", this.line, "#EXTINF needs a duration");
    if (this.pendingDuration !== undefined) return fail("dangling_tag", this.pendingLine, "EXTINF without a URI line after it");
    this.pendingDuration = Number(duration);
    this.pendingLine = this.line;
    // The digits as the server wrote them (a number cannot carry anything else); the title goes.
    this.out.push(`#EXTINF:${duration},`);
    return DONE;
  }

  private map(value: string): Step {
    const attributes = this.attributes(value);
    if (!attributes.ok) return attributes;
    const map = attributeMap(attributes.value);
    if (map.has("BYTERANGE")) return fail("unsupported", this.line, "a byte-range EXT-X-MAP is not supported");
    const uri = map.get("URI");
    if (uri === undefined) return fail("bad_attributes", this.line, "EXT-X-MAP without URI");
    const opaque = this.rewriteUri(uri, "init");
    if (!opaque.ok) return opaque;
    return this.emit("#EXT-X-MAP", [["URI", opaque.value]]);
  }

  private streamInf(value: string): Step {
    if (this.pendingVariant) return fail("dangling_tag", this.pendingLine, "EXT-X-STREAM-INF without a URI line after it");
    const attributes = this.attributes(value);
    if (!attributes.ok) return attributes;
    const kept = this.keep(attributeMap(attributes.value), STREAM_INF_KEEP, STREAM_INF_REQUIRED);
    if (!kept.ok) return kept;
    this.pendingVariant = true;
    this.pendingLine = this.line;
    return this.emit("#EXT-X-STREAM-INF", kept.value);
  }

  private media(value: string): Step {
    const attributes = this.attributes(value);
    if (!attributes.ok) return attributes;
    const map = attributeMap(attributes.value);
    // Audio and video renditions are dropped along with STREAM-INF's AUDIO/VIDEO references:
    // Jellyfin muxes audio into the variant, and only subtitles need a separate playlist.
    if (map.get("TYPE") !== "SUBTITLES") return DONE;
    const uri = map.get("URI");
    if (uri === undefined) return fail("bad_attributes", this.line, "EXT-X-MEDIA subtitles without URI");
    const kept = this.keep(map, MEDIA_KEEP, MEDIA_REQUIRED);
    if (!kept.ok) return kept;
    const opaque = this.rewriteUri(uri, "subtitles");
    if (!opaque.ok) return opaque;
    return this.emit("#EXT-X-MEDIA", [...kept.value, ["URI", opaque.value]]);
  }

  /** METHOD=NONE says "not encrypted" and can go; real encryption would not play without its key. */
  private key(value: string): Step {
    const attributes = this.attributes(value);
    if (!attributes.ok) return attributes;
    if (attributeMap(attributes.value).get("METHOD") === "NONE") return DONE;
    return fail("unsupported", this.line, "encrypted playlists are not supported");
  }

  private uriLine(uri: string): Step {
    if (this.kind === "master") {
      if (!this.pendingVariant) return fail("uri_without_stream_inf", this.line, "a URI line without EXT-X-STREAM-INF before it");
      this.pendingVariant = false;
      const opaque = this.rewriteUri(uri, "variant");
      if (!opaque.ok) return opaque;
      this.out.push(opaque.value);
      return DONE;
    }
    const durS = this.pendingDuration;
    if (durS === undefined) return fail("uri_without_extinf", this.line, "a URI line without EXTINF before it");
    this.pendingDuration = undefined;
    const opaque = this.rewriteUri(uri, this.kind === "subtitles" ? "subtitle-segment" : "segment");
    if (!opaque.ok) return opaque;
    this.out.push(opaque.value);
    this.segments.push({ opaque: opaque.value, startS: this.durationS, durS });
    this.durationS += durS;
    return DONE;
  }

  private attributes(value: string): Result<Attribute[], PlaylistError> {
    const parsed = parseAttributeList(value);
    if (!parsed.ok) return fail("bad_attributes", this.line, `attribute list does not parse at offset ${parsed.error.offset}: ${parsed.error.message}`);
    return parsed;
  }

  /** The listed attributes whose values pass ATTRIBUTE_VALUES; `required` ones must. */
  private keep(map: ReadonlyMap<string, string>, names: readonly string[], required: ReadonlySet<string>): Result<Array<[string, string]>, PlaylistError> {
    const kept: Array<[string, string]> = [];
    for (const name of names) {
      const value = map.get(name);
      if (value !== undefined && ATTRIBUTE_VALUES[name]?.test(value)) kept.push([name, value]);
      else if (required.has(name)) return fail("bad_attributes", this.line, `${name} is missing or has a value we do not pass on`);
    }
    return ok(kept);
  }

  private emit(tag: string, attributes: ReadonlyArray<readonly [string, string]>): Step {
    const list = serializeAttributeList(attributes);
    if (!list.ok) return fail("bad_attributes", this.line, list.error.message);
    this.out.push(`${tag}:${list.value}`);
    return DONE;
  }

  private rewriteUri(uri: string, kind: UriKind): Result<string, PlaylistError> {
    if (this.uriCount >= MAX_PLAYLIST_URIS) return fail("too_many_uris", this.line, `more than ${MAX_PLAYLIST_URIS} URIs`);
    let absolute: URL;
    try {
      absolute = new URL(uri, this.base);
    } catch {
      return fail("bad_uri", this.line, "a URI that does not resolve");
    }
    // Our fetcher sends the Jellyfin token with every request: a playlist pointing elsewhere
    // would hand it to another host.
    if (absolute.protocol !== this.base.protocol || absolute.host !== this.base.host) {
      return fail("foreign_uri", this.line, "a URI on another host than the playlist");
    }
    const opaque = this.mint(absolute.href, kind);
    if (typeof opaque !== "string" || opaque.length > MAX_OPAQUE_URL_CHARS || !OPAQUE.test(opaque)) {
      return fail("bad_mint", this.line, "mint returned a string that cannot go into a playlist");
    }
    this.uriCount++;
    return ok(opaque);
  }
}
