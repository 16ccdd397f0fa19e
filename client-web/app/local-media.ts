// What we share: captures camera/microphone/screen, offers each through the room, sends previews
// of video while it is shared, and releases the device when sharing stops — by our button, by
// the browser's own "stop sharing" bar, or by leaving. Microphones go through the audio graph
// (client-web/audio/) and can be muted, held open by push-to-talk, and retuned by prefs live.
// Knows the room's intent methods only.

import type { LocalResource, Room } from "../../common/engine/room.js";
import type { PrefValues } from "../../common/prefs/schema.js";
import { err, ok, type Result } from "../../common/result.js";
import type { Microphone, MicrophoneState } from "../audio/microphone.js";
import type { RnnoiseLoader } from "../audio/rnnoise.js";
import type { RnnoiseUrls } from "../audio/rnnoise-urls.js";
import type { SharedAudioContext } from "../audio/shared-audio-context.js";
import { LazyModule } from "./lazy-module.js";
import { captureCamera, captured, captureScreen, stopMedia, watchEnded, type CaptureError } from "../media/capture.js";
import { startPreviews } from "../media/preview-sender.js";

export type MediaKind = "microphone" | "camera" | "screen";

interface Shared {
  readonly resource: LocalResource;
  readonly microphone?: Microphone;
  readonly stop: () => void;
}

export interface LocalMediaAudio {
  readonly audio: SharedAudioContext;
  /** Where the noise suppressor's files are; loaded with the first microphone. */
  readonly rnnoiseUrls: RnnoiseUrls;
  /** Tests shorten how long a muted microphone keeps its device open. */
  readonly releaseAfterMs?: number;
}

export class LocalMedia {
  private readonly shared = new Map<string, Shared>();
  /** Microphones push-to-talk unmuted, to mute again when the key is released. */
  private readonly talking = new Set<Microphone>();
  private suppressionFailureTold = false;
  /** The microphone's code (a lazily loaded chunk) and the one suppressor loader of this page. */
  private readonly microphoneKit = new LazyModule(() =>
    import("../audio/microphone-kit.js").then(({ Microphone, RnnoiseLoader }) => ({ Microphone, rnnoise: new RnnoiseLoader(this.audio.audio, this.audio.rnnoiseUrls) })),
  );

  constructor(
    private readonly room: Room,
    private readonly prefs: () => PrefValues,
    private readonly onChange: () => void,
    private readonly audio: LocalMediaAudio,
    /** Something the user should hear about once (e.g. noise suppression could not start). */
    private readonly onNotice: (message: string) => void,
  ) {}

  get resources(): LocalResource[] {
    return [...this.shared.values()].map((s) => s.resource);
  }

  get count(): number {
    return this.shared.size;
  }

  /** Mute state of a shared microphone, by resource id; undefined for anything else. */
  microphoneState(id: string): MicrophoneState | undefined {
    const microphone = this.shared.get(id)?.microphone;
    return microphone && { muted: microphone.muted, deviceOpen: microphone.deviceOpen, suppressing: microphone.suppressing };
  }

  get hasMicrophone(): boolean {
    return [...this.shared.values()].some((s) => s.microphone);
  }

  async add(kind: MediaKind): Promise<Result<LocalResource, CaptureError>> {
    if (kind === "microphone") return this.addMicrophone();
    const prefs = this.prefs();
    const capturedMedia = await (kind === "camera" ? captureCamera(prefs) : captureScreen(prefs));
    if (!capturedMedia.ok) return err(capturedMedia.error);
    const { stream, info } = capturedMedia.value;
    const resource: LocalResource = { info, stream };
    const stopPreviews = prefs.send_previews
      ? startPreviews(
          stream,
          { resolution: prefs.preview_resolution ?? 256, rate: prefs.preview_rate ?? 8, quality: prefs.preview_encoding_quality ?? 80 },
          (data) => this.room.sendPreview(info.id, data),
        )
      : () => {};
    const unwatch = watchEnded(stream, () => this.stop(info.id));
    this.publish(resource, undefined, () => {
      unwatch();
      stopPreviews();
      stopMedia(stream);
    });
    return ok(resource);
  }

  /** Withdraws one resource everywhere and releases its device (the recording indicator goes off). */
  stop(id: string): void {
    const entry = this.shared.get(id);
    if (!entry) return;
    this.shared.delete(id);
    if (entry.microphone) this.talking.delete(entry.microphone);
    this.room.stopProviding(id);
    entry.stop();
    this.onChange();
  }

  stopAll(): void {
    for (const id of [...this.shared.keys()]) this.stop(id);
  }

  /** Mutes or unmutes every shared microphone (the keybind; the tile mutes one). */
  async setAllMuted(muted: boolean): Promise<Result<void, CaptureError>> {
    const results = await Promise.all([...this.shared.keys()].map((id) => this.setMuted(id, muted)));
    return results.find((r) => !r.ok) ?? ok(undefined);
  }

  get allMuted(): boolean {
    const microphones = [...this.shared.values()].flatMap((s) => (s.microphone ? [s.microphone] : []));
    return microphones.length > 0 && microphones.every((m) => m.muted);
  }

  async setMuted(id: string, muted: boolean): Promise<Result<void, CaptureError>> {
    const microphone = this.shared.get(id)?.microphone;
    if (!microphone) return ok(undefined);
    this.talking.delete(microphone);
    const result = await microphone.setMuted(muted);
    this.onChange();
    return result;
  }

  /** Push-to-talk: while held, muted microphones speak; on release they are muted again. */
  async pushToTalk(held: boolean): Promise<Result<void, CaptureError>> {
    if (!held) {
      const talking = [...this.talking];
      this.talking.clear();
      await Promise.all(talking.map((m) => m.setMuted(true)));
      this.onChange();
      return ok(undefined);
    }
    const muted = [...this.shared.values()].flatMap((s) => (s.microphone?.muted ? [s.microphone] : []));
    for (const microphone of muted) this.talking.add(microphone);
    const results = await Promise.all(muted.map((m) => m.setMuted(false)));
    this.onChange();
    return results.find((r) => !r.ok) ?? ok(undefined);
  }

  /** Microphone prefs apply to running microphones at once. */
  updatePrefs(): void {
    const prefs = this.prefs();
    for (const { microphone } of this.shared.values()) {
      void microphone?.updatePrefs(prefs).then(() => {
        this.tellSuppressionFailure(microphone);
        this.onChange();
      });
    }
  }

  /** Starts loading the microphone's code (the pointer is on its button). */
  preloadMicrophone(): void {
    this.microphoneKit.preload();
  }

  private async addMicrophone(): Promise<Result<LocalResource, CaptureError>> {
    let kit: { Microphone: typeof Microphone; rnnoise: RnnoiseLoader };
    try {
      kit = await this.microphoneKit.load(); // a failed load is tried again on the next press
    } catch (error) {
      return err({ code: "failed", message: `the microphone's code did not load: ${error instanceof Error ? error.message : String(error)}` });
    }
    let id = "";
    // Assigned before the microphone can call back (its callbacks come from later events).
    let microphone: Microphone;
    const opened = await kit.Microphone.open(this.prefs(), {
      audio: this.audio.audio,
      rnnoise: kit.rnnoise,
      ...(this.audio.releaseAfterMs === undefined ? {} : { releaseAfterMs: this.audio.releaseAfterMs }),
      onDeviceLost: () => this.stop(id),
      onSuppressionChange: () => {
        this.tellSuppressionFailure(microphone);
        this.onChange();
      },
    });
    if (!opened.ok) return err(opened.error);
    microphone = opened.value;
    // The shared stream is the graph's output, so its id is the resource id.
    const { info, stream } = captured(microphone.stream, "Microphone", "audio");
    id = info.id;
    const resource: LocalResource = { info, stream };
    this.tellSuppressionFailure(microphone);
    this.publish(resource, microphone, () => microphone.stop());
    return ok(resource);
  }

  private publish(resource: LocalResource, microphone: Microphone | undefined, stop: () => void): void {
    this.shared.set(resource.info.id, microphone ? { resource, microphone, stop } : { resource, stop });
    this.room.provide(resource);
    this.onChange();
  }

  private tellSuppressionFailure(microphone: Microphone): void {
    const failure = microphone.suppressionError;
    if (failure === undefined || this.suppressionFailureTold) return;
    this.suppressionFailureTold = true;
    console.warn(`meshmeet: noise suppression unavailable: ${failure}`);
    this.onNotice("Noise suppression could not start, so your microphone is sent without it.");
  }
}
