// Join latency: from navigation to the first remote video frame. A member ("ana") shares her
// camera; a newcomer opens the room link with video auto-enabled, and we time, on the newcomer's
// own clock (performance.now() counts from navigation start), when the first frame of ana's
// camera is presented. Each run uses a fresh browser context (no cache, no stored prefs).
// Needs Chromium and the private network namespace (make bench runs it there).

import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { randomRoomSecret } from "../common/prefs/fragment.js";
import { loadConfig } from "../server/config.js";
import { createRelay } from "../server/create-relay.js";
import { closeAll, launchBrowser, openPage } from "../test/harness/browser.js";
import { percentile } from "./percentile.js";
import type { Benchmark, Figure } from "./types.js";

const STATIC_ROOT = fileURLToPath(new URL("../dist/public/", import.meta.url));
const RUNS = 9;


async function oneRun(browser: Browser, origin: string): Promise<number> {
  const secret = randomRoomSecret();
  const ana = await openPage(browser, `${origin}/room#${secret}?username=ana&camera_enabled=true`);
  // The link's camera waits for a press (not timed: only the newcomer's join is).
  await ana.getByRole("button", { name: "Join with camera" }).click();
  await ana.getByRole("button", { name: "Stop Camera" }).waitFor();
  const bo = await openPage(browser, `${origin}/room#${secret}?username=bo&optional_video_default_enable=true`);
  const video = bo.getByRole("group", { name: "ana", exact: true }).locator("video");
  await video.waitFor({ timeout: 15_000 });
  const firstFrameAt = await video.evaluate(
    (element) =>
      new Promise<number>((resolve) => {
        (element as HTMLVideoElement).requestVideoFrameCallback(() => resolve(performance.now()));
      }),
  );
  await Promise.all([ana.context().close(), bo.context().close()]);
  return firstFrameAt;
}

export const joinLatencyBenchmark: Benchmark = {
  name: "join-latency",
  timeoutMs: 180_000,
  goals: [{ figure: "join_to_first_video_frame_ms", on: "value", op: "<", target: 1000 }],
  async run(): Promise<Record<string, Figure>> {
    const relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: STATIC_ROOT });
    const { port } = await relay.listen();
    try {
      const browser = await launchBrowser();
      const origin = `http://127.0.0.1:${port}`;
      await oneRun(browser, origin); // warm-up: first launch costs compile and cache fills
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await oneRun(browser, origin));
      times.sort((a, b) => a - b);
      console.log(`join-latency: ${times.map((t) => Math.round(t)).join(", ")} ms`);
      return {
        join_to_first_video_frame_ms: { value: Math.round(percentile(times, 50)), unit: "ms" },
        join_to_first_video_frame_p90_ms: { value: Math.round(percentile(times, 90)), unit: "ms" },
      };
    } finally {
      await closeAll();
      await relay.close();
    }
  },
};
