// Join latency: from navigation to the first remote video frame. A member ("ana") shares her
// camera; a newcomer opens the room link with video auto-enabled, and we time, on the newcomer's
// own clock (performance.now() counts from navigation start), when the first frame of ana's
// camera is presented. Each run uses a fresh browser context (no cache, no stored prefs), and
// prints its timeline: when each step of the join happened, from the page's performance marks.
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


/** When each step of the newcomer's join happened, in ms on its own clock (from navigation start). */
type Timeline = Record<string, number>;

async function oneRun(browser: Browser, origin: string): Promise<Timeline> {
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
  // The page marks each step as `meshmeet:<step>` (client-web/room/boot.ts, main.ts and the engine's milestones).
  const steps = await bo.evaluate(() => {
    const navigation = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
    const marks = performance.getEntriesByType("mark").filter((entry) => entry.name.startsWith("meshmeet:"));
    return {
      ...(navigation ? { "html-loaded": navigation.responseEnd } : {}),
      ...Object.fromEntries(marks.map((entry) => [entry.name.slice("meshmeet:".length), entry.startTime])),
    };
  });
  await Promise.all([ana.context().close(), bo.context().close()]);
  return { ...steps, "first-frame": firstFrameAt };
}

function printTimeline(run: number, timeline: Timeline): void {
  const steps = Object.entries(timeline).sort(([, a], [, b]) => a - b);
  console.log(`join-latency run ${run}: ${steps.map(([step, at]) => `${step} ${Math.round(at)}`).join(" · ")}`);
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
      const timelines: Timeline[] = [];
      for (let i = 0; i < RUNS; i++) {
        const timeline = await oneRun(browser, origin);
        printTimeline(i + 1, timeline);
        timelines.push(timeline);
      }
      const times = timelines.map((timeline) => timeline["first-frame"] ?? Number.NaN).sort((a, b) => a - b);
      console.log(`join-latency: ${times.map((t) => Math.round(t)).join(", ")} ms`);
      // The median of each step over the runs: where the time goes, step by step.
      const stepFigures: Record<string, Figure> = {};
      for (const step of new Set(timelines.flatMap((timeline) => Object.keys(timeline)))) {
        const at = timelines.map((timeline) => timeline[step]).filter((value): value is number => value !== undefined).sort((a, b) => a - b);
        stepFigures[`join_step_${step.replaceAll("-", "_")}_ms`] = { value: Math.round(percentile(at, 50)), unit: "ms" };
      }
      return {
        join_to_first_video_frame_ms: { value: Math.round(percentile(times, 50)), unit: "ms" },
        join_to_first_video_frame_p90_ms: { value: Math.round(percentile(times, 90)), unit: "ms" },
        ...stepFigures,
      };
    } finally {
      await closeAll();
      await relay.close();
    }
  },
};
