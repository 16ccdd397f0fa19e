// Applies link fitting (link-fit.ts) to the video we send on one connection: every
// FIT_SAMPLE_MS it reads the connection's statistics, decides per video sender, and sets
// `scaleResolutionDownBy` / `maxBitrate` on its encoding when the decision changed enough.
//
// Engines differ: werift (Node) has neither track settings nor a bandwidth estimate, and its
// setParameters is synchronous and only stores the values. Whatever is missing makes the
// decision use less; a sender whose setParameters keeps failing is left alone.

import { decideFit, fitChanged, INITIAL_FIT, RESERVED_BPS, type FitState, type PixelSize, type SourceVideo } from "./link-fit.js";
import { readLinkStats, sentRate, type SentTrackReading } from "./link-fit-stats.js";
import type { StatsLike } from "./connection-path.js";
import { silentLogger, type Logger } from "./platform.js";

/** How often the link is read: loss reports come about once a second. */
export const FIT_SAMPLE_MS = 1_000;
/** setParameters failures after which a sender is no longer fitted. */
const MAX_FAILURES = 3;

export interface LinkFitterOptions {
  readonly connection: RTCPeerConnection;
  /** The resource id (stream id) a sent track belongs to; undefined for tracks that are not ours to fit. */
  readonly streamOf: (track: MediaStreamTrack) => string | undefined;
  readonly intervalMs?: number;
  readonly logger?: Logger;
}

interface SenderFit {
  fit: FitState;
  applied: Pick<FitState, "scale" | "maxBitrate"> | undefined;
  reading: SentTrackReading | undefined;
  failures: number;
  busy: boolean;
}

export class LinkFitter {
  private readonly connection: RTCPeerConnection;
  private readonly streamOf: LinkFitterOptions["streamOf"];
  private readonly log: (level: Parameters<Logger>[0], message: string, fields?: Record<string, unknown>) => void;
  private readonly displays = new Map<string, PixelSize>();
  private readonly senders = new Map<RTCRtpSender, SenderFit>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private sampling = false;

  constructor(options: LinkFitterOptions) {
    this.connection = options.connection;
    this.streamOf = options.streamOf;
    const logger = options.logger ?? silentLogger;
    this.log = (level, message, fields) => logger(level, "link-fit", message, fields);
    this.timer = setInterval(() => void this.sample(), options.intervalMs ?? FIT_SAMPLE_MS);
  }

  /** The receiver shows stream `streamId` at this size (device pixels). */
  setDisplaySize(streamId: string, size: PixelSize): void {
    this.displays.set(streamId, { width: size.width, height: size.height });
  }

  /** We stopped sending `streamId`: its display size no longer applies. */
  forget(streamId: string): void {
    this.displays.delete(streamId);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.senders.clear();
  }

  private async sample(): Promise<void> {
    if (this.sampling || this.timer === undefined) return; // a slow getStats must not pile up
    const video = this.videoSenders();
    for (const sender of this.senders.keys()) if (!video.includes(sender)) this.senders.delete(sender);
    if (video.length === 0) return;
    this.sampling = true;
    try {
      const reports: StatsLike[] = [];
      (await this.connection.getStats()).forEach((report: StatsLike) => reports.push(report));
      if (this.timer === undefined) return;
      const link = readLinkStats(reports);
      for (const sender of video) {
        const track = sender.track;
        const streamId = track ? this.streamOf(track) : undefined;
        if (!track || streamId === undefined) continue;
        const state = this.senders.get(sender) ?? { fit: INITIAL_FIT, applied: undefined, reading: undefined, failures: 0, busy: false };
        this.senders.set(sender, state);
        if (state.failures >= MAX_FAILURES || state.busy) continue;
        const reading = link.tracks.get(track.id);
        state.fit = decideFit(state.fit, {
          source: sourceOf(track),
          display: this.displays.get(streamId),
          link: {
            availableBps: link.availableBps,
            sentBps: reading ? sentRate(state.reading, reading) : undefined,
            loss: reading?.loss,
            rttS: reading?.rttS ?? link.pairRttS,
            videoSenders: video.length,
            reservedBps: RESERVED_BPS * this.audioSenders(),
          },
        });
        if (reading) state.reading = reading;
        if (fitChanged(state.applied, state.fit)) void this.apply(sender, state);
      }
    } catch (error) {
      this.log("debug", "could not read statistics for link fitting", { error: String(error) });
    } finally {
      this.sampling = false;
    }
  }

  private audioSenders(): number {
    try {
      return this.connection.getSenders().filter((sender) => sender.track?.kind === "audio").length;
    } catch {
      return 0;
    }
  }

  private videoSenders(): RTCRtpSender[] {
    try {
      return this.connection.getSenders().filter((sender) => sender.track?.kind === "video");
    } catch {
      return []; // closed
    }
  }

  private async apply(sender: RTCRtpSender, state: SenderFit): Promise<void> {
    const next = { scale: state.fit.scale, maxBitrate: state.fit.maxBitrate };
    state.busy = true;
    try {
      if (typeof sender.getParameters !== "function" || typeof sender.setParameters !== "function") throw new Error("no RTCRtpSender parameters");
      const parameters = sender.getParameters();
      const encoding = parameters.encodings?.[0];
      if (!encoding) return; // not negotiated yet: the next reading tries again
      encoding.scaleResolutionDownBy = next.scale;
      if (next.maxBitrate === undefined) delete encoding.maxBitrate;
      else encoding.maxBitrate = next.maxBitrate;
      // werift's setParameters returns nothing; browsers' a promise.
      await Promise.resolve(sender.setParameters(parameters));
      state.applied = next;
      state.failures = 0;
      this.log("debug", "fitted a video encoding", { scale: next.scale, maxBitrate: next.maxBitrate });
    } catch (error) {
      state.failures++;
      this.log(state.failures >= MAX_FAILURES ? "info" : "debug", "could not fit a video encoding", { error: String(error), failures: state.failures });
    } finally {
      state.busy = false;
    }
  }
}

/** The captured size, where the engine says (browsers do; werift's tracks have no settings). */
function sourceOf(track: MediaStreamTrack): SourceVideo | undefined {
  const settings = typeof track.getSettings === "function" ? track.getSettings() : undefined;
  const { width, height, frameRate } = settings ?? {};
  if (!width || !height) return undefined;
  return { width, height, frameRate };
}
