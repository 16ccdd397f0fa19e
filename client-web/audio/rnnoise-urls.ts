// Where the noise suppressor's files are: scripts/build.ts copies the two WASM builds and bundles
// the worklet processor into /assets/rnnoise/. Apart from rnnoise.ts so the page can name them
// without loading the suppressor's code, which comes with the first microphone.

export interface RnnoiseUrls {
  readonly wasm: string;
  readonly simdWasm: string;
  readonly worklet: string;
}

/** Where scripts/build.ts puts the files, relative to the page's bundle. */
export function defaultRnnoiseUrls(base: string | URL): RnnoiseUrls {
  return {
    wasm: new URL("rnnoise/rnnoise.wasm", base).href,
    simdWasm: new URL("rnnoise/rnnoise_simd.wasm", base).href,
    worklet: new URL("rnnoise/worklet.js", base).href,
  };
}
