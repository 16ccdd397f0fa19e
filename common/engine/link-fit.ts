// Fitting one video stream to one receiver. In a mesh we encode every stream once per receiver,
// so each encoding can suit its own receiver: no larger than the receiver shows it, and no more
// than the link to it carries. This module is the decision only (pure, so it can be tested on
// made-up samples); link-fitter.ts reads the statistics and applies the result with
// RTCRtpSender.setParameters.
//
// The browser's own congestion control already adapts the bitrate of each connection; what it
// does late is the resolution (it lowers it only after the encoder has struggled for a while),
// and a large frame on a thin link is what freezes the picture: a 640×480 key frame of ~40 KB
// takes a second on a 300 kbit/s link. So the resolution follows the bandwidth estimate at once,
// and on loss or a growing round trip (a queue filling up somewhere) the bitrate is capped below
// what was being sent, then let up slowly once the link is calm again.
//
// Hysteresis, since every change of size costs a key frame: a step is left only when the budget
// is clearly past it (DOWN_MARGIN, UP_MARGIN); the picture gets smaller at once but larger only
// after UPGRADE_SAMPLES readings in a row allowed it; after a cut the cap holds for HOLD_SAMPLES
// readings before it may be cut again.

export interface PixelSize {
  readonly width: number;
  readonly height: number;
}

/** What the sender captures (track settings). */
export interface SourceVideo extends PixelSize {
  /** Frames per second; undefined where the engine does not say. */
  readonly frameRate?: number | undefined;
}

/** One reading of the link to the receiver (link-fit-stats.ts), every field optional: engines differ. */
export interface LinkSample {
  /** The connection's send-side bandwidth estimate (candidate pair `availableOutgoingBitrate`), bit/s. */
  readonly availableBps?: number | undefined;
  /** What this sender sent since the previous reading, bit/s. */
  readonly sentBps?: number | undefined;
  /** Share of packets the receiver reports lost (remote-inbound-rtp `fractionLost`), 0–1. */
  readonly loss?: number | undefined;
  /** Round-trip time, seconds (remote-inbound-rtp, else the candidate pair). */
  readonly rttS?: number | undefined;
  /** Video senders on this connection: they share its estimate. */
  readonly videoSenders: number;
  /** What the connection's other traffic (audio) needs, bit/s; RESERVED_BPS when unknown. */
  readonly reservedBps?: number | undefined;
}

export interface FitInput {
  /** Undefined where the track cannot say (werift): then only the bitrate is fitted. */
  readonly source: SourceVideo | undefined;
  /** How large the receiver shows the stream, in device pixels; undefined until it says. */
  readonly display: PixelSize | undefined;
  readonly link: LinkSample;
}

/** What to set on the sender's (single) encoding, and what the next decision needs to remember. */
export interface FitState {
  /** `scaleResolutionDownBy`, one of SCALE_LADDER. */
  readonly scale: number;
  /** `maxBitrate` in bit/s; undefined leaves the browser's own ceiling. */
  readonly maxBitrate: number | undefined;
  /** The cap set after loss or a growing round trip; undefined once the link is calm again. */
  readonly congestionCap: number | undefined;
  /** Readings in a row that allowed a larger picture than `scale`. */
  readonly upgradeVotes: number;
  /** Readings left before the congestion cap may be cut again. */
  readonly hold: number;
  /** Readings in a row without loss or queueing. */
  readonly calm: number;
  /** The smallest round trip seen: the link's own delay, without queues. */
  readonly minRttS: number | undefined;
  /** The scale the display asked for at the last reading. */
  readonly displayStep: number;
}

export const INITIAL_FIT: FitState = {
  scale: 1,
  maxBitrate: undefined,
  congestionCap: undefined,
  upgradeVotes: 0,
  hold: 0,
  calm: 0,
  minRttS: undefined,
  displayStep: 1,
};

/** The scales we use: a few steps, so that small changes of size or estimate change nothing. */
export const SCALE_LADDER: readonly number[] = [1, 1.5, 2, 3, 4, 6, 8];
/** Never asked of an encoder: below this a video is a smear, and congestion control can go lower itself. */
export const MIN_BITRATE_BPS = 60_000;
/** Kept out of the estimate for an audio track on the same connection (Opus with its overhead). */
export const RESERVED_BPS = 40_000;
/** Share of the estimate a video may plan with: estimates overshoot while a queue builds. */
export const ESTIMATE_HEADROOM = 0.85;
/**
 * Bits per pixel per frame below which a lower resolution looks better than a blocky full one
 * (VP8 and H.264 at conversational quality, ~0.04).
 */
export const BPP_FLOOR = 0.04;
/** Bits per pixel per frame above which more bitrate adds nothing visible; the ceiling of a scaled-down encoding. */
export const BPP_CEILING = 0.15;
/** Loss at which the bitrate is cut (a receiver's report covers about a second). */
export const LOSS_CUT = 0.08;
/** Loss below which a reading counts as calm. */
export const LOSS_CALM = 0.02;
/** Round trip above the link's own by this much: a queue is filling. */
export const QUEUE_RTT_S = 0.2;
export const UPGRADE_SAMPLES = 3;
/**
 * Margins around a step: smaller only when even 15% more budget would not do, larger only
 * when 20% less would still do. Every change of size costs a key frame, the largest frame of
 * all, which is what freezes a thin link.
 */
export const DOWN_MARGIN = 1.15;
export const UP_MARGIN = 0.8;
export const HOLD_SAMPLES = 2;
/** Calm readings before a congestion cap is let up, and by how much per reading. */
export const CALM_SAMPLES = 2;
export const RECOVERY_STEP = 1.15;
/** Calm readings after which a congestion cap goes, however far it has grown. */
export const RELEASE_SAMPLES = 10;
const DEFAULT_FRAME_RATE = 30;

/** The largest ladder step at most `scale` (for the display: never blurrier than shown). */
function floorToLadder(scale: number): number {
  let chosen = 1;
  for (const step of SCALE_LADDER) if (step <= scale + 1e-9) chosen = step;
  return chosen;
}

/** The smallest ladder step at least `scale` (for the bandwidth: never more than the link carries). */
function ceilToLadder(scale: number): number {
  for (const step of SCALE_LADDER) if (step >= scale - 1e-9) return step;
  return SCALE_LADDER[SCALE_LADDER.length - 1] ?? 1;
}

/**
 * How much smaller than the source the receiver shows it. The video is fitted inside its box
 * (object-fit: contain), so the side that fills the box sets the scale.
 */
export function displayScale(source: PixelSize, display: PixelSize): number {
  const scale = Math.max(source.width / display.width, source.height / display.height);
  return Math.max(1, scale);
}

/** How much smaller the picture must be for `budgetBps` to give it BPP_FLOOR bits per pixel. */
export function bandwidthScale(source: SourceVideo, budgetBps: number): number {
  const fps = source.frameRate ?? DEFAULT_FRAME_RATE;
  const affordable = Math.max(1, budgetBps) / (fps * BPP_FLOOR);
  return Math.max(1, Math.sqrt((source.width * source.height) / affordable));
}

/** The bitrate above which an encoding of `scale` gains nothing; undefined (browser's own) at full size. */
function ceilingFor(source: SourceVideo | undefined, scale: number): number | undefined {
  if (!source || scale <= 1) return undefined;
  const fps = source.frameRate ?? DEFAULT_FRAME_RATE;
  const pixels = (source.width / scale) * (source.height / scale);
  return Math.max(MIN_BITRATE_BPS * 2, Math.round(pixels * fps * BPP_CEILING));
}

/** The next encoding for one sender, from the last one and a fresh reading. */
export function decideFit(previous: FitState, input: FitInput): FitState {
  const { link, source, display } = input;
  const minRttS = link.rttS === undefined ? previous.minRttS : Math.min(previous.minRttS ?? link.rttS, link.rttS);
  const lossy = link.loss !== undefined && link.loss >= LOSS_CUT;
  const queueing = link.rttS !== undefined && minRttS !== undefined && link.rttS > minRttS + QUEUE_RTT_S;
  const calmReading = !lossy && !queueing && (link.loss === undefined || link.loss < LOSS_CALM);

  // Congestion: cut below what was actually sent, then hold; recover step by step when calm.
  let congestionCap = previous.congestionCap;
  let hold = Math.max(0, previous.hold - 1);
  let calm = calmReading ? previous.calm + 1 : 0;
  if ((lossy || queueing) && hold === 0) {
    const basis = link.sentBps ?? congestionCap ?? link.availableBps;
    if (basis !== undefined) {
      const cut = basis * (lossy ? 0.75 : 0.85);
      congestionCap = Math.max(MIN_BITRATE_BPS, Math.round(Math.min(cut, congestionCap ?? Number.POSITIVE_INFINITY)));
      hold = HOLD_SAMPLES;
      calm = 0;
    }
  } else if (congestionCap !== undefined && calm >= CALM_SAMPLES) {
    congestionCap = Math.round(congestionCap * RECOVERY_STEP);
  }

  // Resolution: the larger of what the display and what the bandwidth ask for.
  let scale = previous.scale;
  let upgradeVotes = 0;
  let displayStep = previous.displayStep;
  if (source) {
    const reserved = link.reservedBps ?? RESERVED_BPS;
    const share = link.availableBps === undefined ? undefined : (link.availableBps * ESTIMATE_HEADROOM - reserved) / Math.max(1, link.videoSenders);
    const budget = Math.min(share ?? Number.POSITIVE_INFINITY, congestionCap ?? Number.POSITIVE_INFINITY);
    const forDisplay = display ? floorToLadder(displayScale(source, display)) : 1;
    const forBandwidth = (margin: number) => (Number.isFinite(budget) ? ceilToLadder(bandwidthScale(source, budget * margin)) : 1);
    const smaller = Math.max(forDisplay, forBandwidth(DOWN_MARGIN));
    const wanted = Math.max(forDisplay, forBandwidth(UP_MARGIN));
    const displayGrew = forDisplay < displayStep;
    displayStep = forDisplay;
    if (smaller > previous.scale) {
      scale = smaller;
    } else if (wanted >= previous.scale) {
      // Within the margins: stay.
    } else if (displayGrew && forBandwidth(UP_MARGIN) <= forDisplay) {
      // The receiver shows it larger now (a resize) and the link allows it: at once.
      scale = wanted;
    } else {
      // The estimate allows a larger picture: only once several readings in a row agree.
      upgradeVotes = previous.upgradeVotes + 1;
      if (upgradeVotes >= UPGRADE_SAMPLES) {
        scale = wanted;
        upgradeVotes = 0;
      }
    }
  }

  // The ceiling is that of the size the display asks for, not of a smaller one the bandwidth
  // imposed: the browser's estimate never grows past the bitrate we allow, so a ceiling for the
  // small picture would hold the estimate, and with it the picture, small for good.
  const ceiling = ceilingFor(source, displayStep);
  // A cap that has grown past what this encoding can use, or a link calm for long, needs none.
  const outgrown = congestionCap !== undefined && congestionCap >= (ceiling ?? link.availableBps ?? Number.POSITIVE_INFINITY);
  if (congestionCap !== undefined && calm >= CALM_SAMPLES && (outgrown || calm >= RELEASE_SAMPLES)) congestionCap = undefined;
  const maxBitrate = congestionCap === undefined ? ceiling : Math.min(congestionCap, ceiling ?? congestionCap);
  return { scale, maxBitrate, congestionCap, upgradeVotes, hold, calm, minRttS, displayStep };
}

/**
 * Whether `next` is worth a setParameters call over `applied`: a new scale always, a bitrate
 * change of at least a tenth (the encoder restarts its rate control on every change).
 */
export function fitChanged(applied: Pick<FitState, "scale" | "maxBitrate"> | undefined, next: Pick<FitState, "scale" | "maxBitrate">): boolean {
  if (!applied) return next.scale !== 1 || next.maxBitrate !== undefined;
  if (applied.scale !== next.scale) return true;
  if (applied.maxBitrate === undefined || next.maxBitrate === undefined) return applied.maxBitrate !== next.maxBitrate;
  return Math.abs(next.maxBitrate - applied.maxBitrate) >= applied.maxBitrate * 0.1;
}
