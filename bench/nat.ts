// Meetings across NATs: for each router topology of the NAT lab (test/harness/nat-lab.ts), RUNS
// meetings between two homes, each timed from the newcomer's navigation to the first frame of the
// other person's camera (performance.now() on the newcomer's page counts from navigation start).
// The relay (built-in STUN) and coturn sit on the lab's public segment, configured as the README
// recommends, with the same config for every topology, so the figures compare like for like:
//
//   none         no NAT at all (plain routing): the baseline every other topology is divided by
//   cone         two port-preserving masquerades: direct through the NATs with the built-in STUN
//   symmetric    two `masquerade random,fully-random`: only TURN (UDP) gets through
//   udp_blocked  one home whose router drops all UDP ↔ a cone home: only TURN over TCP works
//
// A run that shows no frame within RUN_TIMEOUT_MS counts as not connected (and is left out of the
// times). Each run uses fresh browser contexts: no cache, no stored prefs, new ICE agents.
// Needs root in a private network namespace and Chromium (make bench provides both).

import { randomRoomSecret } from "../common/prefs/fragment.js";
import type { Browser, Page } from "playwright-core";
import { startCoturn, type Coturn } from "../test/harness/coturn.js";
import { joinRoom, launchInHome, peerTile, startLabRelay, type LabRelay } from "../test/harness/lab-meeting.js";
import { createNatLab, type NatLab } from "../test/harness/nat-lab.js";
import { percentile } from "./percentile.js";
import type { Benchmark, Figure } from "./types.js";

const RUNS = 10;
/** Long enough for the engine's ICE restarts to get past a stuck NAT race (they back off to 10 s). */
const RUN_TIMEOUT_MS = 45_000;
const TURN_SECRET = "nat-bench-secret-0123456789";

const HOMES = { noneA: "none", noneB: "none", coneA: "cone", coneB: "cone", symA: "symmetric", symB: "symmetric", coneC: "cone", blocked: "udp-blocked" } as const;
type Home = keyof typeof HOMES;

/** Topology → [the home of the member already sending her camera, the newcomer's home]. */
const TOPOLOGIES: ReadonlyArray<readonly [string, Home, Home]> = [
  ["none", "noneA", "noneB"],
  ["cone", "coneA", "coneB"],
  ["symmetric", "symA", "symB"],
  ["udp_blocked", "coneC", "blocked"],
];


/** ms from the newcomer's navigation to the first remote frame, or null when none came in time. */
async function oneRun(sender: Browser, newcomer: Browser, origin: string): Promise<number | null> {
  const secret = randomRoomSecret();
  const pages: Page[] = [];
  try {
    const ana = await joinRoom(sender, origin, secret, "ana", { camera_enabled: "true" });
    pages.push(ana);
    await ana.getByRole("button", { name: "Stop Camera" }).waitFor();
    const bo = await joinRoom(newcomer, origin, secret, "bo", { optional_video_default_enable: "true" });
    pages.push(bo);
    const video = peerTile(bo, "ana").locator("video");
    await video.waitFor({ timeout: RUN_TIMEOUT_MS });
    return await video.evaluate(
      (element, timeout) =>
        new Promise<number | null>((resolve) => {
          const timer = setTimeout(() => resolve(null), timeout);
          (element as HTMLVideoElement).requestVideoFrameCallback(() => {
            clearTimeout(timer);
            resolve(performance.now());
          });
        }),
      RUN_TIMEOUT_MS,
    );
  } catch {
    // The tile's <video> never appeared: the peers never connected.
    return null;
  } finally {
    await Promise.all(pages.map((page) => page.context().close()));
  }
}

export const natBenchmark: Benchmark = {
  name: "nat",
  timeoutMs: 30 * 60_000,
  goals: TOPOLOGIES.flatMap(([topology]) => [
    { figure: `nat_${topology}_connected_ratio`, on: "value" as const, op: ">=" as const, target: 1 },
    ...(topology === "none" ? [] : [{ figure: `nat_${topology}_first_frame_ms`, on: "ratio" as const, op: "<=" as const, target: 1.3 }]),
  ]),
  async run(): Promise<Record<string, Figure>> {
    let lab: NatLab | undefined;
    let coturn: Coturn | undefined;
    let relay: LabRelay | undefined;
    const browsers = new Map<Home, Browser>();
    try {
      lab = await createNatLab({ homes: HOMES });
      coturn = await startCoturn(lab, { secret: TURN_SECRET });
      relay = await startLabRelay(lab, `[turn]\nurls = ["${coturn.urls.udp}", "${coturn.urls.tcp}"]\nsecret = "${TURN_SECRET}"\n`);
      const origin = relay.origin;
      const homes = Object.keys(HOMES) as Home[];
      const launched = await Promise.all(homes.map((home) => launchInHome(lab as NatLab, home, origin)));
      homes.forEach((home, i) => browsers.set(home, launched[i] as Browser));
      const browserOf = (home: Home): Browser => browsers.get(home) as Browser;
      const times = new Map<string, number[]>(TOPOLOGIES.map(([topology]) => [topology, []]));
      // Warm-up per pair of browsers: the first page load compiles and fills caches.
      for (const [, sender, newcomer] of TOPOLOGIES) await oneRun(browserOf(sender), browserOf(newcomer), origin);
      // Round-robin, one meeting per topology per round: whatever else the machine does drifts
      // over all topologies alike, so the ratios compare like with like.
      for (let round = 0; round < RUNS; round++) {
        for (const [topology, sender, newcomer] of TOPOLOGIES) {
          const time = await oneRun(browserOf(sender), browserOf(newcomer), origin);
          if (time !== null) times.get(topology)?.push(time);
        }
      }
      const figures: Record<string, Figure> = {};
      let baselineMedian: number | undefined;
      for (const [topology] of TOPOLOGIES) {
        const sorted = [...(times.get(topology) ?? [])].sort((a, b) => a - b);
        console.log(`nat ${topology}: ${sorted.length}/${RUNS} connected; first frame ${sorted.map((t) => Math.round(t)).join(", ")} ms`);
        figures[`nat_${topology}_connected_ratio`] = { value: sorted.length / RUNS, unit: "ratio" };
        if (sorted.length === 0) continue;
        const median = Math.round(percentile(sorted, 50));
        const p90 = Math.round(percentile(sorted, 90));
        if (topology === "none") baselineMedian = median;
        figures[`nat_${topology}_first_frame_ms`] =
          topology === "none" || baselineMedian === undefined
            ? { value: median, unit: "ms" }
            : { value: median, unit: "ms", baseline: baselineMedian, ratio: median / baselineMedian };
        figures[`nat_${topology}_first_frame_p90_ms`] = { value: p90, unit: "ms" };
      }
      return figures;
    } finally {
      await Promise.all([...browsers.values()].map((browser) => browser.close().catch(() => undefined)));
      await relay?.stop();
      await coturn?.stop();
      await lab?.close();
    }
  },
};
