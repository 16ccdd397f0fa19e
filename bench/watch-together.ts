// Jellyfin watch-together in relay mode, three pages: "sam" signs in to the Jellyfin API fixture
// (test/jellyfin: real H.264/AAC fMP4 HLS, 30 s) and shares "Fixture Movie" from the panel;
// "vic" and "val" click "Watch Fixture Movie with sam" on sam's tile. Everything is driven
// through the UI, as test/e2e/watch-together.e2e.test.ts does. RUNS shares (stop, share again):
//
// - time to first frame, on each page's own clock: the sharer's click on "Share with the room"
//   and each viewer's click on "Watch…" to the first frame its <video> presents
//   (requestVideoFrameCallback's presentationTime). The first run also pays for the peer
//   connections (they are made on the first request) and for loading hls.js; hence the median.
//   It is the first frame wherever it is: the drift controller may seek right after it.
// - steady-state drift: after SETTLE_MS, all three pages sample their <video> every
//   DRIFT_EVERY_MS for DRIFT_WINDOW_MS; the pages share this machine's clock, so each viewer
//   sample is compared with the sharer's nearest sample carried forward to the same instant
//   (like the e2e's drift()). |drift| median and p95 over every run and both viewers.
// - the sharer's uplink per viewer, in the last run, which plays to the end of the video: the
//   bytes sam's RTCPeerConnection to each viewer sent on the share's data channels (labelled with
//   the share id: media and sync), from that viewer's click to the end of the video, divided by
//   that time, against the stream's own bitrate (the fixture's segment bytes over their
//   durations). hls.js buffers up to 30 s ahead (maxBufferLength), so a viewer fetches the whole
//   30 s stream within seconds of joining and then nothing: over any window shorter than the
//   whole share the rate says nothing. Over join → end it is the stream as the sharer uploads it
//   per viewer, spread over the time that viewer watched: ratio 1 means each viewer got the media
//   once at its own bitrate; above 1 are our framing, the sync channel, segments fetched twice
//   (a viewer's seek, a cancelled and refetched request) and the part of the segment before the
//   viewer's start position (a viewer joining at 2.5 s still fetches segment 1 from 2 s); below
//   1 would mean a viewer did not get all of the stream. The transport's bytesSent (DTLS, SCTP,
//   everything on that connection) is reported beside it. Bytes against the media the viewer
//   actually needed from its first frame on are printed too.
//
// Needs Chromium, ffmpeg and the private network namespace (make bench runs it there), and the
// built client in dist/public (npx tsx scripts/build.ts).

import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { randomRoomSecret } from "../common/prefs/fragment.js";
import { loadConfig } from "../server/config.js";
import { createRelay, type Relay } from "../server/create-relay.js";
import { closeAll, launchBrowser, openPage, pageErrors } from "../test/harness/browser.js";
import { startJellyfinFixture, type JellyfinFixture } from "../test/jellyfin/fixture.js";
import type { Benchmark, Figure } from "./types.js";

const STATIC_ROOT = fileURLToPath(new URL("../dist/public/", import.meta.url));
/** Shares, each with a stop before the next (WT_RUNS overrides; the last plays to the end). */
const RUNS = Math.max(1, Number(process.env.WT_RUNS ?? 3));
const SETTLE_MS = 2500;
const DRIFT_WINDOW_MS = 8000;
const DRIFT_EVERY_MS = 100;
/** A viewer sample is paired with a sharer sample at most this far apart in time. */
const MAX_PAIR_GAP_MS = 2 * DRIFT_EVERY_MS;
const FIRST_FRAME_TIMEOUT_MS = 30_000;
const TITLE = "Fixture Movie";
const SHARER = "sam";
const VIEWERS = ["vic", "val"] as const;
const SHARER_HEADING = `You share ${TITLE}`;
const VIEWER_HEADING = `${TITLE} from ${SHARER}`;
const SHARE_BUTTON = "Share with the room";
const WATCH_BUTTON = `Watch ${TITLE} with ${SHARER}`;
const SYNC_PROTOCOL = "meshmeet-watch-sync";

/**
 * Installed once in each page (a string: nothing of tsx's output ends up in the page). Every
 * <video> the app creates with document.createElement gets a requestVideoFrameCallback at birth,
 * so the first presented frame is caught however early it comes; every click on a button is
 * stamped with its event time. Times are absolute (timeOrigin + page time): the pages share the
 * machine's clock. Watch views are found through the shadow roots by their `heading`.
 */
const PROBE = `(() => {
  if (window.__wt) return 0;
  const abs = (t) => performance.timeOrigin + t;
  const videos = [];
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function (...args) {
    const element = create.apply(this, args);
    if (element instanceof HTMLVideoElement) {
      const entry = { element, firstFrame: null, mediaTime: null };
      videos.push(entry);
      element.requestVideoFrameCallback((now, meta) => {
        entry.firstFrame = abs(meta.presentationTime ?? now);
        entry.mediaTime = meta.mediaTime;
      });
    }
    return element;
  };
  const clicks = [];
  window.addEventListener("click", (event) => {
    const button = event.composedPath().find((node) => node instanceof HTMLButtonElement);
    if (button) clicks.push({ at: abs(event.timeStamp), label: (button.getAttribute("aria-label") || button.textContent || "").trim() });
  }, true);
  const views = () => {
    const found = [];
    const walk = (root) => {
      for (const element of root.querySelectorAll("*")) {
        if (element.localName === "mm-watch-view") found.push(element);
        if (element.shadowRoot) walk(element.shadowRoot);
      }
    };
    walk(document);
    return found;
  };
  const videoOf = (heading) => views().find((view) => String(view.heading).startsWith(heading))?.video;
  const sampleOf = (video) => ({ at: abs(performance.now()), pos: video.currentTime, paused: video.paused, rate: video.playbackRate });
  window.__wt = {
    clickAt(label) {
      for (let i = clicks.length - 1; i >= 0; i--) if (clicks[i].label.startsWith(label)) return clicks[i].at;
      return null;
    },
    /** null: no such view or no frame yet; "untracked": the view's <video> predates the probe. */
    firstFrame(heading) {
      const video = videoOf(heading);
      if (!video) return null;
      const entry = videos.find((candidate) => candidate.element === video);
      if (!entry) return "untracked";
      return entry.firstFrame === null ? null : { at: entry.firstFrame, mediaTime: entry.mediaTime };
    },
    sampleFor(heading, ms, every) {
      const video = videoOf(heading);
      if (!video) return Promise.reject(new Error("no watch view headed " + heading));
      return new Promise((resolve) => {
        const out = [sampleOf(video)];
        const started = performance.now();
        const timer = setInterval(() => {
          out.push(sampleOf(video));
          if (performance.now() - started >= ms) {
            clearInterval(timer);
            resolve(out);
          }
        }, every);
      });
    },
    ended(heading) {
      const video = videoOf(heading);
      return video ? video.ended || (video.duration > 0 && video.currentTime >= video.duration - 0.05) : null;
    },
    now: () => abs(performance.now()),
  };
  return 0;
})()`;

/** Bytes the sharer's connection to each peer has sent: on channels labelled `shareId`, and in all. */
function uplinkScript(shareId: string | null): string {
  return `(async () => {
    const room = window.meshmeet.room;
    const out = [];
    for (const view of room.peerViews()) {
      const pc = room.connectionOf(view.key);
      if (!pc) continue;
      const report = await pc.getStats();
      let channelBytes = 0, mediaBytes = 0, channels = 0, transportBytes = 0;
      report.forEach((s) => {
        if (s.type === "data-channel" && s.label === ${JSON.stringify(shareId)}) {
          channels++;
          channelBytes += s.bytesSent ?? 0;
          if (s.protocol !== ${JSON.stringify(SYNC_PROTOCOL)}) mediaBytes += s.bytesSent ?? 0;
        }
        if (s.type === "transport") transportBytes += s.bytesSent ?? 0;
      });
      out.push({ name: view.name ?? "", channelBytes, mediaBytes, channels, transportBytes });
    }
    return { at: performance.timeOrigin + performance.now(), peers: out };
  })()`;
}

interface Sample {
  /** Machine clock, ms. */
  readonly at: number;
  readonly pos: number;
  readonly paused: boolean;
  readonly rate: number;
}

interface FirstFrame {
  readonly at: number;
  readonly mediaTime: number;
}

interface PeerUplink {
  readonly name: string;
  readonly channelBytes: number;
  readonly mediaBytes: number;
  readonly channels: number;
  readonly transportBytes: number;
}

interface Uplink {
  readonly at: number;
  readonly peers: PeerUplink[];
}

interface MediaFacts {
  readonly kbps: number;
  readonly durationS: number;
  readonly initBytes: number;
  readonly segments: ReadonlyArray<{ readonly startS: number; readonly endS: number; readonly bytes: number }>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

async function mediaFacts(fixture: JellyfinFixture): Promise<MediaFacts> {
  let startS = 0;
  const segments: Array<{ startS: number; endS: number; bytes: number }> = [];
  for (const segment of fixture.media.segments) {
    const bytes = (await stat(segment.file)).size;
    segments.push({ startS, endS: startS + segment.durationS, bytes });
    startS += segment.durationS;
  }
  const bytes = segments.reduce((sum, segment) => sum + segment.bytes, 0);
  return { kbps: (bytes * 8) / 1000 / startS, durationS: startS, initBytes: (await stat(fixture.media.initFile)).size, segments };
}

/** Bytes a player starting at `fromS` needs: the init segment and every segment not over by then. */
function neededBytes(media: MediaFacts, fromS: number): number {
  return media.initBytes + media.segments.filter((segment) => segment.endS > fromS + 0.001).reduce((sum, segment) => sum + segment.bytes, 0);
}

async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(50);
  }
}

async function firstFrame(page: Page, heading: string, who: string): Promise<FirstFrame> {
  return poll(`${who}'s first frame`, FIRST_FRAME_TIMEOUT_MS, async () => {
    const found = (await page.evaluate(`window.__wt.firstFrame(${JSON.stringify(heading)})`)) as FirstFrame | "untracked" | null;
    if (found === "untracked") throw new Error(`${who}'s <video> was created before the probe was installed`);
    return found;
  });
}

async function clickAt(page: Page, label: string, who: string): Promise<number> {
  const at = (await page.evaluate(`window.__wt.clickAt(${JSON.stringify(label)})`)) as number | null;
  if (at === null) throw new Error(`${who}'s click on "${label}" was not recorded`);
  return at;
}

function samplesFor(page: Page, heading: string): Promise<Sample[]> {
  return page.evaluate(`window.__wt.sampleFor(${JSON.stringify(heading)}, ${DRIFT_WINDOW_MS}, ${DRIFT_EVERY_MS})`) as Promise<Sample[]>;
}

/** |viewer − sharer| in ms for each viewer sample with a sharer sample close enough in time. */
function drifts(sharer: readonly Sample[], viewer: readonly Sample[]): number[] {
  const out: number[] = [];
  for (const v of viewer) {
    let best: Sample | undefined;
    for (const s of sharer) if (best === undefined || Math.abs(s.at - v.at) < Math.abs(best.at - v.at)) best = s;
    if (best === undefined || Math.abs(best.at - v.at) > MAX_PAIR_GAP_MS) continue;
    const sharerThen = best.paused ? best.pos : best.pos + ((v.at - best.at) / 1000) * best.rate;
    out.push(Math.abs(v.pos - sharerThen) * 1000);
  }
  return out;
}

async function join(browser: Awaited<ReturnType<typeof launchBrowser>>, origin: string, secret: string, username: string): Promise<Page> {
  const page = await openPage(browser, `${origin}/room#${secret}?username=${username}`);
  await page.getByRole("group", { name: `You (${username})` }).waitFor();
  await page.evaluate(PROBE);
  return page;
}

/** Resolves once `page` shows no share of sam's any more (no view, no Watch / Stop watching button). */
async function waitShareGone(page: Page): Promise<void> {
  await page.getByRole("heading", { name: VIEWER_HEADING }).waitFor({ state: "detached", timeout: 15_000 });
  const buttons = page.getByRole("button", { name: new RegExp(`^(Watch|Stop watching) ${TITLE}`) });
  await poll("the share to disappear", 15_000, async () => ((await buttons.count()) === 0 ? true : null));
}

interface RunResult {
  readonly sharerMs: number;
  readonly viewerMs: number[];
  readonly driftsMs: number[];
}

export const watchTogetherBenchmark: Benchmark = {
  name: "watch-together",
  timeoutMs: 180_000,
  goals: [{ figure: "watch_drift_median_ms", on: "value", op: "<", target: 100 }],
  async run(): Promise<Record<string, Figure>> {
    if (!existsSync(`${STATIC_ROOT}room.html`)) throw new Error("dist/public is missing: run `npx tsx scripts/build.ts` first");
    let fixture: JellyfinFixture | undefined;
    let relay: Relay | undefined;
    try {
      console.error("watch-together: generating the fixture media (ffmpeg)");
      fixture = await startJellyfinFixture();
      const media = await mediaFacts(fixture);
      console.error(
        `watch-together: media ${media.durationS.toFixed(1)} s in ${media.segments.length} segments, ${media.kbps.toFixed(0)} kbit/s (playlist BANDWIDTH ${fixture.media.bandwidth / 1000} kbit/s)`,
      );
      relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: STATIC_ROOT });
      const origin = `http://127.0.0.1:${(await relay.listen()).port}`;
      const browser = await launchBrowser();
      const secret = randomRoomSecret();
      const sam = await join(browser, origin, secret, SHARER);
      const viewers: Array<{ readonly name: string; readonly page: Page }> = [];
      for (const name of VIEWERS) viewers.push({ name, page: await join(browser, origin, secret, name) });
      const pages = [sam, ...viewers.map((viewer) => viewer.page)];

      // Sign in and open the movie in sam's Jellyfin panel, as the e2e does.
      await sam.keyboard.press("Shift+J");
      const panel = sam.getByRole("complementary", { name: "Jellyfin" });
      await panel.getByLabel("Server address").first().fill(fixture.url);
      await panel.getByLabel("User name").fill("alice");
      await panel.getByLabel("Password").fill("pw");
      await panel.getByRole("button", { name: "Sign in", exact: true }).click();
      await panel.getByText("as alice").waitFor();
      await panel.getByRole("button", { name: /Movies/ }).click();
      await panel.getByRole("button", { name: new RegExp(TITLE) }).click();
      // Builds with a choice between stream and broadcast: stream ("relay mode") is measured.
      const relayMode = panel.getByRole("radio", { name: /^Stream/ });
      if ((await relayMode.count()) > 0) await relayMode.check();
      const shareButton = panel.getByRole("button", { name: SHARE_BUTTON });
      await shareButton.waitFor();

      const runs: RunResult[] = [];
      let uplink: { perViewerKbps: number; transportPerViewerKbps: number; bytesVsNeeded: number } | undefined;
      for (let run = 1; run <= RUNS; run++) {
        const last = run === RUNS;
        await shareButton.click();
        await sam.getByRole("heading", { name: SHARER_HEADING }).waitFor({ timeout: 20_000 });
        const watchButtons = viewers.map(({ page }) =>
          page.getByRole("group", { name: SHARER, exact: true }).getByRole("button", { name: WATCH_BUTTON }),
        );
        await Promise.all(watchButtons.map((button) => button.waitFor({ timeout: 15_000 })));
        // The connections to the viewers exist from the first run on: their totals so far.
        const before = (await sam.evaluate(uplinkScript(null))) as Uplink;
        await Promise.all(watchButtons.map((button) => button.click()));

        const sharerFrame = await firstFrame(sam, SHARER_HEADING, SHARER);
        const sharerMs = sharerFrame.at - (await clickAt(sam, SHARE_BUTTON, SHARER));
        const viewerMs: number[] = [];
        const viewerJoin = new Map<string, { clickAt: number; frame: FirstFrame }>();
        for (const { name, page } of viewers) {
          const frame = await firstFrame(page, VIEWER_HEADING, name);
          const clicked = await clickAt(page, WATCH_BUTTON, name);
          viewerMs.push(frame.at - clicked);
          viewerJoin.set(name, { clickAt: clicked, frame });
        }
        console.error(
          `watch-together: run ${run}/${RUNS}: first frame ${sharerMs.toFixed(0)} ms after sharing (sharer), ` +
            `${viewers.map(({ name }, i) => `${name} ${(viewerMs[i] ?? Number.NaN).toFixed(0)} ms`).join(", ")} after Watch`,
        );

        await sleep(SETTLE_MS);
        const [sharerSamples, ...viewerSamples] = await Promise.all([
          samplesFor(sam, SHARER_HEADING),
          ...viewers.map(({ page }) => samplesFor(page, VIEWER_HEADING)),
        ]);
        const runDrifts: number[] = [];
        viewers.forEach(({ name }, i) => {
          const own = drifts(sharerSamples ?? [], viewerSamples[i] ?? []);
          runDrifts.push(...own);
          console.error(
            `watch-together: run ${run}/${RUNS}: ${name} |drift| median ${median(own).toFixed(0)} ms, p95 ${percentile(own, 95).toFixed(0)} ms, max ${Math.max(...own).toFixed(0)} ms (${own.length} samples)`,
          );
        });
        runs.push({ sharerMs, viewerMs, driftsMs: runDrifts });

        if (last) {
          await poll("the end of the video", (media.durationS + 20) * 1000, async () =>
            (await sam.evaluate(`window.__wt.ended(${JSON.stringify(SHARER_HEADING)})`)) === true ? true : null,
          );
          const shareId = (await sam.evaluate(`window.meshmeet.room.localResources().find((r) => r.info.kind === "jellyfin")?.info.id ?? null`)) as
            | string
            | null;
          if (shareId === null) throw new Error("the sharer's page provides no share at the end of the video");
          const after = (await sam.evaluate(uplinkScript(shareId))) as Uplink;
          let bytes = 0;
          let transportBytes = 0;
          let seconds = 0;
          let needed = 0;
          for (const { name } of viewers) {
            const peer = after.peers.find((candidate) => candidate.name === name);
            const joined = viewerJoin.get(name);
            if (!peer || !joined) throw new Error(`no connection stats for ${name} on the sharer's page`);
            const transport = peer.transportBytes - (before.peers.find((candidate) => candidate.name === name)?.transportBytes ?? 0);
            const windowS = (after.at - joined.clickAt) / 1000;
            const viewerNeeds = neededBytes(media, joined.frame.mediaTime);
            console.error(
              `watch-together: uplink to ${name}: ${(peer.channelBytes / 1024).toFixed(0)} KiB on ${peer.channels} share channels ` +
                `(${(peer.mediaBytes / 1024).toFixed(0)} KiB media) in ${windowS.toFixed(1)} s from Watch to the end = ` +
                `${((peer.channelBytes * 8) / 1000 / windowS).toFixed(0)} kbit/s; transport ${(transport / 1024).toFixed(0)} KiB; ` +
                `first frame at ${joined.frame.mediaTime.toFixed(2)} s, from where the stream is ${(viewerNeeds / 1024).toFixed(0)} KiB (sent ${(peer.channelBytes / viewerNeeds).toFixed(2)}×)`,
            );
            bytes += peer.channelBytes;
            transportBytes += transport;
            seconds += windowS;
            needed += viewerNeeds;
          }
          // Per viewer: the viewers' bytes over the viewers' windows (= the mean rate, weighted by time).
          uplink = { perViewerKbps: (bytes * 8) / 1000 / seconds, transportPerViewerKbps: (transportBytes * 8) / 1000 / seconds, bytesVsNeeded: bytes / needed };
        }

        await sam.getByRole("button", { name: "Stop sharing" }).first().click();
        await sam.getByRole("heading", { name: SHARER_HEADING }).waitFor({ state: "detached", timeout: 15_000 });
        await Promise.all(viewers.map(({ page }) => waitShareGone(page)));
      }

      for (const [i, page] of pages.entries()) {
        const problems = pageErrors(page);
        const who = i === 0 ? SHARER : (VIEWERS[i - 1] ?? "?");
        for (const problem of problems) console.error(`watch-together: ${who}'s page reported (${problem.kind}): ${problem.message}`);
      }

      const sharerMs = median(runs.map((r) => r.sharerMs));
      const allViewerMs = runs.flatMap((r) => r.viewerMs);
      const viewerMs = median(allViewerMs);
      const allDrifts = runs.flatMap((r) => r.driftsMs);
      if (!uplink) throw new Error("the last run measured no uplink");
      const round = (value: number, digits = 1) => Number(value.toFixed(digits));
      console.log(
        `watch-together: first frame median ${viewerMs.toFixed(0)} ms after Watch (${allViewerMs.map((ms) => ms.toFixed(0)).join(", ")}), ` +
          `${sharerMs.toFixed(0)} ms after sharing (${runs.map((r) => r.sharerMs.toFixed(0)).join(", ")}); ` +
          `|drift| median ${median(allDrifts).toFixed(0)} ms, p95 ${percentile(allDrifts, 95).toFixed(0)} ms over ${allDrifts.length} samples; ` +
          `uplink ${uplink.perViewerKbps.toFixed(0)} kbit/s per viewer against ${media.kbps.toFixed(0)} kbit/s of media ` +
          `(${uplink.bytesVsNeeded.toFixed(2)}× the bytes each viewer needed from its start position)`,
      );
      return {
        watch_share_to_first_frame_ms: { value: Math.round(viewerMs), unit: "ms" },
        watch_sharer_share_to_first_frame_ms: { value: Math.round(sharerMs), unit: "ms" },
        watch_drift_median_ms: { value: round(median(allDrifts)), unit: "ms" },
        watch_drift_p95_ms: { value: round(percentile(allDrifts, 95)), unit: "ms" },
        watch_uplink_per_viewer_kbps: {
          value: round(uplink.perViewerKbps),
          unit: "kbit/s",
          baseline: round(media.kbps),
          ratio: round(uplink.perViewerKbps / media.kbps, 2),
        },
        watch_uplink_per_viewer_transport_kbps: {
          value: round(uplink.transportPerViewerKbps),
          unit: "kbit/s",
          baseline: round(media.kbps),
          ratio: round(uplink.transportPerViewerKbps / media.kbps, 2),
        },
      };
    } finally {
      await closeAll();
      await relay?.close();
      await fixture?.close();
    }
  },
};
