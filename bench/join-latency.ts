// Join latency: from navigation to the first remote video frame. A member ("ana") shares her
// camera; a newcomer opens the room link with video auto-enabled, and we time, on the newcomer's
// own clock (performance.now() counts from navigation start), when the first frame of ana's
// camera is presented. Each run uses a fresh browser context (no cache, no stored prefs) for a
// cold join; the newcomer then keeps the room among known rooms and opens it again, a warm join
// (cached scripts, kept room secrets). Every join prints its timeline: when each step happened,
// from the page's performance marks.
// Needs Chromium and the private network namespace (make bench runs it there).

import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
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

/** First the newcomer's cold join, then (same browser profile, the room now known) a warm one. */
async function oneRun(browser: Browser, origin: string): Promise<{ cold: Timeline; warm: Timeline }> {
  const secret = randomRoomSecret();
  const ana = await openPage(browser, `${origin}/room#${secret}?username=ana&camera_enabled=true`);
  // The link's camera waits for a press (not timed: only the newcomer's join is).
  await ana.getByRole("button", { name: "Join with camera" }).click();
  await ana.getByRole("button", { name: "Stop Camera" }).waitFor();
  const bo = await openPage(browser, `${origin}/room#${secret}?username=bo&optional_video_default_enable=true`);
  const cold = await timeline(bo);
  // Bo keeps the room among known rooms, and opens it again: a warm join.
  await bo.evaluate(
    (known) => (window as unknown as { meshmeet: { prefs: { set(key: string, value: string): Promise<unknown> } } }).meshmeet.prefs.set("room_watches", JSON.stringify([known])),
    secret,
  );
  await bo.waitForTimeout(300); // the kept secrets are written after the pref
  await bo.reload({ waitUntil: "load" });
  const warm = await timeline(bo);
  await Promise.all([ana.context().close(), bo.context().close()]);
  return { cold, warm };
}

/** Waits for the first frame of ana's camera on `bo` and reads the page's join marks. */
async function timeline(bo: Page): Promise<Timeline> {
  const video = bo.getByRole("group", { name: "ana", exact: true }).locator("video");
  await video.waitFor({ timeout: 15_000 });
  const firstFrameAt = await video.evaluate(
    (element) =>
      new Promise<number>((resolve) => {
        (element as HTMLVideoElement).requestVideoFrameCallback(() => resolve(performance.now()));
      }),
  );
  // The page marks each step as `meshmeet:<step>` (client-web/room/boot.ts, main.ts and the engine's milestones).
  const steps: Timeline = await bo.evaluate(() => {
    const navigation = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
    const marks = performance.getEntriesByType("mark").filter((entry) => entry.name.startsWith("meshmeet:"));
    return {
      ...(navigation ? { "html-loaded": navigation.responseEnd } : {}),
      ...Object.fromEntries(marks.map((entry) => [entry.name.slice("meshmeet:".length), entry.startTime])),
    };
  });
  // The page marks when the first frame was presented (meshmeet:first-frame, from the video's own
  // frame callback); ours, registered only once the element is found, sees a later frame.
  return { ...steps, "first-frame": steps["first-frame"] ?? firstFrameAt, "frame-observed": firstFrameAt };
}

function printTimeline(label: string, timeline: Timeline): void {
  const steps = Object.entries(timeline).sort(([, a], [, b]) => a - b);
  console.log(`join-latency ${label}: ${steps.map(([step, at]) => `${step} ${Math.round(at)}`).join(" · ")}`);
}

/** The median first frame, its p90, and the median of each step, under `prefix`. */
function figures(prefix: string, timelines: readonly Timeline[]): Record<string, Figure> {
  const times = timelines.map((timeline) => timeline["first-frame"] ?? Number.NaN).sort((a, b) => a - b);
  console.log(`join-latency ${prefix}: ${times.map((t) => Math.round(t)).join(", ")} ms`);
  const out: Record<string, Figure> = {
    [`${prefix}_to_first_video_frame_ms`]: { value: Math.round(percentile(times, 50)), unit: "ms" },
    [`${prefix}_to_first_video_frame_p90_ms`]: { value: Math.round(percentile(times, 90)), unit: "ms" },
  };
  // Where the time goes, step by step.
  for (const step of new Set(timelines.flatMap((timeline) => Object.keys(timeline)))) {
    const at = timelines.map((timeline) => timeline[step]).filter((value): value is number => value !== undefined).sort((a, b) => a - b);
    out[`${prefix}_step_${step.replaceAll("-", "_")}_ms`] = { value: Math.round(percentile(at, 50)), unit: "ms" };
  }
  return out;
}

export const joinLatencyBenchmark: Benchmark = {
  name: "join-latency",
  timeoutMs: 180_000,
  goals: [
    { figure: "join_to_first_video_frame_ms", on: "value", op: "<=", target: 500 },
    { figure: "join_warm_to_first_video_frame_ms", on: "value", op: "<=", target: 250 },
  ],
  async run(): Promise<Record<string, Figure>> {
    const relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: STATIC_ROOT });
    const { port } = await relay.listen();
    try {
      const browser = await launchBrowser();
      const origin = `http://127.0.0.1:${port}`;
      await oneRun(browser, origin); // warm-up: first launch costs compile and cache fills
      const cold: Timeline[] = [];
      const warm: Timeline[] = [];
      for (let i = 0; i < RUNS; i++) {
        const run = await oneRun(browser, origin);
        printTimeline(`run ${i + 1} cold`, run.cold);
        printTimeline(`run ${i + 1} warm`, run.warm);
        cold.push(run.cold);
        warm.push(run.warm);
      }
      return { ...figures("join", cold), ...figures("join_warm", warm) };
    } finally {
      await closeAll();
      await relay.close();
    }
  },
};
