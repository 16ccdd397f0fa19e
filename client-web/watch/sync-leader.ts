// The sharer is the clock. Its <video> state goes to every viewer's control channel on every
// change and once a second; viewers estimate their clock offset with ping/pong and report their
// buffer; a viewer may ask to play, pause or seek when the sharer allows it.

import { encodeSyncMessage, parseSyncMessage, type SyncMessage } from "../../common/watch-together/sync-protocol.js";

/**
 * "Wait for slow viewers": a viewer stalled this long pauses the share until
 * every viewer has READY_AHEAD_S buffered, or HOLD_MAX_MS has passed (one viewer on a bad link
 * must not hold everyone forever).
 */
const STALL_HOLD_AFTER_MS = 2_000;
const READY_AHEAD_S = 4;
const HOLD_MAX_MS = 15_000;

/** Viewers also correct between changes; a heartbeat keeps a late joiner and drift in check. */
const HEARTBEAT_MS = 1000;
const VIDEO_EVENTS = ["play", "pause", "seeked", "seeking", "ratechange", "waiting", "playing", "canplay"] as const;

/** This page's clock in ms, comparable across pages once the offset is known. */
export function clockNow(): number {
  return performance.timeOrigin + performance.now();
}

export interface ShareMeta {
  readonly share: string;
  readonly title: string;
  readonly durationS: number;
  readonly master: string;
}

export interface ViewerReport {
  readonly pos: number;
  readonly ahead: number;
  readonly stalled: boolean;
}

export interface LeaderOptions {
  /** Whether viewers' play/pause/seek/next requests are obeyed. */
  readonly allowViewerControl: () => boolean;
  /** Whether a stalled viewer pauses the share until everyone has caught up. */
  readonly waitForViewers: () => boolean;
  readonly onViewersChange: () => void;
  /** A viewer asked for the next item (obeyed only when viewers may control). */
  readonly onNextRequested: () => void;
}

export class SyncLeader {
  private readonly channels = new Map<string, RTCDataChannel>();
  private readonly reports = new Map<string, ViewerReport>();
  private epoch = 1;
  private seq = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private buffering = false;

  /** Since when each viewer has been stalled (performance.now()), for the wait policy. */
  private readonly stalledSince = new Map<string, number>();
  /** Set while we paused the share to let stalled viewers catch up. */
  private hold: { readonly since: number } | undefined;
  /** Our own play() ending a hold, as opposed to the sharer pressing play. */
  private resumingForHold = false;

  constructor(
    private readonly video: HTMLVideoElement,
    private meta: ShareMeta,
    private readonly options: LeaderOptions,
  ) {
    for (const type of VIDEO_EVENTS) video.addEventListener(type, this.onVideoEvent);
    this.timer = setInterval(() => {
      this.applyWaitPolicy();
      this.broadcastState();
    }, HEARTBEAT_MS);
  }

  /** True while the share is paused for viewers to catch up. */
  get holding(): boolean {
    return this.hold !== undefined;
  }

  get viewerReports(): ReadonlyMap<string, ViewerReport> {
    return this.reports;
  }

  /** A viewer's control channel (opened by us); it gets the share's description, then the state. */
  addViewer(viewer: string, channel: RTCDataChannel): void {
    this.channels.get(viewer)?.close();
    this.channels.set(viewer, channel);
    const greet = (): void => {
      this.send(channel, { t: "meta", share: this.meta.share, title: this.meta.title, durationS: this.meta.durationS, master: this.meta.master, epoch: this.epoch });
      this.send(channel, this.state());
    };
    if (channel.readyState === "open") greet();
    else channel.addEventListener("open", greet, { once: true });
    channel.addEventListener("message", (event) => this.onMessage(viewer, channel, event));
    channel.addEventListener("close", () => {
      if (this.channels.get(viewer) !== channel) return;
      this.channels.delete(viewer);
      this.reports.delete(viewer);
      this.stalledSince.delete(viewer);
      this.applyWaitPolicy();
      this.options.onViewersChange();
    });
  }

  /** The sharer changed whether viewers may control: tell them now. */
  controlChanged(): void {
    this.broadcastState();
  }

  /** Another item from the queue: viewers reload from `meta.master`. */
  changeItem(meta: ShareMeta): void {
    this.meta = meta;
    this.epoch++;
    for (const channel of this.channels.values()) {
      this.send(channel, { t: "meta", share: meta.share, title: meta.title, durationS: meta.durationS, master: meta.master, epoch: this.epoch });
    }
    this.broadcastState();
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const type of VIDEO_EVENTS) this.video.removeEventListener(type, this.onVideoEvent);
    for (const channel of this.channels.values()) {
      this.send(channel, { t: "end" });
      channel.close();
    }
    this.channels.clear();
  }

  /** Pauses for a viewer stalled too long; plays again once everyone is ready (or after a cap). */
  private applyWaitPolicy(): void {
    const now = performance.now();
    if (this.hold) {
      // Near the end there is less than READY_AHEAD_S left to buffer.
      const remaining = Number.isFinite(this.video.duration) ? Math.max(0, this.video.duration - this.video.currentTime - 0.1) : Infinity;
      const needed = Math.min(READY_AHEAD_S, remaining);
      const ready = [...this.reports.values()].every((r) => !r.stalled && r.ahead >= needed);
      if (ready || !this.options.waitForViewers() || now - this.hold.since > HOLD_MAX_MS) {
        this.hold = undefined;
        this.resumingForHold = true;
        void this.video
          .play()
          .catch(() => undefined)
          .finally(() => (this.resumingForHold = false));
        this.options.onViewersChange();
      }
      return;
    }
    if (!this.options.waitForViewers() || this.video.paused) return;
    const stalledLong = [...this.stalledSince.values()].some((since) => now - since >= STALL_HOLD_AFTER_MS);
    if (!stalledLong) return;
    this.hold = { since: now };
    this.video.pause(); // viewers follow: the state says paused
    this.options.onViewersChange();
  }

  private readonly onVideoEvent = (event: Event): void => {
    // The sharer took over during a hold (pressed play): the hold is over, and we must not
    // resume later against a pause they may choose next.
    if (event.type === "play" && this.hold && !this.resumingForHold) {
      this.hold = undefined;
      // A viewer still stalled is counted afresh from its next report, not held against at once.
      this.stalledSince.clear();
      this.options.onViewersChange();
    }
    if (event.type === "waiting") this.buffering = true;
    if (event.type === "playing" || event.type === "canplay" || event.type === "pause") this.buffering = false;
    this.broadcastState();
  };

  private state(): SyncMessage {
    return {
      t: "state",
      epoch: this.epoch,
      seq: ++this.seq,
      playing: !this.video.paused,
      buffering: this.buffering,
      pos: this.video.currentTime,
      rate: this.video.playbackRate,
      at: clockNow(),
      control: this.options.allowViewerControl(),
      waiting: [...this.reports.values()].filter((r) => r.stalled).length,
    };
  }

  private broadcastState(): void {
    if (this.channels.size === 0) return;
    const state = this.state();
    for (const channel of this.channels.values()) this.send(channel, state);
  }

  private onMessage(viewer: string, channel: RTCDataChannel, event: MessageEvent): void {
    const received = clockNow();
    if (typeof event.data !== "string") return channel.close();
    const parsed = parseSyncMessage(event.data);
    if (!parsed.ok) return channel.close(); // a viewer that breaks the protocol loses the share
    const message = parsed.value;
    switch (message.t) {
      case "ping":
        this.send(channel, { t: "pong", t0: message.t0, t1: received, t2: clockNow() });
        return;
      case "vstate": {
        const before = this.reports.get(viewer)?.stalled;
        this.reports.set(viewer, { pos: message.pos, ahead: message.ahead, stalled: message.stalled });
        if (!message.stalled) this.stalledSince.delete(viewer);
        else if (!this.stalledSince.has(viewer)) this.stalledSince.set(viewer, performance.now());
        this.applyWaitPolicy();
        // Everyone hears at once when someone starts or stops waiting for the video.
        if (before !== message.stalled) this.broadcastState();
        this.options.onViewersChange();
        return;
      }
      case "req":
        if (!this.options.allowViewerControl()) return;
        if (message.action === "play") void this.video.play().catch(() => undefined);
        else if (message.action === "pause") this.video.pause();
        else if (message.action === "seek" && message.pos !== undefined) this.video.currentTime = Math.min(message.pos, this.video.duration || message.pos);
        else if (message.action === "next") this.options.onNextRequested();
        return;
      default:
        return; // nothing else is for the sharer
    }
  }

  private send(channel: RTCDataChannel, message: SyncMessage): void {
    if (channel.readyState !== "open") return;
    try {
      channel.send(encodeSyncMessage(message));
    } catch {
      channel.close();
    }
  }
}
