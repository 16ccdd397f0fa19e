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

export const SHARE_KIND = "jellyfin";
export const SYNC_PROTOCOL = "meshmeet-watch-sync";
/** Jellyfin wants to hear where playback is now and then; every 10 s is what its clients do. */
const PROGRESS_REPORT_MS = 10_000;
const POSTER_PIXELS = 256;

export interface LocalShareView {
  readonly id: string;
  readonly mode: "relay" | "broadcast";
  readonly title: string;
  readonly video: HTMLVideoElement;
  readonly viewers: number;
  readonly stalledViewers: number;
}

export interface JoinedShareView {
  readonly key: PeerKey;
  readonly id: string;
  readonly title: string;
  readonly video: HTMLVideoElement | undefined;
  readonly status: "connecting" | "playing" | "failed";
  readonly message: string | undefined;
}

interface LocalShare {
  readonly id: string;
  readonly mode: "relay" | "broadcast";
  /** Broadcast mode: our player as tracks (the resource peers request). */
  readonly broadcast: MediaStream | undefined;
  readonly title: string;
  readonly source: ShareSource;
  readonly video: HTMLVideoElement;
  readonly player: HlsPlayer;
  readonly leader: SyncLeader;
  readonly servers: Set<MediaServer>;
  readonly client: JellyfinClient;
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
  private readonly joined = new Map<string, Joined>();
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly room: Room,
    private readonly onChange: () => void,
    /** Words for the user (a failed share or a viewer's trouble), said once each. */
    private readonly onNotice: (message: string) => void,
    /** Viewers may play, pause and seek the sharer's player. */
    private readonly viewersMayControl: () => boolean = () => false,
  ) {
    this.offs.push(room.events.on("channel", ({ key, id, channel }) => this.handleChannel(key, id, channel)));
    this.offs.push(room.events.on("resource-withdrawn", ({ key, id }) => this.leave(key, id, false)));
    this.offs.push(
      room.events.on("local-requested", ({ key, id, active }) => {
        if (this.local?.broadcast?.id !== id) return;
        if (active) this.broadcastViewers.add(key);
        else this.broadcastViewers.delete(key);
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
    return { id: share.id, mode: share.mode, title: share.title, video: share.video, viewers, stalledViewers: reports.filter((r) => r.stalled).length };
  }

  get joinedShares(): JoinedShareView[] {
    return [...this.joined.values()].map((j) => j.view);
  }

  isJoined(key: PeerKey, id: string): boolean {
    return this.joined.has(joinKey(key, id));
  }

  // ---- sharing --------------------------------------------------------------------------------

  /** Starts sharing (replacing a running share). Returns words for the user on failure. */
  async share(client: JellyfinClient, selection: ShareSelection, title: string, durationS: number): Promise<Result<void, string>> {
    await this.stopSharing();
    const id = crypto.randomUUID();
    const source = await ShareSource.open(client, id, selection);
    if (!source.ok) return err(source.error);
    const video = document.createElement("video");
    video.playsInline = true;
    const fetchLocal: FetchMedia = async (url) => {
      const result = await source.value.get(url);
      return result.ok ? result : err({ status: result.error.status, message: result.error.message });
    };
    let player: HlsPlayer;
    try {
      player = await playShare(video, source.value.masterUrl, fetchLocal);
    } catch (error) {
      await source.value.stop(0);
      return err(error instanceof Error ? error.message : String(error));
    }
    let broadcast: MediaStream | undefined;
    if (selection.mode === "broadcast") {
      const captured = await captureWhenPlaying(video);
      if (!captured.ok) {
        player.destroy();
        await source.value.stop(0);
        return err(captured.error);
      }
      broadcast = captured.value;
    }
    const meta: ShareMeta = { share: id, title, durationS, master: source.value.masterUrl };
    const leader = new SyncLeader(video, meta, this.viewersMayControl, this.onChange);
    const servers = new Set<MediaServer>();
    const session = () => ({
      itemId: selection.itemId,
      mediaSourceId: selection.mediaSourceId,
      playSessionId: source.value.playSessionId,
      positionTicks: Math.round(video.currentTime * 10_000_000),
      isPaused: video.paused,
    });
    void client.reportPlaying(session());
    const progressTimer = setInterval(() => void client.reportProgress(session()), PROGRESS_REPORT_MS);
    this.local = { id, mode: selection.mode, broadcast, title, source: source.value, video, player, leader, servers, client, progressTimer };
    if (broadcast) {
      // Ordinary tracks, labelled with the title: any client, keks-meet too, can show them.
      this.broadcastViewers.clear();
      this.room.provide({ info: { id: broadcast.id, kind: "track", trackKind: "video", label: title }, stream: broadcast });
      this.onChange();
      return ok(undefined);
    }
    const resource: LocalResource = {
      info: { id, kind: SHARE_KIND, label: title },
      openChannel: (channel, peer, _request, openAnother) => {
        const server = new MediaServer(channel, (url) => source.value.get(url), (message) => console.warn(`meshmeet: a viewer broke the media protocol: ${message}`));
        servers.add(server);
        channel.addEventListener("close", () => {
          servers.delete(server);
          this.onChange();
        });
        leader.addViewer(peer, openAnother(SYNC_PROTOCOL));
        this.onChange();
      },
    };
    this.room.provide(resource);
    void this.sendPoster(client, selection.itemId, id);
    void video.play().catch(() => undefined);
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
    share.player.destroy();
    this.onChange();
    await share.source.stop(position);
  }

  // ---- watching -------------------------------------------------------------------------------

  join(key: PeerKey, id: string): void {
    const k = joinKey(key, id);
    if (this.joined.has(k)) return;
    const title = this.room.peer(key)?.resources.get(id)?.info.label ?? "Shared video";
    this.joined.set(k, {
      view: { key, id, title, video: undefined, status: "connecting", message: undefined },
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

  /** Asks the sharer to play, pause or seek (obeyed only if the sharer allows it). */
  requestControl(key: PeerKey, id: string, action: "play" | "pause" | "seek", pos?: number): void {
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
      const player = await playShare(video, meta.master, fetchRemote, follower.expectedPosition());
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

  /** The poster as the share's preview (spec §3.8 previews), so others see it before joining. */
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
