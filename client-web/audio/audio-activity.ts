// Who is speaking: the level of each watched stream against `audio_activity_threshold`, for the
// speaking indicator on tiles. One AnalyserNode per stream in the shared AudioContext and one
// timer for all of them (keks-meet ran a context and an interval per stream).
//
// The indicator is state, not news: it changes a tile, it never announces (a screen reader would
// otherwise hear every syllable). Speaking starts at the first loud frame and ends HOLD_MS after
// the last one, so the gaps between words do not make it flicker.

import type { AudioLease, SharedAudioContext } from "./shared-audio-context.js";

/** keks-meet's rate: smooth enough for the eye, cheap for 16 streams. */
const SAMPLE_INTERVAL_MS = 1000 / 15;
/** Speech has pauses of 100–300 ms between words. */
const HOLD_MS = 400;
/** 1024 samples at 48 kHz: 21 ms, about one syllable's attack. */
const FFT_SIZE = 1024;

interface Meter {
  readonly stream: MediaStream;
  readonly source: MediaStreamAudioSourceNode;
  readonly analyser: AnalyserNode;
  lastLoud: number;
}

export class AudioActivity {
  private readonly meters = new Map<string, Meter>();
  private lease: AudioLease | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private speaking = new Set<string>();
  private readonly samples = new Float32Array(FFT_SIZE);

  constructor(
    private readonly audio: SharedAudioContext,
    /** RMS above which a stream counts as speaking; undefined switches the meters off. */
    private readonly threshold: () => number | undefined,
    /** Called with the ids now speaking, only when that set changes. */
    private readonly onChange: (speaking: ReadonlySet<string>) => void,
  ) {}

  /** The ids currently speaking. */
  get current(): ReadonlySet<string> {
    return this.speaking;
  }

  /**
   * Meters exactly these streams (by an id the caller chooses): new ones start, missing or
   * replaced ones stop. Streams without audio tracks are skipped.
   */
  sync(streams: ReadonlyMap<string, MediaStream>): void {
    const enabled = this.threshold() !== undefined;
    for (const [id, meter] of this.meters) {
      if (!enabled || streams.get(id) !== meter.stream || !hasLiveAudio(meter.stream)) this.remove(id);
    }
    if (enabled) {
      for (const [id, stream] of streams) {
        if (!this.meters.has(id) && hasLiveAudio(stream)) this.add(id, stream);
      }
    }
    if (this.meters.size === 0) this.idle();
    else this.timer ??= setInterval(this.sample, SAMPLE_INTERVAL_MS);
    this.publish(new Set([...this.speaking].filter((id) => this.meters.has(id))));
  }

  close(): void {
    this.sync(new Map());
  }

  private add(id: string, stream: MediaStream): void {
    this.lease ??= this.audio.acquire();
    const { context } = this.lease;
    const source = context.createMediaStreamSource(stream);
    const analyser = context.createAnalyser();
    analyser.fftSize = FFT_SIZE;
    // Not connected onwards: the meter listens, the <audio> element (or nobody, for our own
    // microphone) plays.
    source.connect(analyser);
    this.meters.set(id, { stream, source, analyser, lastLoud: -Infinity });
  }

  private remove(id: string): void {
    const meter = this.meters.get(id);
    if (!meter) return;
    this.meters.delete(id);
    meter.source.disconnect();
  }

  /** No meters: stop the timer and give the AudioContext back (it closes if nobody else needs it). */
  private idle(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.lease?.release();
    this.lease = undefined;
  }

  private readonly sample = (): void => {
    const threshold = this.threshold();
    if (threshold === undefined) return this.close();
    const now = performance.now();
    const speaking = new Set<string>();
    for (const [id, meter] of this.meters) {
      meter.analyser.getFloatTimeDomainData(this.samples);
      if (rms(this.samples) > threshold) meter.lastLoud = now;
      if (now - meter.lastLoud < HOLD_MS) speaking.add(id);
    }
    this.publish(speaking);
  };

  private publish(next: Set<string>): void {
    if (next.size === this.speaking.size && [...next].every((id) => this.speaking.has(id))) return;
    this.speaking = next;
    this.onChange(next);
  }
}

function hasLiveAudio(stream: MediaStream): boolean {
  return stream.getAudioTracks().some((track) => track.readyState === "live");
}

export function rms(samples: Float32Array): number {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return Math.sqrt(sum / samples.length);
}
