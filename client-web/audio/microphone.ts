// One shared microphone: the device, the audio graph behind it, mute, and the prefs that can
// change while it runs. Peers get the graph's output track, which stays the same track whatever
// happens here, so nothing is ever renegotiated.
//
// Muted for RELEASE_AFTER_MS, the device is closed (the browser's recording indicator goes off)
// and reopened on unmute; until then the graph sends silence.

import type { RnnoiseWorkletNode } from "@sapphi-red/web-noise-suppressor";
import { err, ok, type Result } from "../../common/result.js";
import { captureRawMicrophone, microphoneConstraints, stopMedia, type CaptureError, type MicrophonePrefs } from "../media/capture.js";
import { MicrophoneGraph } from "./microphone-graph.js";
import type { RnnoiseLoader } from "./rnnoise.js";
import type { AudioLease, SharedAudioContext } from "./shared-audio-context.js";

/**
 * Long enough that a quick mute (a cough, push-to-talk between sentences) keeps the device open
 * and unmutes instantly; short enough that a muted listener soon sees the indicator go off.
 * Reopening costs about 50–300 ms, and the first syllable after a long mute may be lost.
 */
export const RELEASE_AFTER_MS = 10_000;

/** What the interface shows of a microphone. */
export interface MicrophoneState {
  readonly muted: boolean;
  /** False once muted long enough that the device was closed. */
  readonly deviceOpen: boolean;
  /** RNNoise is in the path. */
  readonly suppressing: boolean;
}

/**
 * The microphone waits this long for RNNoise (normally a few tens of ms: the WASM is cached after
 * the first load) and then starts without it rather than hang; RNNoise joins when it arrives.
 */
export const SUPPRESSOR_WAIT_MS = 3_000;

export interface MicrophoneDeps {
  readonly audio: SharedAudioContext;
  readonly rnnoise: Pick<RnnoiseLoader, "createNode">;
  /** Tests shorten these. */
  readonly releaseAfterMs?: number;
  readonly suppressorWaitMs?: number;
  /** RNNoise joined late, or failed late: the state to show changed. */
  readonly onSuppressionChange?: () => void;
  /** The device went away on its own (unplugged, permission revoked): the owner stops us. */
  readonly onDeviceLost: () => void;
}

export class Microphone {
  private device: MediaStream | undefined;
  private mutedNow = false;
  private releaseTimer: ReturnType<typeof setTimeout> | undefined;
  private reopening: Promise<Result<void, CaptureError>> | undefined;
  private stopped = false;

  private constructor(
    private prefs: MicrophonePrefs,
    private readonly deps: MicrophoneDeps,
    private readonly lease: AudioLease,
    private readonly graph: MicrophoneGraph,
    /** Why RNNoise is not running although `rnnoise` is on; undefined when all is well. */
    private suppressionFailure: string | undefined,
    device: MediaStream,
  ) {
    this.attach(device);
  }

  /** Opens the device and builds the graph. Without RNNoise (it failed) it still works. */
  static async open(prefs: MicrophonePrefs, deps: MicrophoneDeps): Promise<Result<Microphone, CaptureError>> {
    const lease = deps.audio.acquire();
    // In parallel: the permission prompt and the WASM download do not wait for each other.
    const loading = prefs.rnnoise === true ? loadSuppressor(deps.rnnoise, lease.context) : undefined;
    const device = await captureRawMicrophone(prefs);
    if (!device.ok) {
      void loading?.then((s) => s.ok && s.value.destroy());
      lease.release();
      return device;
    }
    const suppressor = loading && (await settledWithin(loading, deps.suppressorWaitMs ?? SUPPRESSOR_WAIT_MS));
    const graph = new MicrophoneGraph(lease.context, suppressor?.ok ? suppressor.value : undefined);
    graph.setLevel(prefs.microphone_gain ?? 1);
    const failure = suppressor && !suppressor.ok ? suppressor.error : undefined;
    const microphone = new Microphone(prefs, deps, lease, graph, failure, device.value);
    if (loading && suppressor === undefined) {
      // Late: run without it now, and put it in once it is here.
      void loading.then((late) => microphone.adoptLateSuppressor(late));
    }
    // RNNoise asked the browser not to suppress; without RNNoise the browser's own pass applies.
    if (loading && !suppressor?.ok) await microphone.applyDeviceConstraints();
    return ok(microphone);
  }

  /** What peers get; the same stream for the microphone's whole life. */
  get stream(): MediaStream {
    return this.graph.stream;
  }

  get muted(): boolean {
    return this.mutedNow;
  }

  /** False while muted long enough that the device was closed. */
  get deviceOpen(): boolean {
    return this.device !== undefined;
  }

  get suppressing(): boolean {
    return this.graph.isSuppressing;
  }

  /** Why noise suppression is not running although it was asked for (say it once). */
  get suppressionError(): string | undefined {
    return this.suppressionFailure;
  }

  /** Unmuting may have to reopen the device, which can fail (it stays muted then). */
  async setMuted(muted: boolean): Promise<Result<void, CaptureError>> {
    if (this.stopped) return ok(undefined);
    if (muted) {
      this.mutedNow = true;
      this.graph.setMuted(true);
      this.releaseTimer ??= setTimeout(() => this.releaseDevice(), this.deps.releaseAfterMs ?? RELEASE_AFTER_MS);
      return ok(undefined);
    }
    if (this.releaseTimer !== undefined) clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
    if (!this.device) {
      const reopened = await (this.reopening ??= this.reopen().finally(() => (this.reopening = undefined)));
      if (!reopened.ok) return reopened;
      // A mute (or stop) that came while the device was opening wins.
      if (this.stopped || this.releaseTimer !== undefined) return ok(undefined);
    }
    this.mutedNow = false;
    this.graph.setMuted(false);
    return ok(undefined);
  }

  /** Applies changed prefs live: gain, RNNoise on/off, the browser's processing switches. */
  async updatePrefs(prefs: MicrophonePrefs): Promise<void> {
    const previous = this.prefs;
    this.prefs = prefs;
    if (this.stopped) return;
    if (prefs.microphone_gain !== previous.microphone_gain) this.graph.setLevel(prefs.microphone_gain ?? 1);
    if (prefs.rnnoise === true && !this.graph.hasSuppressor && this.suppressionFailure === undefined) {
      // Switched on after the microphone started without it: load it now.
      const suppressor = await loadSuppressor(this.deps.rnnoise, this.lease.context);
      if (this.stopped) {
        if (suppressor.ok) suppressor.value.destroy();
        return;
      }
      if (suppressor.ok) this.graph.installSuppressor(suppressor.value);
      else this.suppressionFailure = suppressor.error;
    }
    if (prefs.rnnoise !== previous.rnnoise) this.graph.setSuppressing(prefs.rnnoise === true);
    if (
      prefs.rnnoise !== previous.rnnoise ||
      prefs.native_noise_suppression !== previous.native_noise_suppression ||
      prefs.echo_cancellation !== previous.echo_cancellation ||
      prefs.auto_gain_control !== previous.auto_gain_control
    ) {
      await this.applyDeviceConstraints();
    }
  }

  /** Closes the device and the graph; the shared track ends. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.releaseTimer !== undefined) clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
    this.closeDevice();
    this.graph.release();
    this.lease.release();
  }

  private adoptLateSuppressor(late: Result<RnnoiseWorkletNode, string>): void {
    if (this.stopped) {
      if (late.ok) late.value.destroy();
      return;
    }
    if (late.ok) {
      this.graph.installSuppressor(late.value);
      this.graph.setSuppressing(this.prefs.rnnoise === true);
    } else {
      this.suppressionFailure = late.error;
    }
    void this.applyDeviceConstraints();
    this.deps.onSuppressionChange?.();
  }

  private attach(device: MediaStream): void {
    this.device = device;
    this.graph.attach(device);
    for (const track of device.getAudioTracks()) {
      // stopMedia() fires a synthetic `ended` too; only an end we did not cause means "lost".
      track.addEventListener("ended", () => {
        if (this.device === device && !this.stopped) this.deps.onDeviceLost();
      });
    }
  }

  private releaseDevice(): void {
    this.releaseTimer = undefined;
    if (this.mutedNow && !this.stopped) this.closeDevice();
  }

  private closeDevice(): void {
    const device = this.device;
    this.device = undefined;
    this.graph.detach();
    if (device) stopMedia(device);
  }

  private async reopen(): Promise<Result<void, CaptureError>> {
    const device = await captureRawMicrophone(this.effectivePrefs());
    if (!device.ok) return device;
    if (this.stopped) {
      stopMedia(device.value);
      return ok(undefined);
    }
    this.attach(device.value);
    return ok(undefined);
  }

  /** With RNNoise unavailable, the prefs behave as if `rnnoise` were off. */
  private effectivePrefs(): MicrophonePrefs {
    return this.graph.isSuppressing ? this.prefs : { ...this.prefs, rnnoise: false };
  }

  private async applyDeviceConstraints(): Promise<void> {
    const track = this.device?.getAudioTracks()[0];
    const audio = microphoneConstraints(this.effectivePrefs()).audio;
    if (!track || typeof audio !== "object") return;
    // Best effort: a browser that cannot switch a setting live keeps the old one.
    await track.applyConstraints(audio).catch(() => undefined);
  }
}

/** The promise's value if it settles within `ms`, else undefined. */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function loadSuppressor(loader: Pick<RnnoiseLoader, "createNode">, context: AudioContext): Promise<Result<RnnoiseWorkletNode, string>> {
  try {
    return ok(await loader.createNode(context));
  } catch (error) {
    return err(error instanceof Error ? error.message : String(error));
  }
}
