// The viewer's drift controller as a pure function, run on every sharer
// state and every 250 ms: where should the sharer be now, and how do we get our <video> there
// without the viewer noticing? Small errors are absorbed by a slight playback-rate change
// (pitch is preserved), large ones by a seek, which stutters but is the only way to jump.

/**
 * Above this error a rate nudge would take too long (2 s at ±10 % is 20 s of visibly wrong
 * speed), so we seek instead.
 */
export const HARD_SEEK_ERROR_S = 2;

/**
 * Above this error, when the target is already buffered, a seek costs a few tens of
 * milliseconds and no download: cheaper than several seconds of a rate nudge (0.25 s at 10 %
 * takes 2.5 s). A viewer that just started (its player needs a moment to load) lands in sync
 * this way instead of creeping up on the sharer.
 */
export const BUFFERED_SEEK_ERROR_S = 0.25;

/**
 * Within this error we play at the sharer's rate. The controller settles just inside it, so it
 * is half of the 100 ms we promise (about lip-sync tolerance), and still above the noise of
 * currentTime and of the clock offset estimate (about ±20 ms) so the rate does not hunt.
 */
export const IN_SYNC_ERROR_S = 0.04;

/**
 * While the sharer is paused a seek is invisible, so the window is tighter than when playing,
 * but still wider than IN_SYNC_ERROR_S so frame-accurate seeks don't repeat on rounding.
 */
export const PAUSED_SEEK_ERROR_S = 0.25;

/**
 * Proportional gain: the correction reaches its cap at 0.2 s of error and fades out as the error
 * shrinks, so we converge without overshooting past the other side.
 */
export const RATE_GAIN = 0.5;

/** ±10 % speed change is hard to notice with pitch preserved, and fast enough to catch up. */
export const MAX_RATE_CORRECTION = 0.1;

export interface SharerState {
  readonly playing: boolean;
  readonly buffering: boolean;
  /** Media time in seconds at `at`. */
  readonly pos: number;
  readonly rate: number;
  /** Sharer clock, ms. */
  readonly at: number;
}

export interface LocalState {
  readonly currentTime: number;
  readonly paused: boolean;
  /** Seconds buffered after `currentTime`. */
  readonly bufferedAhead: number;
  /** Seconds buffered before `currentTime` (default 0: unknown, so no cheap backward seek). */
  readonly bufferedBehind?: number;
}

export interface DriftInput {
  readonly sharer: SharerState;
  /** Now, on the sharer's clock (ms): local clock + estimated offset. */
  readonly sharerNow: number;
  readonly local: LocalState;
  /** How long a seek takes to start playing again (s); a playing seek aims that far ahead. */
  readonly seekLeadS: number;
}

export interface DriftDecision {
  /** Whether the <video> should be playing. */
  readonly play: boolean;
  /** Set `currentTime` to this, when present. */
  readonly seekTo?: number;
  /** The `playbackRate` to use. */
  readonly rate: number;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Where the sharer's media is now (s). A paused or buffering sharer stands still. */
export function expectedPosition(sharer: SharerState, sharerNow: number): number {
  const moving = sharer.playing && !sharer.buffering;
  return sharer.pos + (moving ? ((sharerNow - sharer.at) / 1000) * sharer.rate : 0);
}

export function decide(input: DriftInput): DriftDecision {
  const { sharer, local } = input;
  // The sharer's rate is the base (a sharer at 1.5× should not make us seek every few seconds);
  // with the usual rate 1 this is exactly the spec's 1 − clamp(…).
  const baseRate = Number.isFinite(sharer.rate) && sharer.rate > 0 ? sharer.rate : 1;
  const expected = expectedPosition(sharer, input.sharerNow);
  const error = local.currentTime - expected;
  // Garbage in (NaN from a detached element, say): change nothing rather than seek to NaN.
  if (!Number.isFinite(error)) return { play: !local.paused, rate: baseRate };

  if (!sharer.playing || sharer.buffering) {
    return Math.abs(error) > PAUSED_SEEK_ERROR_S ? { play: false, seekTo: Math.max(0, expected), rate: baseRate } : { play: false, rate: baseRate };
  }

  // Behind by more than we have buffered: the target is not in the buffer, so playing faster
  // would only stall; jump there (a little ahead, as the seek itself takes time).
  const notBuffered = error < 0 && -error > local.bufferedAhead;
  if (Math.abs(error) > HARD_SEEK_ERROR_S || notBuffered) {
    const lead = Number.isFinite(input.seekLeadS) && input.seekLeadS > 0 ? input.seekLeadS * baseRate : 0;
    return { play: true, seekTo: Math.max(0, expected + lead), rate: baseRate };
  }
  const lead = Number.isFinite(input.seekLeadS) && input.seekLeadS > 0 ? input.seekLeadS * baseRate : 0;
  // How far the seek would jump from where we are: forward needs buffer ahead, backward behind.
  const jump = lead - error;
  // Slightly ahead (less than the lead) would mean seeking further ahead: a slowdown is gentler.
  const inBuffer = jump >= 0 ? error < 0 && jump <= local.bufferedAhead : -jump <= (local.bufferedBehind ?? 0);
  if (Math.abs(error) > BUFFERED_SEEK_ERROR_S && inBuffer) return { play: true, seekTo: Math.max(0, expected + lead), rate: baseRate };
  if (Math.abs(error) <= IN_SYNC_ERROR_S) return { play: true, rate: baseRate };
  // Ahead (error > 0) → slower, behind → faster.
  return { play: true, rate: baseRate * (1 - clamp(RATE_GAIN * error, -MAX_RATE_CORRECTION, MAX_RATE_CORRECTION)) };
}
