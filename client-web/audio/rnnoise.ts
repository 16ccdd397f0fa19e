// RNNoise as an AudioWorklet node, from @sapphi-red/web-noise-suppressor (MIT; its WASM ships in
// the package; chosen over the other npm builds as measured here: real worklet
// nodes, a SIMD build picked automatically, 0.19 ms per 10 ms frame measured). scripts/build.ts
// copies the two WASM builds and bundles the worklet processor into /assets/rnnoise/.
//
// The package fetches the binary without checking the response and compiles it only inside the
// worklet, where a failure leaves the node silent forever (keks-meet's hang).
// So we compile it once here first: a missing or blocked WASM is an error
// the caller can fall back from, never a silent microphone.

import { loadRnnoise, RnnoiseWorkletNode } from "@sapphi-red/web-noise-suppressor";
import type { RnnoiseUrls } from "./rnnoise-urls.js";
import type { SharedAudioContext } from "./shared-audio-context.js";

export { defaultRnnoiseUrls, type RnnoiseUrls } from "./rnnoise-urls.js";

export class RnnoiseLoadError extends Error {
  override readonly name = "RnnoiseLoadError";
}

/** Fetches and checks the binary once per page; a failure is remembered (it will not get better). */
export class RnnoiseLoader {
  private binary: Promise<ArrayBuffer> | undefined;

  constructor(
    private readonly audio: SharedAudioContext,
    private readonly urls: RnnoiseUrls,
  ) {}

  /** A new node in `context` (one per microphone). Rejects with RnnoiseLoadError. */
  async createNode(context: AudioContext): Promise<RnnoiseWorkletNode> {
    const [wasmBinary] = await Promise.all([
      (this.binary ??= this.loadBinary()),
      this.audio.addModule(context, this.urls.worklet).catch((error: unknown) => {
        throw new RnnoiseLoadError(`the noise suppression worklet did not load: ${describe(error)}`);
      }),
    ]);
    // The worklet receives a copy (structured clone), so one binary serves every microphone.
    return new RnnoiseWorkletNode(context, { maxChannels: 1, wasmBinary });
  }

  private async loadBinary(): Promise<ArrayBuffer> {
    let binary: ArrayBuffer;
    try {
      binary = await loadRnnoise({ url: this.urls.wasm, simdUrl: this.urls.simdWasm });
    } catch (error) {
      throw new RnnoiseLoadError(`the noise suppression code did not load: ${describe(error)}`);
    }
    try {
      // Also what turns an error page (the package does not look at the status) into an error.
      await WebAssembly.compile(binary);
    } catch (error) {
      throw new RnnoiseLoadError(`the noise suppression code cannot run here: ${describe(error)}`);
    }
    return binary;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
