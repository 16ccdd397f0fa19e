// The microphone's audio graph:
//   device → MediaStreamSource → [RNNoise] → Gain (microphone_gain; 0 while muted) → Destination
// Peers get the destination's stream. Its track lives as long as the graph, whatever happens to
// the device behind it, so muting, releasing the device while muted and opening it again, or
// switching RNNoise on and off never renegotiate anything.

import type { RnnoiseWorkletNode } from "@sapphi-red/web-noise-suppressor";

/** Gain changes glide over about this long, so they do not click. */
const GAIN_TIME_CONSTANT_S = 0.015;

export class MicrophoneGraph {
  /** What peers get. */
  readonly stream: MediaStream;
  private readonly gain: GainNode;
  private readonly destination: MediaStreamAudioDestinationNode;
  private source: MediaStreamAudioSourceNode | undefined;
  private suppressor: RnnoiseWorkletNode | undefined;
  private suppressing = false;
  private level = 1;
  private muted = false;

  constructor(
    private readonly context: AudioContext,
    suppressor: RnnoiseWorkletNode | undefined,
  ) {
    this.gain = context.createGain();
    this.destination = context.createMediaStreamDestination();
    this.destination.channelCount = 1;
    this.gain.connect(this.destination);
    this.stream = this.destination.stream;
    if (suppressor) {
      this.installSuppressor(suppressor);
      this.suppressing = true;
    }
  }

  /** True while RNNoise is in the path. */
  get isSuppressing(): boolean {
    return this.suppressing;
  }

  get hasSuppressor(): boolean {
    return this.suppressor !== undefined;
  }

  /** RNNoise loaded later (switched on while the microphone ran without it); not yet in the path. */
  installSuppressor(suppressor: RnnoiseWorkletNode): void {
    if (this.suppressor) {
      suppressor.destroy();
      return;
    }
    this.suppressor = suppressor;
    suppressor.connect(this.gain);
  }

  /** Feeds the graph from a (new) device stream; the previous one is disconnected, not stopped. */
  attach(device: MediaStream): void {
    this.source?.disconnect();
    this.source = this.context.createMediaStreamSource(device);
    this.source.connect(this.firstNode());
  }

  /** Disconnects the device stream (the caller stops it); peers hear silence until attach(). */
  detach(): void {
    this.source?.disconnect();
    this.source = undefined;
  }

  /** RNNoise in or out of the path, live (`rnnoise` pref). Only possible if it was loaded. */
  setSuppressing(on: boolean): void {
    const want = on && this.suppressor !== undefined;
    if (want === this.suppressing) return;
    this.suppressing = want;
    if (this.source) {
      this.source.disconnect();
      this.source.connect(this.firstNode());
    }
  }

  setLevel(gain: number): void {
    this.level = gain;
    this.applyGain();
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    this.applyGain();
  }

  release(): void {
    this.source?.disconnect();
    this.source = undefined;
    this.suppressor?.disconnect();
    this.suppressor?.destroy();
    this.suppressor = undefined;
    this.gain.disconnect();
    for (const track of this.stream.getTracks()) track.stop();
  }

  private firstNode(): AudioNode {
    return this.suppressing && this.suppressor ? this.suppressor : this.gain;
  }

  private applyGain(): void {
    const target = this.muted ? 0 : this.level;
    this.gain.gain.setTargetAtTime(target, this.context.currentTime, GAIN_TIME_CONSTANT_S);
  }
}
