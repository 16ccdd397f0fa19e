import { describe, expect, it } from "vitest";
import { MAX_PLAYLIST_BYTES, MAX_PLAYLIST_URIS, rewritePlaylist, type MintUrl, type PlaylistKind, type RewriteOptions, type UriKind } from "./playlist.js";

// Jellyfin-shaped playlists as the test fixture serves them, with the token
// in every URI as the sharer's client puts it there.
const ITEM = "5d1f0e8a6c2b4b7e9a3d2c1b0a998877";
const MS = "aa11bb22cc33dd44ee55ff6600778899";
const Q =
  `DeviceId=TW96aWxsYS81LjA&MediaSourceId=${MS}&PlaySessionId=0f9e8d7c6b5a&VideoCodec=h264&AudioCodec=aac` +
  `&SegmentContainer=mp4&SegmentLength=4&SubtitleMethod=Hls&SubtitleStreamIndex=2&ApiKey=secret-token&api_key=secret-token`;
const BASE = `https://jf.example/Videos/${ITEM}`;
const MASTER_URL = `${BASE}/master.m3u8?${Q}`;
const MEDIA_URL = `${BASE}/main.m3u8?${Q}`;
const SUBS_URL = `${BASE}/${MS}/Subtitles/2/subtitles.m3u8?SegmentLength=10&ApiKey=secret-token`;

const MASTER = [
  "#EXTM3U",
  `# Jellyfin ${ITEM} for user 42`,
  `#EXT-X-SESSION-DATA:DATA-ID="com.jellyfin.item",VALUE="/Videos/${ITEM}?ApiKey=secret-token"`,
  `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,CHARACTERISTICS="public.accessibility",URI="${MS}/Subtitles/2/subtitles.m3u8?SegmentLength=10&ApiKey=secret-token"`,
  `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="Director commentary",URI="audio.m3u8?ApiKey=secret-token"`,
  `#EXT-X-STREAM-INF:BANDWIDTH=345400,AVERAGE-BANDWIDTH=300000,CODECS="avc1.4d400c,mp4a.40.2",RESOLUTION=320x180,FRAME-RATE=25,SUBTITLES="subs",VIDEO-RANGE=SDR,CLOSED-CAPTIONS=NONE,AUDIO="aud"`,
  `main.m3u8?${Q}`,
  "",
].join("\n");

const SEGMENTS = [0, 1, 2, 3, 4].map((n) => [`#EXTINF:2.000000, Fixture Movie part ${n}`, `hls1/main/${n}.mp4?${Q}&runtimeTicks=${n * 20_000_000}&actualSegmentLengthTicks=20000000`]);
const MEDIA = [
  "#EXTM3U",
  "#EXT-X-PLAYLIST-TYPE:VOD",
  "#EXT-X-VERSION:7",
  "#EXT-X-TARGETDURATION:2",
  "#EXT-X-MEDIA-SEQUENCE:0",
  "#EXT-X-INDEPENDENT-SEGMENTS",
  `#EXT-X-MAP:URI="hls1/main/-1.mp4?${Q}"`,
  `#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00Z`,
  ...SEGMENTS.flat(),
  "#EXT-X-ENDLIST",
  "",
].join("\n");

const SUBTITLES = [
  "#EXTM3U",
  "#EXT-X-TARGETDURATION:10",
  "#EXT-X-VERSION:3",
  "#EXT-X-MEDIA-SEQUENCE:0",
  "#EXT-X-PLAYLIST-TYPE:VOD",
  "#EXTINF:10,",
  "0/Stream.vtt?CopyTimestamps=true&AddVttTimeMap=true&ApiKey=secret-token",
  "#EXT-X-ENDLIST",
].join("\n");

const LEAKS = ["http", "/videos/", "apikey", "api_key", "secret-token", "jf.example", ITEM, MS, "fixture movie", "session-data", "jellyfin"];

/** A mint like the sharer's: a counter per distinct URL, remembering what it saw. */
function recordingMint(): { mint: MintUrl; minted: Array<{ url: string; kind: UriKind; opaque: string }> } {
  const minted: Array<{ url: string; kind: UriKind; opaque: string }> = [];
  const byUrl = new Map<string, string>();
  const mint: MintUrl = (url, kind) => {
    const opaque = byUrl.get(url) ?? `jfp2p://share-1/${byUrl.size}`;
    byUrl.set(url, opaque);
    minted.push({ url, kind, opaque });
    return opaque;
  };
  return { mint, minted };
}

function rewrite(text: string, url: string, kind?: PlaylistKind, mint: MintUrl = recordingMint().mint) {
  const options: RewriteOptions = kind ? { kind } : {};
  return rewritePlaylist(text, url, mint, options);
}

/** URIs in a playlist: URI lines and URI="…" attributes of the tags we keep. */
function uris(text: string): string[] {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const found: string[] = [];
  for (const line of lines) {
    if (line === "") continue;
    if (!line.startsWith("#")) found.push(line);
    else if (line.startsWith("#EXT-X-MAP:") || (line.startsWith("#EXT-X-MEDIA:") && line.includes("TYPE=SUBTITLES"))) {
      const match = /URI="([^"]*)"/.exec(line);
      if (match?.[1] !== undefined) found.push(match[1]);
    }
  }
  return found;
}

function extinfSum(text: string): number {
  return text
    .split("\n")
    .filter((line) => line.startsWith("#EXTINF:"))
    .reduce((sum, line) => sum + Number(/^#EXTINF:([\d.]+)/.exec(line)?.[1]), 0);
}

function expectNoLeaks(text: string): void {
  for (const line of text.split("\n")) {
    for (const leak of LEAKS) expect(line.toLowerCase(), `line "${line}"`).not.toContain(leak.toLowerCase());
  }
}

describe("rewritePlaylist on Jellyfin-shaped playlists", () => {
  it("master: keeps only the structure, every URI opaque", () => {
    const { mint, minted } = recordingMint();
    const result = rewrite(MASTER, MASTER_URL, "master", mint);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.text).toBe(
      [
        "#EXTM3U",
        `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,URI="jfp2p://share-1/0"`,
        `#EXT-X-STREAM-INF:BANDWIDTH=345400,AVERAGE-BANDWIDTH=300000,CODECS="avc1.4d400c,mp4a.40.2",RESOLUTION=320x180,FRAME-RATE=25,SUBTITLES="subs"`,
        "jfp2p://share-1/1",
        "",
      ].join("\n"),
    );
    expect(minted).toEqual([
      { url: SUBS_URL, kind: "subtitles", opaque: "jfp2p://share-1/0" },
      { url: MEDIA_URL, kind: "variant", opaque: "jfp2p://share-1/1" },
    ]);
    expect(result.value.uriCount).toBe(uris(MASTER).length);
    expect(uris(result.value.text)).toHaveLength(uris(MASTER).length);
    expect(result.value.segments).toEqual([]);
    expectNoLeaks(result.value.text);
  });

  it("media: URIs, EXTINF sum and timeline preserved, titles and other tags gone", () => {
    const { mint, minted } = recordingMint();
    const result = rewrite(MEDIA, MEDIA_URL, "media", mint);
    if (!result.ok) throw new Error(result.error.message);
    const { text, segments, uriCount, durationS } = result.value;
    expectNoLeaks(text);
    expect(text.split("\n").slice(0, 8)).toEqual([
      "#EXTM3U",
      "#EXT-X-PLAYLIST-TYPE:VOD",
      "#EXT-X-VERSION:7",
      "#EXT-X-TARGETDURATION:2",
      "#EXT-X-MEDIA-SEQUENCE:0",
      "#EXT-X-INDEPENDENT-SEGMENTS",
      `#EXT-X-MAP:URI="jfp2p://share-1/0"`,
      "#EXTINF:2.000000,",
    ]);
    expect(text.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
    expect(uris(text)).toHaveLength(uris(MEDIA).length);
    expect(uriCount).toBe(6);
    expect(extinfSum(text)).toBe(extinfSum(MEDIA));
    expect(durationS).toBe(10);
    expect(segments).toEqual([0, 1, 2, 3, 4].map((n) => ({ opaque: `jfp2p://share-1/${n + 1}`, startS: 2 * n, durS: 2 })));
    expect(minted.map((m) => m.kind)).toEqual(["init", "segment", "segment", "segment", "segment", "segment"]);
    expect(minted[0]?.url).toBe(`${BASE}/hls1/main/-1.mp4?${Q}`);
    expect(minted[3]?.url).toBe(`${BASE}/hls1/main/2.mp4?${Q}&runtimeTicks=40000000&actualSegmentLengthTicks=20000000`);
  });

  it("MPEG-TS media playlist (no MAP, version 3)", () => {
    const ts = MEDIA.replace(/#EXT-X-MAP:.*\n/, "").replace("VERSION:7", "VERSION:3").replaceAll(".mp4?", ".ts?");
    const result = rewrite(ts, MEDIA_URL, "media");
    expect(result.ok && result.value.segments.length).toBe(5);
    expect(result.ok && result.value.text).not.toContain("EXT-X-MAP");
  });

  it("subtitles: the VTT segment is a subtitle-segment resolved against the subtitle playlist", () => {
    const { mint, minted } = recordingMint();
    const result = rewrite(SUBTITLES, SUBS_URL, "subtitles", mint);
    if (!result.ok) throw new Error(result.error.message);
    expectNoLeaks(result.value.text);
    expect(minted).toEqual([
      { url: `${BASE}/${MS}/Subtitles/2/0/Stream.vtt?CopyTimestamps=true&AddVttTimeMap=true&ApiKey=secret-token`, kind: "subtitle-segment", opaque: "jfp2p://share-1/0" },
    ]);
    expect(result.value.segments).toEqual([{ opaque: "jfp2p://share-1/0", startS: 0, durS: 10 }]);
    expect(extinfSum(result.value.text)).toBe(10);
    expect(uris(result.value.text)).toHaveLength(1);
  });

  it("detects master and media when no kind is given", () => {
    expect(rewrite(MASTER, MASTER_URL)).toMatchObject({ ok: true, value: { kind: "master" } });
    expect(rewrite(MEDIA, MEDIA_URL)).toMatchObject({ ok: true, value: { kind: "media" } });
  });

  it("reads CRLF line ends, a BOM, blank lines and trailing spaces", () => {
    const messy = `\uFEFF${MEDIA.split("\n").join("  \r\n\r\n")}`;
    const result = rewrite(messy, MEDIA_URL, "media");
    expect(result.ok && result.value.segments.length).toBe(5);
  });

  it("accumulates start times from uneven EXTINFs and rounds a fractional target duration up", () => {
    const text = ["#EXTM3U", "#EXT-X-TARGETDURATION:4.2", "#EXTINF:4.2", "a.ts", "#EXTINF:3.8,x", "b.ts", "#EXTINF:0.5,", "c.ts"].join("\n");
    const result = rewrite(text, MEDIA_URL, "media");
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.text).toContain("#EXT-X-TARGETDURATION:5\n");
    expect(result.value.segments.map((s) => [s.startS, s.durS])).toEqual([
      [0, 4.2],
      [4.2, 3.8],
      [8, 0.5],
    ]);
    expect(result.value.durationS).toBeCloseTo(8.5, 9);
  });

  it("accepts absolute URIs on the playlist's own origin", () => {
    const text = ["#EXTM3U", "#EXTINF:2,", "https://jf.example/Videos/x/hls1/main/0.mp4?ApiKey=secret-token"].join("\n");
    const { mint, minted } = recordingMint();
    expect(rewrite(text, MEDIA_URL, "media", mint).ok).toBe(true);
    expect(minted[0]?.url).toBe("https://jf.example/Videos/x/hls1/main/0.mp4?ApiKey=secret-token");
  });

  it("drops optional attributes whose values it cannot vouch for", () => {
    const text = [
      "#EXTM3U",
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="English (from ApiKey=secret-token)",DEFAULT=MAYBE,URI="s.m3u8"`,
      `#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=big,CODECS="https://jf.example/",FRAME-RATE=25`,
      "main.m3u8",
    ].join("\n");
    const result = rewrite(text, MASTER_URL, "master");
    expect(result.ok && result.value.text.split("\n").slice(1, 3)).toEqual([
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",URI="jfp2p://share-1/0"`,
      "#EXT-X-STREAM-INF:BANDWIDTH=1,FRAME-RATE=25",
    ]);
  });

  it("drops METHOD=NONE keys and discontinuity tags", () => {
    const text = ["#EXTM3U", "#EXT-X-KEY:METHOD=NONE", "#EXTINF:2,", "a.ts", "#EXT-X-DISCONTINUITY", "#EXTINF:2,", "b.ts"].join("\n");
    const result = rewrite(text, MEDIA_URL, "media");
    expect(result.ok && result.value.text).toBe("#EXTM3U\n#EXTINF:2,\njfp2p://share-1/0\n#EXTINF:2,\njfp2p://share-1/1\n");
  });
});

describe("rewritePlaylist errors", () => {
  const media = (...lines: string[]): string => ["#EXTM3U", ...lines].join("\n");

  it.each<[string, string, PlaylistKind, string]>([
    ["no #EXTM3U", "#EXTINF:2,\na.ts", "media", "not_m3u"],
    ["#EXTM3U not first", "\n#EXTM3U\n", "media", "not_m3u"],
    ["an HTML error page", "<html>ApiKey=secret-token</html>", "media", "not_m3u"],
    ["an empty body", "", "media", "not_m3u"],
    ["an unterminated quote", media(`#EXT-X-MAP:URI="init.mp4`), "media", "bad_attributes"],
    ["a broken STREAM-INF", `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="a"x\nmain.m3u8`, "master", "bad_attributes"],
    ["STREAM-INF without BANDWIDTH", `#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\nmain.m3u8`, "master", "bad_attributes"],
    ["a non-numeric BANDWIDTH", `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=lots\nmain.m3u8`, "master", "bad_attributes"],
    ["a subtitle rendition without NAME", `#EXTM3U\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",URI="s.m3u8"`, "master", "bad_attributes"],
    ["a subtitle rendition with a control character in NAME", `#EXTM3U\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="a\u0007",URI="s.m3u8"`, "master", "bad_attributes"],
    ["a subtitle rendition without URI", `#EXTM3U\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="n"`, "master", "bad_attributes"],
    ["MAP without URI", media("#EXT-X-MAP:BYTE=1"), "media", "bad_attributes"],
    ["a URI before any EXTINF", media("a.ts"), "media", "uri_without_extinf"],
    ["a second URI for one EXTINF", media("#EXTINF:2,", "a.ts", "b.ts"), "media", "uri_without_extinf"],
    ["a subtitle URI without EXTINF", media("0/Stream.vtt"), "subtitles", "uri_without_extinf"],
    ["a master URI without STREAM-INF", "#EXTM3U\nmain.m3u8", "master", "uri_without_stream_inf"],
    ["an EXTINF with no URI", media("#EXTINF:2,", "#EXT-X-ENDLIST"), "media", "dangling_tag"],
    ["two EXTINFs in a row", media("#EXTINF:2,", "#EXTINF:2,", "a.ts"), "media", "dangling_tag"],
    ["a STREAM-INF with no URI", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1", "master", "dangling_tag"],
    ["an EXTINF without a number", media("#EXTINF:two,", "a.ts"), "media", "bad_tag"],
    ["a negative EXTINF", media("#EXTINF:-2,", "a.ts"), "media", "bad_tag"],
    ["a non-numeric version", media("#EXT-X-VERSION:secret-token"), "media", "bad_tag"],
    ["an unknown playlist type", media("#EXT-X-PLAYLIST-TYPE:LIVE"), "media", "bad_tag"],
    ["STREAM-INF in a media playlist", media("#EXT-X-STREAM-INF:BANDWIDTH=1", "main.m3u8"), "media", "wrong_kind"],
    ["EXTINF in a master playlist", "#EXTM3U\n#EXTINF:2,\na.ts", "master", "wrong_kind"],
    ["a URI on another host", media("#EXTINF:2,", "https://evil.example/a.ts"), "media", "foreign_uri"],
    ["a URI on another port", media("#EXTINF:2,", "https://jf.example:8443/a.ts"), "media", "foreign_uri"],
    ["a URI with another scheme", media("#EXTINF:2,", "http://jf.example/a.ts"), "media", "foreign_uri"],
    ["a data: URI", media("#EXTINF:2,", "data:text/plain,hi"), "media", "foreign_uri"],
    ["a protocol-relative URI elsewhere", media("#EXTINF:2,", "//evil.example/a.ts"), "media", "foreign_uri"],
    ["an unparsable URI", media("#EXTINF:2,", "http://[::1"), "media", "bad_uri"],
    ["byte ranges", media("#EXTINF:2,", "#EXT-X-BYTERANGE:1000@0", "a.mp4"), "media", "unsupported"],
    ["a byte-range MAP", media(`#EXT-X-MAP:URI="a.mp4",BYTERANGE="100@0"`), "media", "unsupported"],
    ["encryption", media(`#EXT-X-KEY:METHOD=AES-128,URI="key"`), "media", "unsupported"],
  ])("%s", (_name, text, kind, code) => {
    const result = rewrite(text, MEDIA_URL, kind);
    expect(result.ok ? "ok" : result.error.code).toBe(code);
    if (!result.ok) {
      for (const leak of LEAKS) expect(result.error.message.toLowerCase()).not.toContain(leak.toLowerCase());
    }
  });

  it("points at the offending line", () => {
    const result = rewrite(media("#EXT-X-VERSION:7", "#EXTINF:2,", "a.ts", "b.ts"), MEDIA_URL, "media");
    expect(!result.ok && result.error.line).toBe(5);
  });

  it("refuses a playlist URL that is not http(s)", () => {
    expect(rewrite(MEDIA, "not a url", "media")).toMatchObject({ ok: false, error: { code: "bad_uri" } });
    expect(rewrite(MEDIA, "file:///etc/main.m3u8", "media")).toMatchObject({ ok: false, error: { code: "bad_uri" } });
  });

  it("refuses what mint returns if it cannot go into a playlist", () => {
    for (const bad of ["", "a b", 'x"y', "line\nbreak", `jfp2p://${"x".repeat(600)}`]) {
      expect(rewrite(MEDIA, MEDIA_URL, "media", () => bad)).toMatchObject({ ok: false, error: { code: "bad_mint" } });
    }
  });

  it(`refuses more than ${MAX_PLAYLIST_URIS} URIs`, () => {
    const lines = ["#EXTM3U"];
    for (let i = 0; i <= MAX_PLAYLIST_URIS; i++) lines.push("#EXTINF:1,", `${i}.ts`);
    expect(rewrite(lines.join("\n"), MEDIA_URL, "media")).toMatchObject({ ok: false, error: { code: "too_many_uris" } });
    expect(rewrite(lines.slice(0, -2).join("\n"), MEDIA_URL, "media")).toMatchObject({ ok: true, value: { uriCount: MAX_PLAYLIST_URIS } });
  });

  it(`refuses more than ${MAX_PLAYLIST_BYTES} bytes`, () => {
    const text = `#EXTM3U\n#${"x".repeat(MAX_PLAYLIST_BYTES)}`;
    expect(rewrite(text, MEDIA_URL, "media")).toMatchObject({ ok: false, error: { code: "too_large" } });
    // Multi-byte characters count as their UTF-8 size.
    const wide = `#EXTM3U\n#${"é".repeat(MAX_PLAYLIST_BYTES / 2)}`;
    expect(rewrite(wide, MEDIA_URL, "media")).toMatchObject({ ok: false, error: { code: "too_large" } });
  });

  it("never throws on random junk", () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pieces = ["#EXTM3U", "#EXTINF:", "2,", "#EXT-X-MAP:", 'URI="', '"', ",", "=", "a.ts", "\n", "#EXT-X-STREAM-INF:", "BANDWIDTH=1", "http://", "[", "%", "#EXT-X-MEDIA:", "TYPE=SUBTITLES", " "];
    for (let i = 0; i < 3000; i++) {
      let text = "#EXTM3U\n";
      const n = Math.floor(random() * 30);
      for (let j = 0; j < n; j++) text += pieces[Math.floor(random() * pieces.length)] ?? "";
      for (const kind of ["master", "media", "subtitles"] as const) {
        const result = rewrite(text, MEDIA_URL, kind);
        if (result.ok) expectNoLeaks(result.value.text);
      }
    }
  });
});
