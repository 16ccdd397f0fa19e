// Plays a share's opaque master playlist with hls.js, every byte coming through `fetchMedia`
// (the sharer's cache on the sharer, the media channel on viewers), never the network. hls.js
// (Apache-2.0, ~185 KB gzipped) is a separate file, imported the first time a share plays, so
// a meeting without watch-together never loads it.

import type HlsType from "hls.js";
import type { HlsConfig, Loader, LoaderCallbacks, LoaderConfiguration, LoaderContext, LoaderStats } from "hls.js";
import type { Result } from "../../common/result.js";

export type FetchMedia = (url: string, signal: AbortSignal) => Promise<Result<{ bytes: ArrayBuffer; mime: string }, { status: number; message: string }>>;

type HlsClass = typeof HlsType;

/** Jellyfin's first segment after a start or a seek can take seconds: the transcode spins up. */
const FIRST_BYTE_TIMEOUT_MS = 20_000;

/** A decoder hiccup is often cured by re-attaching the media; twice in a row is not a hiccup. */
const MAX_MEDIA_RECOVERIES = 2;

let hlsModule: Promise<HlsClass> | undefined;

function describeFatal(Hls: HlsClass, type: string, details: string): string {
  if (type === Hls.ErrorTypes.NETWORK_ERROR) {
    return "the video stopped arriving (the sharer's Jellyfin server may be slow to transcode, or the connection to the sharer dropped)";
  }
  if (type === Hls.ErrorTypes.MEDIA_ERROR || details === Hls.ErrorDetails.MANIFEST_INCOMPATIBLE_CODECS_ERROR) {
    return "this browser cannot decode the video; the sharer can broadcast it instead, which works in any browser";
  }
  return `playback failed (${details})`;
}

/** hls.js, loaded once per page from next to our bundle (scripts/build.ts puts it there). */
export function loadHls(url: string | URL = new URL("hls.js", import.meta.url)): Promise<HlsClass> {
  hlsModule ??= (import(String(url)) as Promise<{ default: HlsClass }>).then((module) => module.default);
  hlsModule.catch(() => (hlsModule = undefined)); // a failed load may be retried later
  return hlsModule;
}

function newStats(): LoaderStats {
  return {
    aborted: false,
    loaded: 0,
    retry: 0,
    total: 0,
    chunkCount: 0,
    bwEstimate: 0,
    loading: { start: 0, first: 0, end: 0 },
    parsing: { start: 0, end: 0 },
    buffering: { start: 0, first: 0, end: 0 },
  };
}

/** An hls.js Loader class whose every load goes to `fetchMedia`. */
function channelLoader(fetchMedia: FetchMedia): new (config: HlsConfig) => Loader<LoaderContext> {
  return class ChannelLoader implements Loader<LoaderContext> {
    context: LoaderContext | null = null;
    stats: LoaderStats = newStats();
    private aborter: AbortController | undefined;

    load(context: LoaderContext, _config: LoaderConfiguration, callbacks: LoaderCallbacks<LoaderContext>): void {
      this.context = context;
      this.stats = newStats();
      this.stats.loading.start = performance.now();
      const aborter = new AbortController();
      this.aborter = aborter;
      void fetchMedia(context.url, aborter.signal).then((result) => {
        if (aborter.signal.aborted) return;
        const now = performance.now();
        this.stats.loading.first = now;
        this.stats.loading.end = now;
        if (!result.ok) {
          callbacks.onError({ code: result.error.status, text: result.error.message }, context, null, this.stats);
          return;
        }
        const { bytes } = result.value;
        this.stats.loaded = this.stats.total = bytes.byteLength;
        this.stats.chunkCount = 1;
        const data = context.responseType === "arraybuffer" ? bytes : new TextDecoder().decode(bytes);
        callbacks.onSuccess({ url: context.url, data }, this.stats, context, null);
      });
    }

    abort(): void {
      this.stats.aborted = true;
      this.aborter?.abort();
    }

    destroy(): void {
      this.abort();
      this.context = null;
    }
  };
}

export interface HlsPlayer {
  readonly hls: HlsType;
  destroy(): void;
}

/**
 * Attaches hls.js to `video` and starts loading `masterUrl`. Rejects if hls.js cannot load or MSE
 * is missing. `onFatal` hears, in words for the user, when playback gave up for good.
 */
export async function playShare(
  video: HTMLVideoElement,
  masterUrl: string,
  fetchMedia: FetchMedia,
  startPosition = 0,
  onFatal: (message: string) => void = () => undefined,
): Promise<HlsPlayer> {
  const Hls = await loadHls();
  if (!Hls.isSupported()) throw new Error("this browser cannot play the stream (no Media Source Extensions); the sharer can broadcast it instead, which works in any browser");
  const hls = new Hls({
    loader: channelLoader(fetchMedia),
    // Our CSP allows workers only from our own origin, and fMP4 needs little transmuxing.
    enableWorker: false,
    lowLatencyMode: false,
    enableWebVTT: true,
    startPosition,
    maxBufferLength: 30,
    backBufferLength: 30,
    fragLoadPolicy: {
      default: {
        maxTimeToFirstByteMs: FIRST_BYTE_TIMEOUT_MS,
        maxLoadTimeMs: 60_000,
        timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
        errorRetry: { maxNumRetry: 3, retryDelayMs: 1000, maxRetryDelayMs: 8000 },
      },
    },
  });
  let mediaRecoveries = 0;
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return; // hls.js retries those itself
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < MAX_MEDIA_RECOVERIES) {
      mediaRecoveries++;
      hls.recoverMediaError();
      return;
    }
    onFatal(describeFatal(Hls, data.type, data.details));
  });
  hls.attachMedia(video);
  hls.loadSource(masterUrl);
  return {
    hls,
    destroy: () => {
      hls.destroy();
      video.removeAttribute("src");
      video.load();
    },
  };
}
