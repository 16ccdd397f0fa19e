// Video that follows each link: three Chromium pages in one room, each sharing its camera
// (640×480 fake device), so that everyone receives two videos. The link *to* one of them (cy)
// is throttled to THROTTLE_KBIT; the other two (ana, bo) have fast links. We measure, from each
// receiver's inbound-rtp statistics over MEASURE_S seconds, the frame rate and resolution of
// every video it receives and the time its picture was frozen (totalFreezesDuration).
//
// Five runs in one go, each in a fresh room: fitting off on a throttled link (the baseline),
// fitting on on the same throttled link, and fitting on with no throttle (what the fast
// receivers get when nothing is wrong anywhere); then, with no throttle and tiles smaller than
// the camera, fitting off and on: what the receivers' bandwidth is when each stream is sent at
// the size its tile shows.
//
// How one receiver's link is throttled between pages of one machine: cy's Chromium runs in a
// network namespace of its own (a child of the benchmark's, made here and removed at the end),
// joined to ours by a veth pair, mt0 here and mt1 there, with no other way out. cy's page loads
// from our address on that link (http://10.99.0.1:port, declared a secure origin for that
// browser only). On mt0's egress, an HTB class of THROTTLE_KBIT with a short byte FIFO takes the
// UDP traffic, i.e. all media to cy; the relay's TCP stays unshaped. (The kernel here has no
// sch_netem; HTB shapes the rate, the FIFO's length sets the queue a real link would have.)
// Needs root, Chromium and the private network namespace (make bench runs it there).

import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { readlinkSync, writeFileSync, chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { randomRoomSecret } from "../common/prefs/fragment.js";
import { loadConfig } from "../server/config.js";
import { createRelay } from "../server/create-relay.js";
import { closeAll, launchBrowser, openPage } from "../test/harness/browser.js";
import type { Benchmark, Figure } from "./types.js";

const STATIC_ROOT = fileURLToPath(new URL("../dist/public/", import.meta.url));
export const THROTTLE_KBIT = 300;
/** The bottleneck's queue: ~270 ms at 300 kbit/s, a home link's buffer. */
const QUEUE_BYTES = 10_000;
const WARMUP_S = 10;
const MEASURE_S = 60;
const REFERENCE_MEASURE_S = 30;
/** cy's side of the throttled link, and ours (v0's address, reached over mt0 by a host route). */
const THROTTLED_ADDRESS = "10.99.1.2";
const OUR_ADDRESS = "10.99.0.1";
/**
 * The link runs use a 2× screen: a tile (~300×168 CSS px) then shows the 640×480 camera at full
 * size in device pixels, so fitting to the tile takes nothing away and the figures are about the
 * link. The tile runs use a 1× screen, where each tile shows the camera at half size or less.
 */
const VIEWPORT = { width: 680, height: 1000 };
const LINK_SCALE_FACTOR = 2;
const TILE_SCALE_FACTOR = 1;
const TILE_MEASURE_S = 20;

interface ReceivedVideo {
  readonly from: string;
  readonly framesDecoded: number;
  readonly freezeS: number;
  readonly freezeCount: number;
  readonly width: number;
  readonly height: number;
  readonly bytesReceived: number;
  readonly at: number;
}

/** What one receiver got of one sender's video over the measurement. */
interface StreamResult {
  readonly receiver: string;
  readonly from: string;
  readonly fps: number;
  /** Median of the heights seen at each sample. */
  readonly height: number;
  readonly width: number;
  readonly freezeSPerMin: number;
  readonly freezes: number;
  readonly kbps: number;
  /** The size the receiver's tile shows it at, device pixels. */
  readonly shown: string;
}

function ip(args: readonly string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function tc(args: readonly string[]): void {
  execFileSync("tc", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** A network namespace for cy's browser, kept alive by a sleeping process, linked to ours by mt0/mt1. */
class ThrottledNamespace {
  private readonly holder: ChildProcess;
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), "link-video-"));
  readonly pid: number;

  private constructor(holder: ChildProcess) {
    this.holder = holder;
    if (holder.pid === undefined) throw new Error("could not start the namespace holder");
    this.pid = holder.pid;
  }

  static async create(): Promise<ThrottledNamespace> {
    const ours = readlinkSync("/proc/self/ns/net");
    const holder = spawn("unshare", ["-n", "sleep", "3600"], { stdio: "ignore" });
    const ns = new ThrottledNamespace(holder);
    for (let i = 0; i < 100 && readlinkSync(`/proc/${ns.pid}/ns/net`) === ours; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    if (readlinkSync(`/proc/${ns.pid}/ns/net`) === ours) throw new Error("unshare -n did not make a namespace");
    // No link-local address on our end: the harness refuses to launch browsers next to
    // interfaces it does not know, and mt0 needs none (a host route names it).
    ip(["link", "add", "mt0", "type", "veth", "peer", "name", "mt1", "netns", String(ns.pid)]);
    ip(["link", "set", "mt0", "addrgenmode", "none"]);
    ip(["link", "set", "mt0", "up"]);
    ip(["route", "add", `${THROTTLED_ADDRESS}/32`, "dev", "mt0", "src", OUR_ADDRESS]);
    ns.inside(["ip", "link", "set", "lo", "up"]);
    ns.inside(["ip", "addr", "add", `${THROTTLED_ADDRESS}/32`, "dev", "mt1"]);
    ns.inside(["ip", "link", "set", "mt1", "up"]);
    ns.inside(["ip", "route", "add", `${OUR_ADDRESS}/32`, "dev", "mt1", "src", THROTTLED_ADDRESS]);
    // Chromium gathers host candidates only on an interface with a default route.
    ns.inside(["ip", "route", "add", "default", "via", OUR_ADDRESS, "dev", "mt1", "onlink"]);
    return ns;
  }

  inside(command: readonly string[]): void {
    execFileSync("nsenter", [`--net=/proc/${this.pid}/ns/net`, ...command], { stdio: ["ignore", "ignore", "pipe"] });
  }

  /** A Chromium that runs in this namespace (Playwright's pipes pass through nsenter's exec). */
  chromiumPath(): string {
    const wrapper = path.join(this.dir, "chromium");
    const chromium = process.env["CHROME_PATH"] ?? "/usr/bin/chromium";
    writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=/proc/${this.pid}/ns/net ${chromium} "$@"\n`);
    chmodSync(wrapper, 0o755);
    return wrapper;
  }

  /** UDP towards cy goes through a THROTTLE_KBIT class; everything else through an unlimited one. */
  throttle(): void {
    tc(["qdisc", "add", "dev", "mt0", "root", "handle", "1:", "htb", "default", "10"]);
    tc(["class", "add", "dev", "mt0", "parent", "1:", "classid", "1:10", "htb", "rate", "1gbit"]);
    tc(["class", "add", "dev", "mt0", "parent", "1:", "classid", "1:20", "htb", "rate", `${THROTTLE_KBIT}kbit`, "ceil", `${THROTTLE_KBIT}kbit`, "burst", "4kb", "cburst", "4kb"]);
    tc(["qdisc", "add", "dev", "mt0", "parent", "1:20", "handle", "20:", "bfifo", "limit", String(QUEUE_BYTES)]);
    tc(["filter", "add", "dev", "mt0", "parent", "1:", "protocol", "ip", "prio", "1", "u32", "match", "ip", "protocol", "17", "0xff", "flowid", "1:20"]);
  }

  unthrottle(): void {
    try {
      tc(["qdisc", "del", "dev", "mt0", "root"]);
    } catch {
      // none set
    }
  }

  /** Bytes the shaper dropped so far (queue full), from `tc -s`. */
  dropped(): number {
    const text = execFileSync("tc", ["-s", "qdisc", "show", "dev", "mt0"], { encoding: "utf8" });
    const match = /bfifo 20:[\s\S]*?dropped (\d+)/.exec(text);
    return match ? Number(match[1]) : 0;
  }

  close(): void {
    try {
      ip(["link", "del", "mt0"]);
    } catch {
      // already gone with the namespace
    }
    this.holder.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface MeshmeetWindow {
  meshmeet: { room: { peerViews(): { key: string; name: string | undefined }[]; connectionOf(key: string): RTCPeerConnection | undefined } };
}

/** scaleResolutionDownBy of the video `page` sends to `name` (1 when unset). */
function sentScale(page: Page, name: string): Promise<number | undefined> {
  return page.evaluate((peerName) => {
    const room = (window as unknown as MeshmeetWindow).meshmeet.room;
    const key = room.peerViews().find((peer) => peer.name === peerName)?.key;
    const sender = key ? room.connectionOf(key)?.getSenders().find((s) => s.track?.kind === "video") : undefined;
    return sender ? (sender.getParameters().encodings[0]?.scaleResolutionDownBy ?? 1) : undefined;
  }, name);
}

/** The page's inbound video statistics, per sender name. */
function readReceived(page: Page): Promise<ReceivedVideo[]> {
  return page.evaluate(async () => {
    const room = (window as unknown as MeshmeetWindow).meshmeet.room;
    const out: ReceivedVideo[] = [];
    for (const peer of room.peerViews()) {
      const connection = room.connectionOf(peer.key);
      if (!connection || !peer.name) continue;
      (await connection.getStats()).forEach((report: Record<string, unknown>) => {
        if (report["type"] !== "inbound-rtp" || report["kind"] !== "video") return;
        out.push({
          from: peer.name ?? "",
          framesDecoded: Number(report["framesDecoded"] ?? 0),
          freezeS: Number(report["totalFreezesDuration"] ?? 0),
          freezeCount: Number(report["freezeCount"] ?? 0),
          width: Number(report["frameWidth"] ?? 0),
          height: Number(report["frameHeight"] ?? 0),
          bytesReceived: Number(report["bytesReceived"] ?? 0),
          at: performance.now(),
        });
      });
    }
    return out;
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : (sorted[Math.floor((sorted.length - 1) / 2)] ?? 0);
}

interface RunOptions {
  readonly label: string;
  readonly fit: boolean;
  readonly throttled: boolean;
  readonly measureS: number;
  readonly deviceScaleFactor: number;
}

async function oneRun(fast: Browser, slow: Browser, port: number, ns: ThrottledNamespace, options: RunOptions): Promise<StreamResult[]> {
  const secret = randomRoomSecret();
  const query = `camera_enabled=true&optional_video_default_enable=true&optional_audio_default_enable=false&send_previews=false&video_link_fit=${options.fit}`;
  const join = async (browser: Browser, origin: string, name: string): Promise<Page> => {
    const page = await openPage(browser, `${origin}/room#${secret}?username=${name}&${query}`, {
      contextOptions: { viewport: VIEWPORT, deviceScaleFactor: options.deviceScaleFactor },
    });
    await page.getByRole("button", { name: "Join with camera" }).click();
    await page.getByRole("button", { name: "Stop Camera" }).waitFor();
    return page;
  };
  if (options.throttled) ns.throttle();
  const pages: Record<string, Page> = {
    ana: await join(fast, `http://127.0.0.1:${port}`, "ana"),
    bo: await join(fast, `http://127.0.0.1:${port}`, "bo"),
    cy: await join(slow, `http://${OUR_ADDRESS}:${port}`, "cy"),
  };
  try {
    for (const [name, page] of Object.entries(pages)) {
      for (const other of Object.keys(pages).filter((n) => n !== name)) {
        await page.getByRole("group", { name: other, exact: true }).locator("video").waitFor({ timeout: 30_000 });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, WARMUP_S * 1000));
    const droppedBefore = options.throttled ? ns.dropped() : 0;
    const first = new Map(await Promise.all(Object.entries(pages).map(async ([name, page]) => [name, await readReceived(page)] as const)));
    const heights = new Map<string, number[]>();
    const widths = new Map<string, number[]>();
    const samples = Math.max(1, Math.round(options.measureS / 5));
    let last = first;
    const scalesToCy = new Map<string, (number | undefined)[]>();
    for (let i = 0; i < samples; i++) {
      await new Promise((resolve) => setTimeout(resolve, (options.measureS * 1000) / samples));
      for (const sender of ["ana", "bo"]) scalesToCy.set(sender, [...(scalesToCy.get(sender) ?? []), await sentScale(pages[sender] as Page, "cy")]);
      last = new Map(await Promise.all(Object.entries(pages).map(async ([name, page]) => [name, await readReceived(page)] as const)));
      for (const [receiver, videos] of last) {
        for (const video of videos) {
          const key = `${receiver}<${video.from}`;
          heights.set(key, [...(heights.get(key) ?? []), video.height]);
          widths.set(key, [...(widths.get(key) ?? []), video.width]);
        }
      }
    }
    const shown = new Map<string, string>();
    for (const [receiver, page] of Object.entries(pages)) {
      for (const from of Object.keys(pages).filter((n) => n !== receiver)) {
        const size = await page
          .getByRole("group", { name: from, exact: true })
          .locator("video")
          .evaluate((video) => `${Math.round(video.clientWidth * devicePixelRatio)}×${Math.round(video.clientHeight * devicePixelRatio)}`);
        shown.set(`${receiver}<${from}`, size);
      }
    }
    const results: StreamResult[] = [];
    for (const [receiver, videos] of last) {
      for (const end of videos) {
        const start = first.get(receiver)?.find((video) => video.from === end.from);
        if (!start) continue;
        const seconds = (end.at - start.at) / 1000;
        const key = `${receiver}<${end.from}`;
        results.push({
          receiver,
          from: end.from,
          fps: (end.framesDecoded - start.framesDecoded) / seconds,
          height: median(heights.get(key) ?? []),
          width: median(widths.get(key) ?? []),
          freezeSPerMin: ((end.freezeS - start.freezeS) / seconds) * 60,
          freezes: end.freezeCount - start.freezeCount,
          kbps: ((end.bytesReceived - start.bytesReceived) * 8) / seconds / 1000,
          shown: shown.get(key) ?? "?",
        });
      }
    }
    results.sort((a, b) => `${a.receiver}<${a.from}`.localeCompare(`${b.receiver}<${b.from}`));
    for (const r of results) {
      console.log(
        `link-video ${options.label}: ${r.receiver} receives ${r.from}: ${r.fps.toFixed(1)} fps, ${r.width}×${r.height} (tile ${r.shown}), ${Math.round(r.kbps)} kbit/s, frozen ${r.freezeSPerMin.toFixed(2)} s/min (${r.freezes} freezes)`,
      );
    }
    if (options.throttled) console.log(`link-video ${options.label}: the ${THROTTLE_KBIT} kbit/s link dropped ${ns.dropped() - droppedBefore} packets`);
    for (const [sender, scales] of scalesToCy) console.log(`link-video ${options.label}: ${sender}'s scale-down for cy, every 5 s: ${scales.join(" ")}`);
    return results;
  } finally {
    await Promise.all(Object.values(pages).map((page) => page.context().close()));
    ns.unthrottle();
  }
}

/** Figures of one run: the fast receivers' worst stream, and the throttled receiver's worst. */
function summarize(results: readonly StreamResult[]): {
  fastFps: number;
  fastHeight: number;
  fastFreeze: number;
  fastKbps: number;
  slowFreeze: number;
  slowFps: number;
  slowHeight: number;
} {
  const fast = results.filter((r) => r.receiver !== "cy");
  const slow = results.filter((r) => r.receiver === "cy");
  const min = (values: number[]) => (values.length ? Math.min(...values) : Number.NaN);
  const max = (values: number[]) => (values.length ? Math.max(...values) : Number.NaN);
  return {
    fastFps: min(fast.map((r) => r.fps)),
    fastHeight: min(fast.map((r) => r.height)),
    fastFreeze: max(fast.map((r) => r.freezeSPerMin)),
    fastKbps: fast.reduce((sum, r) => sum + r.kbps, 0) / Math.max(1, fast.length),
    slowFreeze: max(slow.map((r) => r.freezeSPerMin)),
    slowFps: min(slow.map((r) => r.fps)),
    slowHeight: min(slow.map((r) => r.height)),
  };
}

const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;

function compared(value: number, baseline: number, unit: string, round: (v: number) => number): Figure {
  return { value: round(value), unit, baseline: round(baseline), ...(baseline > 0 ? { ratio: round2(value / baseline) } : {}) };
}

export const linkVideoBenchmark: Benchmark = {
  name: "link-video",
  timeoutMs: 600_000,
  goals: [
    { figure: "link_video_throttled_frozen_s_per_min", on: "value", op: "<", target: 1 },
    { figure: "link_video_fast_fps_min", on: "ratio", op: ">=", target: 0.95 },
    { figure: "link_video_fast_height_min", on: "ratio", op: ">=", target: 1 },
    { figure: "link_video_small_tile_kbps", on: "ratio", op: "<", target: 1 },
  ],
  async run(): Promise<Record<string, Figure>> {
    const relay = createRelay(loadConfig('[server]\nbind = "0.0.0.0:0"\n'), { staticRoot: STATIC_ROOT });
    const { port } = await relay.listen();
    const ns = await ThrottledNamespace.create();
    try {
      const fast = await launchBrowser();
      const slow = await launchBrowser({
        executablePath: ns.chromiumPath(),
        extraArgs: [`--unsafely-treat-insecure-origin-as-secure=http://${OUR_ADDRESS}:${port}`],
      });
      const link = { throttled: true, measureS: MEASURE_S, deviceScaleFactor: LINK_SCALE_FACTOR };
      const off = summarize(await oneRun(fast, slow, port, ns, { ...link, label: "throttled, fitting off", fit: false }));
      const on = summarize(await oneRun(fast, slow, port, ns, { ...link, label: "throttled, fitting on", fit: true }));
      const free = summarize(
        await oneRun(fast, slow, port, ns, { ...link, label: "no throttle, fitting on", fit: true, throttled: false, measureS: REFERENCE_MEASURE_S }),
      );
      const tiles = { throttled: false, measureS: TILE_MEASURE_S, deviceScaleFactor: TILE_SCALE_FACTOR };
      const tilesOff = summarize(await oneRun(fast, slow, port, ns, { ...tiles, label: "small tiles, fitting off", fit: false }));
      const tilesOn = summarize(await oneRun(fast, slow, port, ns, { ...tiles, label: "small tiles, fitting on", fit: true }));
      return {
        // Baseline: the same throttled link without fitting.
        link_video_throttled_frozen_s_per_min: compared(on.slowFreeze, off.slowFreeze, "s/min", round2),
        link_video_throttled_fps: compared(on.slowFps, off.slowFps, "fps", round1),
        link_video_throttled_height: compared(on.slowHeight, off.slowHeight, "px", Math.round),
        link_video_fast_fps_min: compared(on.fastFps, off.fastFps, "fps", round1),
        link_video_fast_height_min: compared(on.fastHeight, off.fastHeight, "px", Math.round),
        link_video_fast_frozen_s_per_min: compared(on.fastFreeze, off.fastFreeze, "s/min", round2),
        // Baseline: nothing throttled (what the fast receivers get when all is well).
        link_video_fast_fps_min_vs_unthrottled: compared(on.fastFps, free.fastFps, "fps", round1),
        link_video_fast_height_min_vs_unthrottled: compared(on.fastHeight, free.fastHeight, "px", Math.round),
        // Baseline: the same small tiles, sent at full size.
        link_video_small_tile_kbps: compared(tilesOn.fastKbps, tilesOff.fastKbps, "kbit/s", Math.round),
      };
    } finally {
      await closeAll();
      ns.close();
      await relay.close();
    }
  },
};
