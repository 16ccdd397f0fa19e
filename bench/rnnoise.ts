// RNNoise's cost in the AudioWorklet: 20 s of 48 kHz mono (noise, then a tone over noise)
// rendered through the built worklet (/assets/rnnoise/worklet.js with the package's WASM) in an
// OfflineAudioContext in Chromium, against the same graph without the node in the same run.
// Rendering is paused at the first quantum until the WASM (compiled asynchronously inside the
// worklet) is ready, so only processing is timed. Both WASM builds are measured; Chromium uses
// the SIMD one (the loader picks it where SIMD validates).
// Needs Chromium, so make bench runs it in the private network namespace like the others.

import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { loadConfig } from "../server/config.js";
import { createRelay } from "../server/create-relay.js";
import { closeAll, launchBrowser, openPage } from "../test/harness/browser.js";
import type { Benchmark, Figure } from "./types.js";

const STATIC_ROOT = fileURLToPath(new URL("../dist/public/", import.meta.url));
const SECONDS = 20;
const FRAMES = SECONDS * 100; // RNNoise works in 10 ms frames
const RUNS = 3;

/** Milliseconds to render SECONDS of audio through the worklet (`wasm` given) or straight through. */
async function renderMs(page: Page, wasm: string | undefined): Promise<number> {
  return page.evaluate(
    async ({ wasm, seconds }) => {
      const rate = 48_000;
      const context = new OfflineAudioContext(1, rate * seconds, rate);
      const input = context.createBuffer(1, rate * seconds, rate);
      const data = input.getChannelData(0);
      for (let i = 0; i < data.length; i++) {
        const noise = 0.06 * (Math.random() * 2 - 1);
        data[i] = i < data.length / 2 ? noise : noise + 0.3 * Math.sin((2 * Math.PI * 440 * i) / rate);
      }
      const source = context.createBufferSource();
      source.buffer = input;
      if (wasm) {
        await context.audioWorklet.addModule("/assets/rnnoise/worklet.js");
        const wasmBinary = await (await fetch(wasm)).arrayBuffer();
        const node = new AudioWorkletNode(context, "@sapphi-red/web-noise-suppressor/rnnoise", {
          processorOptions: { maxChannels: 1, wasmBinary },
        });
        source.connect(node).connect(context.destination);
      } else {
        source.connect(context.destination);
      }
      source.start();
      let started = 0;
      void context.suspend(128 / rate).then(async () => {
        await new Promise((resolve) => setTimeout(resolve, 1000)); // the worklet compiles its WASM
        started = performance.now();
        await context.resume();
      });
      await context.startRendering();
      return performance.now() - started;
    },
    { wasm, seconds: SECONDS },
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export const rnnoiseBenchmark: Benchmark = {
  name: "rnnoise",
  timeoutMs: 180_000,
  goals: [{ figure: "rnnoise_real_time_factor", on: "value", op: "<", target: 0.05 }],
  async run(): Promise<Record<string, Figure>> {
    const relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: STATIC_ROOT });
    const { port } = await relay.listen();
    try {
      const browser = await launchBrowser();
      const page = await openPage(browser, `http://127.0.0.1:${port}/`);
      const times = { bare: [] as number[], simd: [] as number[], plain: [] as number[] };
      for (let run = 0; run < RUNS; run++) {
        times.bare.push(await renderMs(page, undefined));
        times.simd.push(await renderMs(page, "/assets/rnnoise/rnnoise_simd.wasm"));
        times.plain.push(await renderMs(page, "/assets/rnnoise/rnnoise.wasm"));
      }
      const [bare, simd, plain] = [median(times.bare), median(times.simd), median(times.plain)];
      console.log(`rnnoise: ${SECONDS} s rendered in ${simd.toFixed(0)} ms (SIMD), ${plain.toFixed(0)} ms (no SIMD), ${bare.toFixed(0)} ms without the node`);
      const round = (value: number, digits: number) => Number(value.toFixed(digits));
      return {
        rnnoise_ms_per_10ms_frame: { value: round(simd / FRAMES, 3), unit: "ms" },
        rnnoise_real_time_factor: { value: round(simd / (SECONDS * 1000), 4), unit: "×", baseline: round(bare / (SECONDS * 1000), 4), ratio: round(simd / bare, 1) },
        rnnoise_real_time_factor_no_simd: { value: round(plain / (SECONDS * 1000), 4), unit: "×" },
      };
    } finally {
      await closeAll();
      await relay.close();
    }
  },
};
