// A viewer follows the sharer's clock: it estimates the offset between the two pages' clocks
// (ping/pong, lowest round trip wins), and every 250 ms and on every state steers its <video>
// with the drift controller: a gentle playback-rate nudge for small errors, a seek for large
// ones, pause and play as the sharer does.

import { ClockOffset } from "../../common/watch-together/clock.js";
import { decide } from "../../common/watch-together/drift.js";
import { encodeSyncMessage, parseSyncMessage, type SyncMessage } from "../../common/watch-together/sync-protocol.js";
import { clockNow, type ShareMeta } from "./sync-leader.js";

const CONTROL_INTERVAL_MS = 250;
const REPORT_INTERVAL_MS = 2000;
/** Five quick samples at the start give a good offset before playback matters; then a slow refresh. */
const EARLY_PINGS = 5;
const EARLY_PING_INTERVAL_MS = 200;
const PING_INTERVAL_MS = 10_000;

type State = Extract<SyncMessage, { t: "state" }>;

export interface FollowerEvents {
  /** The share's description arrived or the item changed: (re)load `meta.master`. */
  meta(meta: ShareMeta & { epoch: number }): void;
  end(): void;
  /** What the viewer's interface shows of the sharer changed (control allowed, others waiting). */
  status(status: FollowerStatus): void;
}

export interface FollowerStatus {
  readonly control: boolean;
  readonly waiting: number;
  readonly playing: boolean;
}

export class SyncFollower {
  private readonly clock = new ClockOffset();
  private state: State | undefined;
  private epoch = 0;
  private timers: Array<ReturnType<typeof setInterval>> = [];
  private seekLeadS = 0.3;
  private seekStartedAt: number | undefined;
  private video: HTMLVideoElement | undefined;
  private closed = false;
  private pendingMeta: (ShareMeta & { epoch: number }) | undefined;

  constructor(
    private readonly channel: RTCDataChannel,
    private readonly events: FollowerEvents,
  ) {
    channel.addEventListener("message", this.onMessage);
    channel.addEventListener("close", this.onClose);
    const start = (): void => {
      for (let i = 0; i < EARLY_PINGS; i++) setTimeout(() => this.ping(), i * EARLY_PING_INTERVAL_MS);
      this.timers.push(setInterval(() => this.ping(), PING_INTERVAL_MS));
      this.timers.push(setInterval(() => this.report(), REPORT_INTERVAL_MS));
      this.timers.push(setInterval(() => this.steer(), CONTROL_INTERVAL_MS));
    };
    if (channel.readyState === "open") start();
    else channel.addEventListener("open", start, { once: true });
  }

  /** The player to steer (after each load). */
  attach(video: HTMLVideoElement | undefined): void {
    this.video?.removeEventListener("seeked", this.onSeeked);
    this.video = video;
    video?.addEventListener("seeked", this.onSeeked);
    this.steer();
  }

  /** Where the sharer is now, by our estimate (for a new player's start position). */
  expectedPosition(): number {
    const state = this.state;
    if (!state) return 0;
    const elapsed = state.playing && !state.buffering ? (this.sharerNow() - state.at) / 1000 : 0;
    return state.pos + elapsed * state.rate;
  }

  /** Current estimate, for tests and the debug view. */
  get offsetMs(): number | undefined {
    return this.clock.offsetMs;
  }

  request(action: "play" | "pause" | "seek" | "next", pos?: number): void {
    this.send(pos === undefined ? { t: "req", action } : { t: "req", action, pos });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.attach(undefined);
    this.channel.removeEventListener("message", this.onMessage);
    this.channel.removeEventListener("close", this.onClose);
    this.channel.close();
  }

  private sharerNow(): number {
    return clockNow() + (this.clock.offsetMs ?? 0);
  }

  private readonly onMessage = (event: MessageEvent): void => {
    const received = clockNow();
    if (typeof event.data !== "string") return this.close();
    const parsed = parseSyncMessage(event.data);
    if (!parsed.ok) return this.close();
    const message = parsed.value;
    switch (message.t) {
      case "meta":
        if (message.epoch === this.epoch) return;
        this.epoch = message.epoch;
        this.state = undefined;
        // Announced once we know where the sharer is (its next state) and our clock offset, so
        // the player starts there instead of at 0 and then jumping.
        this.pendingMeta = { share: message.share, title: message.title, durationS: message.durationS, master: message.master, epoch: message.epoch };
        this.announceWhenReady();
        return;
      case "state":
        // Stale (reordered or from the previous item) states are ignored.
        if (message.epoch !== this.epoch || (this.state && message.seq <= this.state.seq)) return;
        {
          const before = this.state;
          this.state = message;
          if (
            before?.control !== message.control ||
            before?.waiting !== message.waiting ||
            before?.playing !== message.playing
          ) {
            this.events.status({ control: message.control === true, waiting: message.waiting ?? 0, playing: message.playing });
          }
        }
        this.announceWhenReady();
        this.steer();
        return;
      case "pong":
        this.clock.addSample(message.t0, message.t1, message.t2, received);
        this.announceWhenReady();
        return;
      case "end":
        this.events.end();
        this.close();
        return;
      default:
        return;
    }
  };

  private announceWhenReady(): void {
    const meta = this.pendingMeta;
    if (!meta || !this.state || this.clock.offsetMs === undefined) return;
    this.pendingMeta = undefined;
    this.events.meta(meta);
  }

  private steer(): void {
    const video = this.video;
    const state = this.state;
    if (!video || !state || video.readyState === 0 || this.clock.offsetMs === undefined) return;
    const decision = decide({
      sharer: { playing: state.playing, buffering: state.buffering, pos: state.pos, rate: state.rate, at: state.at },
      sharerNow: this.sharerNow(),
      local: { currentTime: video.currentTime, paused: video.paused, bufferedAhead: bufferedAhead(video), bufferedBehind: bufferedBehind(video) },
      seekLeadS: this.seekLeadS,
    });
    if (decision.seekTo !== undefined && !video.seeking) {
      this.seekStartedAt = performance.now();
      video.currentTime = decision.seekTo;
    }
    if (video.playbackRate !== decision.rate) video.playbackRate = decision.rate;
    if (decision.play && video.paused) void video.play().catch(() => undefined);
    if (!decision.play && !video.paused) video.pause();
  }

  /** How long a seek takes to land, so the next one aims that far ahead. */
  private readonly onSeeked = (): void => {
    if (this.seekStartedAt === undefined) return;
    const took = (performance.now() - this.seekStartedAt) / 1000;
    this.seekStartedAt = undefined;
    this.seekLeadS = Math.min(3, 0.7 * this.seekLeadS + 0.3 * took);
  };

  private ping(): void {
    this.send({ t: "ping", t0: clockNow() });
  }

  private report(): void {
    const video = this.video;
    if (!video) return;
    this.send({ t: "vstate", epoch: this.epoch, pos: video.currentTime, ahead: bufferedAhead(video), stalled: video.readyState < 3 && !video.paused });
  }

  private send(message: SyncMessage): void {
    if (this.closed || this.channel.readyState !== "open") return;
    try {
      this.channel.send(encodeSyncMessage(message));
    } catch {
      this.close();
    }
  }

  private readonly onClose = (): void => {
    this.events.end();
    this.close();
  };
}

function bufferedBehind(video: HTMLVideoElement): number {
  const t = video.currentTime;
  for (let i = 0; i < video.buffered.length; i++) {
    if (video.buffered.start(i) <= t && t <= video.buffered.end(i) + 0.1) return t - video.buffered.start(i);
  }
  return 0;
}

function bufferedAhead(video: HTMLVideoElement): number {
  const t = video.currentTime;
  for (let i = 0; i < video.buffered.length; i++) {
    if (video.buffered.start(i) <= t + 0.1 && t <= video.buffered.end(i)) return video.buffered.end(i) - t;
  }
  return 0;
}
