// What a user would hear: the peak RMS level of the stream a media element plays, measured in
// the page with an AnalyserNode. Shared by the end-to-end tests of calls and watch-together.

import type { Locator } from "playwright-core";

/** Peak RMS (0–1) of the MediaStream that the <audio>/<video> at `element` plays, over `ms`. */
export async function peakLevel(element: Locator, ms = 1500): Promise<number> {
  await element.waitFor({ state: "attached" });
  return element.evaluate(
    (node, duration) =>
      new Promise<number>((resolve) => {
        const stream = (node as HTMLMediaElement).srcObject as MediaStream;
        const context = new AudioContext();
        const analyser = context.createAnalyser();
        context.createMediaStreamSource(stream).connect(analyser);
        const samples = new Float32Array(analyser.fftSize);
        let peak = 0;
        const timer = setInterval(() => {
          analyser.getFloatTimeDomainData(samples);
          let sum = 0;
          for (const s of samples) sum += s * s;
          peak = Math.max(peak, Math.sqrt(sum / samples.length));
        }, 50);
        setTimeout(() => {
          clearInterval(timer);
          void context.close();
          resolve(peak);
        }, duration);
      }),
    ms,
  );
}
