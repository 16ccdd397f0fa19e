// The sharer's side of a relay-mode share: the only code that talks to Jellyfin. It opens the
// transcode (PlaybackInfo + master playlist), hands out playlists rewritten to opaque
// `jfp2p://<share>/<n>` URLs, and answers requests for those URLs from a cache, fetching each
// Jellyfin URL once however many players (ours and every viewer's) ask for it. No Jellyfin URL,
// token or item id ever leaves this module.

import { rewritePlaylist, type UriKind } from "../../common/watch-together/playlist.js";
import { err, ok, type Result } from "../../common/result.js";
import type { JellyfinClient } from "../jellyfin/client.js";

/** Playlists, init segments and subtitles are small and needed again after a seek: never evicted. */
const PINNED_KINDS: ReadonlySet<UriKind | "master"> = new Set(["master", "variant", "init", "subtitles", "subtitle-segment"]);
/** Media segments kept for peers that ask late (about 5 min of 720p). */
const CACHE_BYTES = 128 * 1024 * 1024;
const PLAYLIST_MIME = "application/vnd.apple.mpegurl";

export interface ShareSelection {
  readonly itemId: string;
  readonly mediaSourceId: string;
  readonly audioStreamIndex?: number | undefined;
  readonly subtitleStreamIndex?: number | undefined;
  readonly preset: "480p" | "720p" | "1080p";
  /**
   * relay: viewers play the HLS stream themselves (text subtitles as a WebVTT rendition).
   * broadcast: viewers get our player as ordinary tracks, so subtitles must be burned in.
   */
  readonly mode: "relay" | "broadcast";
}

export interface ServedMedia {
  readonly bytes: ArrayBuffer;
  readonly mime: string;
}

export interface ServeError {
  /** 404 unknown url (an old item), 502 Jellyfin failed, 504 Jellyfin too slow. */
  readonly status: 404 | 502 | 504;
  readonly message: string;
}

interface Entry {
  readonly url: string;
  readonly kind: UriKind | "master";
}

export class ShareSource {
  /** What peers load first. */
  readonly masterUrl: string;
  private readonly entries = new Map<string, Entry>();
  private readonly byUrl = new Map<string, string>();
  private readonly cache = new Map<string, ServedMedia>();
  private cachedBytes = 0;
  private readonly pending = new Map<string, Promise<Result<ServedMedia, ServeError>>>();
  private next = 0;
  private readonly aborter = new AbortController();
  private stopped = false;
  /**
   * Called once when Jellyfin refuses our token mid-share (expired, revoked): the sharer must
   * sign in again, and only they can.
   */
  onSignInExpired: (() => void) | undefined;
  private signInExpiredTold = false;

  private constructor(
    private readonly client: JellyfinClient,
    private readonly shareId: string,
    readonly playSessionId: string,
    readonly selection: ShareSelection,
    jellyfinMaster: string,
  ) {
    this.masterUrl = this.mint(jellyfinMaster, "master");
  }

  /** Starts the transcode. Errors are words for the sharer (wrong item, server down, …). */
  static async open(client: JellyfinClient, shareId: string, selection: ShareSelection): Promise<Result<ShareSource, string>> {
    const info = await client.playbackInfo(selection.itemId, {
      mediaSourceId: selection.mediaSourceId,
      audioStreamIndex: selection.audioStreamIndex,
      subtitleStreamIndex: selection.subtitleStreamIndex,
    });
    if (!info.ok) return err(info.error.message);
    const master = client.masterUrl({
      itemId: selection.itemId,
      mediaSourceId: selection.mediaSourceId,
      playSessionId: info.value.PlaySessionId,
      audioStreamIndex: selection.audioStreamIndex,
      subtitleStreamIndex: selection.subtitleStreamIndex,
      subtitleMethod: selection.mode === "broadcast" ? "Encode" : "Hls",
      preset: selection.preset,
    });
    return ok(new ShareSource(client, shareId, info.value.PlaySessionId, selection, master));
  }

  /** Answers one opaque URL. Concurrent asks for the same URL share one Jellyfin request. */
  get(opaque: string): Promise<Result<ServedMedia, ServeError>> {
    const cached = this.cache.get(opaque);
    if (cached) {
      // Most recently used last, so eviction takes the oldest.
      this.cache.delete(opaque);
      this.cache.set(opaque, cached);
      return Promise.resolve(ok(cached));
    }
    const entry = this.entries.get(opaque);
    if (!entry || this.stopped) return Promise.resolve(err({ status: 404, message: "no such media in this share" }));
    let pending = this.pending.get(opaque);
    if (!pending) {
      pending = this.load(entry).then((result) => {
        this.pending.delete(opaque);
        if (result.ok) this.remember(opaque, result.value);
        return result;
      });
      this.pending.set(opaque, pending);
    }
    return pending;
  }

  /** Ends the transcode on the server and forgets everything. */
  async stop(positionTicks: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.aborter.abort();
    this.cache.clear();
    this.cachedBytes = 0;
    this.entries.clear();
    this.byUrl.clear();
    const session = { itemId: this.selection.itemId, mediaSourceId: this.selection.mediaSourceId, playSessionId: this.playSessionId, positionTicks };
    await Promise.all([this.client.reportStopped(session), this.client.stopEncoding(this.playSessionId)]);
  }

  private async load(entry: Entry): Promise<Result<ServedMedia, ServeError>> {
    const fetched = await this.client.fetchMedia(entry.url, this.aborter.signal);
    if (!fetched.ok) {
      // Viewers get this text: it must not carry the server's address, paths or item ids, which
      // the client's own messages do. The details stay in this page's console.
      console.warn(`meshmeet: fetching from Jellyfin failed: ${fetched.error.message}`);
      if (fetched.error.kind === "unauthorized" && !this.signInExpiredTold) {
        this.signInExpiredTold = true;
        this.onSignInExpired?.();
      }
      if (fetched.error.kind === "timeout") return err({ status: 504, message: "the sharer's Jellyfin server did not answer in time" });
      const answered = fetched.error.status === undefined ? "could not be reached" : `answered HTTP ${fetched.error.status}`;
      return err({ status: 502, message: `the sharer's Jellyfin server ${answered}` });
    }
    if (entry.kind !== "master" && entry.kind !== "variant" && entry.kind !== "subtitles") {
      return ok({ bytes: fetched.value.bytes, mime: fetched.value.contentType });
    }
    const text = new TextDecoder().decode(fetched.value.bytes);
    const kind = entry.kind === "master" ? "master" : entry.kind === "variant" ? "media" : "subtitles";
    const rewritten = rewritePlaylist(text, entry.url, (url, uriKind) => this.mint(url, uriKind), { kind });
    if (!rewritten.ok) return err({ status: 502, message: `the Jellyfin server sent a playlist we cannot read: ${rewritten.error.message}` });
    return ok({ bytes: new TextEncoder().encode(rewritten.value.text).buffer as ArrayBuffer, mime: PLAYLIST_MIME });
  }

  /** An opaque id per Jellyfin URL: a counter, so nothing about the URL can be guessed from it. */
  private mint(url: string, kind: UriKind | "master"): string {
    const known = this.byUrl.get(url);
    if (known) return known;
    const opaque = `jfp2p://${this.shareId}/${this.next++}`;
    this.entries.set(opaque, { url, kind });
    this.byUrl.set(url, opaque);
    return opaque;
  }

  private remember(opaque: string, media: ServedMedia): void {
    if (this.stopped) return;
    this.cache.set(opaque, media);
    this.cachedBytes += media.bytes.byteLength;
    for (const [key, value] of this.cache) {
      if (this.cachedBytes <= CACHE_BYTES) break;
      const kind = this.entries.get(key)?.kind;
      if (kind && PINNED_KINDS.has(kind)) continue;
      this.cache.delete(key);
      this.cachedBytes -= value.bytes.byteLength;
    }
  }
}
