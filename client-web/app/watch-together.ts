// Jellyfin watch-together on the page: sharing an item of ours (relay mode: our Jellyfin is read
// by our ShareSource, our own player and every viewer's read from it) and joining others'
// shares. A share is a resource of kind "jellyfin" (keks-meet ignores unknown kinds); each viewer
// request opens two channels, media and control (protocol SYNC_PROTOCOL), so a pause never waits
// behind a segment.

import type { LocalResource, PeerKey, Room } from "../../common/engine/room.js";
import { err, ok, type Result } from "../../common/result.js";
import type { JellyfinClient } from "../jellyfin/client.js";
import { playShare, type FetchMedia, type HlsPlayer } from "../watch/hls-player.js";
import { MediaClient } from "../watch/media-client.js";
import { MediaServer } from "../watch/media-server.js";
import { ShareSource, type ShareSelection } from "../watch/share-source.js";
import { SyncFollower } from "../watch/sync-follower.js";
import { SyncLeader, type ShareMeta } from "../watch/sync-leader.js";
import { SHARE_KIND } from "../watch/share-kind.js";

export { SHARE_KIND } from "../watch/share-kind.js";
export const SYNC_PROTOCOL = "meshmeet-watch-sync";
/** Jellyfin wants to hear where playback is now and then; every 10 s is what its clients do. */
const PROGRESS_REPORT_MS = 10_000;
const POSTER_PIXELS = 256;

export interface LocalShareView {
  readonly id: string;
  readonly mode: "relay" | "broadcast";
  readonly queue: readonly string[];
  readonly title: string;
  readonly video: HTMLVideoElement;
  readonly viewers: number;
  readonly stalledViewers: number;
  /** Paused for stalled viewers to catch up. */
  readonly holding: boolean;
}

export interface JoinedShareView {
  readonly key: PeerKey;
  readonly id: string;
  readonly title: string;
  readonly video: HTMLVideoElement | undefined;
  readonly status: "connecting" | "playing" | "failed";
  readonly message: string | undefined;
  /** The sharer lets viewers play, pause, seek and skip. */
  readonly control: boolean;
  /** Viewers (others or us) waiting for the video. */
  readonly waiting: number;
  readonly sharerPlaying: boolean;
}

/** One item of a share: what is playing now, or waiting in the queue. */
export interface QueuedItem {
  readonly client: JellyfinClient;
  readonly selection: ShareSelection;
  readonly title: string;
  readonly durationS: number;
}

interface Playing {
  readonly item: QueuedItem;
  readonly source: ShareSource;
  readonly player: HlsPlayer;
}

interface LocalShare {
  readonly id: string;
  readonly mode: "relay" | "broadcast";
  /** Broadcast mode: our player as tracks (the resource peers request). */
  readonly broadcast: MediaStream | undefined;
  readonly video: HTMLVideoElement;
  readonly leader: SyncLeader;
  readonly servers: Set<MediaServer>;
  playing: Playing;
  readonly queue: QueuedItem[];
  readonly progressTimer: ReturnType<typeof setInterval>;
}

interface Joined {
  view: JoinedShareView;
  media: MediaClient | undefined;
  follower: SyncFollower | undefined;
  player: HlsPlayer | undefined;
  pendingMeta: (ShareMeta & { epoch: number }) | undefined;
  loadToken: number;
}

export class WatchTogether {
  private local: LocalShare | undefined;
  /** Broadcast mode: the peers receiving our tracks. */
  private readonly broadcastViewers = new Set<PeerKey>();
  private itemCounter = 0;
  /** Whether viewers may play, pause, seek and skip; the sharer's choice, off by default. */
  private viewerControl = false;
  /** Whether a stalled viewer pauses the share until everyone has caught up; on by default. */
  waitForViewers = true;
  private readonly joined = new Map<string, Joined>();
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly room: Room,
    private readonly onChange: () => void,
    /** Words for the user (a failed share or a viewer's trouble), said once each. */
    private readonly onNotice: (message: string) => void,
  ) {
    this.offs.push(room.events.on("channel", ({ key, id, channel }) => this.handleChannel(key, id, channel)));
    this.offs.push(room.events.on("resource-withdrawn", ({ key, id }) => this.leave(key, id, false)));
    this.offs.push(
      room.events.on("local-requested", ({ key, id, active }) => {
        const share = this.local;
        if (!share?.broadcast || share.broadcast.id !== id) return;
        if (active) {
          this.broadcastViewers.add(key);
          void tuneBroadcastSenders(this.room.connectionOf(key), share.broadcast, share.playing.item.selection.preset);
        } else this.broadcastViewers.delete(key);
        this.onChange();
      }),
    );
    this.offs.push(room.events.on("peer-left", ({ key }) => {
      for (const joined of [...this.joined.values()]) if (joined.view.key === key) this.leave(key, joined.view.id, false);
    }));
  }

  get localShare(): LocalShareView | undefined {
    const share = this.local;
    if (!share) return undefined;
    const reports = [...share.leader.viewerReports.values()];
    const viewers = share.mode === "broadcast" ? this.broadcastViewers.size : share.servers.size;
    return {
      id: share.id,
      mode: share.mode,
      queue: share.queue.map((item) => item.title),
      title: share.playing.item.title,
      video: share.video,
      viewers,
      stalledViewers: reports.filter((r) => r.stalled).length,
      holding: share.leader.holding,
    };
  }

  get joinedShares(): JoinedShareView[] {
    return [...this.joined.values()].map((j) => j.view);
  }

  isJoined(key: PeerKey, id: string): boolean {
    return this.joined.has(joinKey(key, id));
  }

  // ---- sharing --------------------------------------------------------------------------------

  /** Starts sharing (replacing a running share). Returns words for the user on failure. */
  async share(item: QueuedItem): Promise<Result<void, string>> {
    await this.stopSharing();
    const id = crypto.randomUUID();
    const { client, selection, title } = item;
    const video = document.createElement("video");
    video.playsInline = true;
    const playing = await this.startItem(id, item, video);
    if (!playing.ok) return playing;
    let broadcast: MediaStream | undefined;
    if (selection.mode === "broadcast") {
      const captured = await captureWhenPlaying(video);
      if (!captured.ok) {
        await playing.value.source.stop(0);
        return err(captured.error);
      }
      broadcast = captured.value;
    }
    const leader = new SyncLeader(video, this.metaOf(id, playing.value), {
      allowViewerControl: () => this.viewerControl,
      waitForViewers: () => this.waitForViewers,
      onViewersChange: this.onChange,
      onNextRequested: () => void this.next(),
    });
    const servers = new Set<MediaServer>();
    const progressTimer = setInterval(() => {
      const share = this.local;
      if (share) void share.playing.item.client.reportProgress(this.report(share.playing, video));
    }, PROGRESS_REPORT_MS);
    const share: LocalShare = { id, mode: selection.mode, broadcast, video, leader, servers, playing: playing.value, queue: [], progressTimer };
    this.local = share;
    video.addEventListener("ended", () => {
      if (this.local === share && share.queue.length > 0) void this.next();
    });
    if (broadcast) {
      // Ordinary tracks, labelled with the title: any client, keks-meet too, can show them.
      this.broadcastViewers.clear();
      this.room.provide({ info: { id: broadcast.id, kind: "track", trackKind: "video", label: title }, stream: broadcast });
      this.onChange();
      return ok(undefined);
    }
    this.room.provide(this.shareResource(share, title, item.durationS));
    void this.sendPoster(client, selection.itemId, id);
    this.onChange();
    return ok(undefined);
  }

  get viewersMayControl(): boolean {
    return this.viewerControl;
  }

  setViewersMayControl(allowed: boolean): void {
    this.viewerControl = allowed;
    this.local?.leader.controlChanged();
    this.onChange();
  }

  setWaitForViewers(wait: boolean): void {
    this.waitForViewers = wait;
    this.onChange();
  }

  /** Adds an item to the running share's queue (same mode as the share). */
  enqueue(item: QueuedItem): void {
    const share = this.local;
    if (!share) return;
    share.queue.push({ ...item, selection: { ...item.selection, mode: share.mode } });
    this.onChange();
  }

  removeFromQueue(index: number): void {
    this.local?.queue.splice(index, 1);
    this.onChange();
  }

  /**
   * Plays the next queued item: a new transcode on the Jellyfin server (the old one is stopped),
   * viewers reload (relay) or simply keep receiving our player (broadcast).
   */
  async next(): Promise<Result<void, string>> {
    const share = this.local;
    const item = share?.queue.shift();
    if (!share || !item) return err("the queue is empty");
    this.onChange();
    const previous = share.playing;
    const position = Math.round(share.video.currentTime * 10_000_000);
    previous.player.destroy();
    const playing = await this.startItem(share.id, item, share.video);
    void previous.source.stop(position);
    if (this.local !== share) {
      if (playing.ok) await playing.value.source.stop(0);
      return err("the share ended");
    }
    if (!playing.ok) {
      this.onNotice(`Could not play ${item.title}: ${playing.error}`);
      return playing;
    }
    share.playing = playing.value;
    share.leader.changeItem(this.metaOf(share.id, playing.value));
    // The offer's label follows the item, so people who have not joined see what is on.
    if (share.broadcast) this.room.provide({ info: { id: share.broadcast.id, kind: "track", trackKind: "video", label: item.title }, stream: share.broadcast });
    else this.room.provide(this.shareResource(share, item.title, item.durationS));
    void this.sendPoster(item.client, item.selection.itemId, share.id);
    this.onChange();
    return ok(undefined);
  }

  /** Ends our share: viewers' players stop, the transcode on the Jellyfin server is stopped. */
  async stopSharing(): Promise<void> {
    const share = this.local;
    if (!share) return;
    this.local = undefined;
    clearInterval(share.progressTimer);
    const position = Math.round(share.video.currentTime * 10_000_000);
    this.room.stopProviding(share.broadcast?.id ?? share.id);
    for (const track of share.broadcast?.getTracks() ?? []) track.stop();
    share.leader.close();
    for (const server of share.servers) server.close();
    share.playing.player.destroy();
    this.onChange();
    await share.playing.source.stop(position);
  }

  private async startItem(shareId: string, item: QueuedItem, video: HTMLVideoElement): Promise<Result<Playing, string>> {
    // Each item mints its own URL space, so a request for the previous item's URL can never be
    // answered with this one's bytes.
    const source = await ShareSource.open(item.client, `${shareId}-${++this.itemCounter}`, item.selection);
    if (!source.ok) return err(source.error);
    source.value.onSignInExpired = () =>
      this.onNotice("Your Jellyfin sign-in has expired, so the shared video cannot continue: open the Jellyfin panel and sign in again.");
    const fetchLocal: FetchMedia = async (url) => {
      const result = await source.value.get(url);
      return result.ok ? result : err({ status: result.error.status, message: result.error.message });
    };
    try {
      const player = await playShare(video, source.value.masterUrl, fetchLocal, 0, (message) => this.onNotice(`Your shared video stopped: ${message}.`));
      const playing: Playing = { item, source: source.value, player };
      void item.client.reportPlaying(this.report(playing, video));
      void video.play().catch(() => undefined);
      return ok(playing);
    } catch (error) {
      await source.value.stop(0);
      return err(error instanceof Error ? error.message : String(error));
    }
  }

  private report(playing: Playing, video: HTMLVideoElement) {
    return {
      itemId: playing.item.selection.itemId,
      mediaSourceId: playing.item.selection.mediaSourceId,
      playSessionId: playing.source.playSessionId,
      positionTicks: Math.round(video.currentTime * 10_000_000),
      isPaused: video.paused,
    };
  }

  private metaOf(shareId: string, playing: Playing): ShareMeta {
    return { share: shareId, title: playing.item.title, durationS: playing.item.durationS, master: playing.source.masterUrl };
  }

  /** The relay-mode offer: each request opens the viewer's media and control channels. */
  private shareResource(share: LocalShare, title: string, durationS: number): LocalResource {
    return {
      info: { id: share.id, kind: SHARE_KIND, label: title, ...(durationS > 0 ? { durationS } : {}) },
      openChannel: (channel, peer, _request, openAnother) => {
        // Always the current item's source: after "next" old URLs answer 404 and viewers reload.
        const server = new MediaServer(
          channel,
          (url) => (this.local === share ? share.playing.source.get(url) : Promise.resolve(err({ status: 404 as const, message: "the share ended" }))),
          (message) => console.warn(`meshmeet: a viewer broke the media protocol: ${message}`),
        );
        share.servers.add(server);
        channel.addEventListener("close", () => {
          share.servers.delete(server);
          this.onChange();
        });
        share.leader.addViewer(peer, openAnother(SYNC_PROTOCOL));
        this.onChange();
      },
    };
  }

  // ---- watching -------------------------------------------------------------------------------

  join(key: PeerKey, id: string): void {
    const k = joinKey(key, id);
    if (this.joined.has(k)) return;
    const title = this.room.peer(key)?.resources.get(id)?.info.label ?? "Shared video";
    this.joined.set(k, {
      view: { key, id, title, video: undefined, status: "connecting", message: undefined, control: false, waiting: 0, sharerPlaying: false },
      media: undefined,
      follower: undefined,
      player: undefined,
      pendingMeta: undefined,
      loadToken: 0,
    });
    this.room.request(key, id);
    this.onChange();
  }

  /** Stops watching; `ask` tells the sharer (false when the share is already gone). */
  leave(key: PeerKey, id: string, ask = true): void {
    const k = joinKey(key, id);
    const joined = this.joined.get(k);
    if (!joined) return;
    this.joined.delete(k);
    joined.follower?.close();
    joined.media?.close();
    joined.player?.destroy();
    if (ask) this.room.requestStop(key, id);
    this.onChange();
  }

  /** Asks the sharer to play, pause, seek or skip (obeyed only if the sharer allows it). */
  requestControl(key: PeerKey, id: string, action: "play" | "pause" | "seek" | "next", pos?: number): void {
    this.joined.get(joinKey(key, id))?.follower?.request(action, pos);
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    for (const joined of [...this.joined.values()]) this.leave(joined.view.key, joined.view.id);
    void this.stopSharing();
  }

  private handleChannel(key: PeerKey, id: string, channel: RTCDataChannel): void {
    if (this.room.peer(key)?.resources.get(id)?.info.kind !== SHARE_KIND) return;
    const joined = this.joined.get(joinKey(key, id));
    if (!joined) {
      channel.close();
      return;
    }
    if (channel.protocol === SYNC_PROTOCOL) {
      joined.follower?.close();
      joined.follower = new SyncFollower(channel, {
        meta: (meta) => {
          joined.pendingMeta = meta;
          void this.load(joined);
        },
        end: () => this.leave(key, id, false),
        status: ({ control, waiting, playing }) => {
          joined.view = { ...joined.view, control, waiting, sharerPlaying: playing };
          this.onChange();
        },
      });
    } else {
      joined.media?.close();
      joined.media = new MediaClient(channel, (message) => console.warn(`meshmeet: the sharer broke the media protocol: ${message}`));
      void this.load(joined);
    }
  }

  /** (Re)starts the player once both channels and the share's description are here. */
  private async load(joined: Joined): Promise<void> {
    const { media, follower, pendingMeta: meta } = joined;
    if (!media || !follower || !meta) return;
    joined.pendingMeta = undefined;
    const token = ++joined.loadToken;
    joined.player?.destroy();
    const video = joined.view.video ?? document.createElement("video");
    video.playsInline = true;
    joined.view = { ...joined.view, title: meta.title, video };
    const fetchRemote: FetchMedia = (url, signal) => media.fetch(url, signal);
    try {
      const player = await playShare(video, meta.master, fetchRemote, follower.expectedPosition(), (message) => {
        if (token !== joined.loadToken) return;
        joined.view = { ...joined.view, status: "failed", message };
        this.onNotice(`Cannot play ${meta.title}: ${message}.`);
        this.onChange();
      });
      if (token !== joined.loadToken || !this.joined.has(joinKey(joined.view.key, joined.view.id))) {
        player.destroy();
        return;
      }
      joined.player = player;
      follower.attach(video);
      joined.view = { ...joined.view, status: "playing", message: undefined };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      joined.view = { ...joined.view, status: "failed", message };
      this.onNotice(`Cannot play ${meta.title}: ${message}.`);
    }
    this.onChange();
  }

  /** The poster as the share's preview, so others see it before joining. */
  private async sendPoster(client: JellyfinClient, itemId: string, shareId: string): Promise<void> {
    const image = await client.fetchMedia(client.imageUrl(itemId, { width: POSTER_PIXELS, height: POSTER_PIXELS }));
    if (!image.ok || this.local?.id !== shareId) return;
    try {
      const bitmap = await createImageBitmap(new Blob([image.value.bytes]));
      const scale = Math.min(1, POSTER_PIXELS / Math.max(bitmap.width, bitmap.height));
      const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
      canvas.getContext("2d")?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      const blob = await canvas.convertToBlob({ type: "image/webp", quality: 0.8 });
      const dataUrl = await new Promise<string>((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(String(reader.result));
        reader.onerror = () => reject(reader.error);
        reader.readAsDataURL(blob);
      });
      if (this.local?.id === shareId) this.room.sendPreview(shareId, dataUrl);
    } catch {
      // No poster is no loss: the share works without one.
    }
  }
}

/**
 * Video bitrate caps per quality preset for broadcast mode: enough for film at
 * that size after WebRTC's own re-encode, and bounded because the sharer's uplink carries one
 * copy per viewer.
 */
const BROADCAST_MAX_BITRATE: Readonly<Record<ShareSelection["preset"], number>> = {
  "480p": 1_200_000,
  "720p": 2_500_000,
  "1080p": 4_500_000,
};
const TUNE_RETRIES = 5;
const TUNE_RETRY_MS = 1_000;
/** Films are 24–30 fps; more only costs the uplink. */
const BROADCAST_MAX_FRAMERATE = 30;

/** Film settings on the senders of our broadcast: a bitrate cap and smooth motion over sharpness. */
async function tuneBroadcastSenders(pc: RTCPeerConnection | undefined, stream: MediaStream, preset: ShareSelection["preset"], attempt = 0): Promise<void> {
  const videoTracks = new Set(stream.getVideoTracks());
  for (const sender of pc?.getSenders() ?? []) {
    if (!sender.track || !videoTracks.has(sender.track)) continue;
    const parameters = sender.getParameters();
    if (parameters.encodings.length === 0) {
      // Some browsers fill the encodings in only after negotiation: try again shortly.
      if (attempt < TUNE_RETRIES) setTimeout(() => void tuneBroadcastSenders(pc, stream, preset, attempt + 1), TUNE_RETRY_MS);
      continue;
    }
    for (const encoding of parameters.encodings) {
      encoding.maxBitrate = BROADCAST_MAX_BITRATE[preset];
      encoding.maxFramerate = BROADCAST_MAX_FRAMERATE;
    }
    (parameters as RTCRtpSendParameters & { degradationPreference?: string }).degradationPreference = "maintain-framerate";
    // Best effort: a browser that refuses a field keeps its defaults, and the broadcast still works.
    await sender.setParameters(parameters).catch(() => undefined);
  }
}

/** How long after the picture we wait for sound before broadcasting without it. */
const AUDIO_TRACK_WAIT_MS = 2_000;
/** Jellyfin's first segment can take seconds (transcode start); then the tracks need a frame. */
const CAPTURE_TIMEOUT_MS = 30_000;

/**
 * Our player as a MediaStream. captureStream() works on hls.js's MediaSource (same origin,
 * whatever the Jellyfin server's CORS), but its tracks exist only once media has loaded.
 */
async function captureWhenPlaying(video: HTMLVideoElement): Promise<Result<MediaStream, string>> {
  const capture = (video as HTMLVideoElement & { captureStream?: () => MediaStream }).captureStream;
  if (typeof capture !== "function") return err("this browser cannot broadcast a video (no captureStream)");
  void video.play().catch(() => undefined);
  const deadline = performance.now() + CAPTURE_TIMEOUT_MS;
  while (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) {
    if (performance.now() > deadline) return err("the Jellyfin server did not start the video in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const stream = capture.call(video);
  while (stream.getVideoTracks().length === 0) {
    if (performance.now() > deadline) return err("the video gave no picture to broadcast");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The audio track follows the video one; an item without sound never gets one.
  const audioDeadline = performance.now() + AUDIO_TRACK_WAIT_MS;
  while (stream.getAudioTracks().length === 0 && performance.now() < audioDeadline) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const track of stream.getVideoTracks()) track.contentHint = "motion";
  return ok(stream);
}

function joinKey(key: PeerKey, id: string): string {
  return `${key}\u0000${id}`;
}
