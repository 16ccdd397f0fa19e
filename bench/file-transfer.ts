// File throughput between two Chromium pages, against the raw data-channel rate measured in the
// same run between the same two pages (no file reading, no hashing, no writing). Two raw rates:
// the old-style loop (OLD_RAW: 64 KiB messages, what this benchmark used to measure) and the best
// loop we found (BEST_RAW: the largest message the remote takes, deeper water marks), which is
// the wire's real limit here and the baseline the file ratio is computed against. And the receiving page's
// JS heap growth during a 1 GiB download (the service-worker path streams to disk, so it should
// stay flat). Needs Chromium and the private network namespace (make bench runs it there).

import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { randomRoomSecret } from "../common/prefs/fragment.js";
import { loadConfig } from "../server/config.js";
import { createRelay } from "../server/create-relay.js";
import { closeAll, launchBrowser, openPage } from "../test/harness/browser.js";
import type { Benchmark, Figure } from "./types.js";

const STATIC_ROOT = fileURLToPath(new URL("../dist/public/", import.meta.url));
const MiB = 1024 * 1024;
const THROUGHPUT_BYTES = Number(process.env.FB_MIB ?? 256) * MiB;
const MEMORY_BYTES = Number(process.env.FB_MEM_MIB ?? 1024) * MiB;
/** Raw/file triples for the throughput figure (FB_ROUNDS overrides; 1 for a quick look). */
const ROUNDS = Math.max(1, Number(process.env.FB_ROUNDS ?? 5));
/** A small download before the rounds: installs the download service worker, once per profile. */
const WARM_UP_BYTES = 8 * MiB;

interface RawSettings {
  /** Message size, capped by the remote's maxMessageSize. */
  readonly messageBytes: number;
  /** Keep sending while bufferedAmount is at or below this. */
  readonly highWaterBytes: number;
  readonly bufferedAmountLowThreshold: number;
}

/** The loop this benchmark measured first: the file sender's settings of the time. */
const OLD_RAW: RawSettings = { messageBytes: 64 * 1024, highWaterBytes: 1 * MiB, bufferedAmountLowThreshold: 256 * 1024 };

/**
 * The fastest raw loop found here (two Chromium pages, loopback, 2 shared cores), from four sweeps
 * of message size (32, 64, 128, 256 KiB) and water marks (high 1, 2, 4, 8, 16 MiB with the
 * threshold at a quarter of it, or 0): 256 KiB messages (Chromium's maxMessageSize) averaged
 * 5–15 % above 64 KiB ones and 32 KiB ones were slowest; between 1 and 8 MiB of high water the
 * rounds differed less than the load did, 16 MiB was slower. 4 MiB / 1 MiB sits in the middle of
 * what ran best, and is deeper than the file sender's own 1 MiB / 256 KiB.
 */
const BEST_RAW: RawSettings = { messageBytes: 256 * 1024, highWaterBytes: 4 * MiB, bufferedAmountLowThreshold: 1 * MiB };

async function writeRandomFile(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  const block = randomBytes(4 * MiB);
  for (let written = 0; written < bytes; written += block.length) {
    if (!out.write(block.subarray(0, Math.min(block.length, bytes - written)))) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/**
 * A bare data channel between the two pages, signaled through this process, kept for the whole
 * run and warmed up before the first measurement: the file transfers run over the meeting's
 * connection, which is up (and past SCTP's slow start) long before a file is requested, so a
 * fresh connection per raw run would measure its ramp-up and make the baseline weak.
 */
async function openRawChannel(a: Page, b: Page): Promise<void> {
  // Non-trickle: each description is sent once its candidates are gathered (a few ms here).
  const gathered = `new Promise((resolve) => {
    const pc = window.rawPc;
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
  })`;
  await Promise.all([a.evaluate("window.rawPc = new RTCPeerConnection(); 0"), b.evaluate("window.rawPc = new RTCPeerConnection(); 0")]);
  // Each measurement sets window.rawRun; the receiver times from its first message to its last.
  await b.evaluate(`
    window.rawPc.ondatachannel = ({ channel }) => {
      channel.binaryType = "arraybuffer";
      channel.onmessage = ({ data }) => {
        const run = window.rawRun;
        if (!run) return;
        if (run.started === 0) run.started = performance.now();
        run.received += data.byteLength;
        if (run.received >= run.bytes) run.resolve({ received: run.received, ms: performance.now() - run.started });
      };
    };
    0;
  `);
  const offer = await a.evaluate(`(async () => {
    window.rawChannel = window.rawPc.createDataChannel("raw");
    await window.rawPc.setLocalDescription();
    await ${gathered};
    return window.rawPc.localDescription.toJSON();
  })()`);
  const answer = await b.evaluate(`(async (offer) => {
    await window.rawPc.setRemoteDescription(offer);
    await window.rawPc.setLocalDescription();
    await ${gathered};
    return window.rawPc.localDescription.toJSON();
  })(${JSON.stringify(offer)})`);
  await a.evaluate(`window.rawPc.setRemoteDescription(${JSON.stringify(answer)})`);
  await a.evaluate(`new Promise((r) => (window.rawChannel.readyState === "open" ? r() : (window.rawChannel.onopen = r)))`);
  await rawRate(a, b, WARM_UP_BYTES, BEST_RAW);
}

/** Sends `bytes` over the raw channel with `settings`; returns MB/s as the receiver saw them arrive. */
async function rawRate(a: Page, b: Page, bytes: number, settings: RawSettings): Promise<number> {
  await b.evaluate(`window.rawDone = new Promise((resolve) => (window.rawRun = { bytes: ${bytes}, received: 0, started: 0, resolve })); 0`);
  // Fill until full, then wait for the low-water event: the file sender's loop, with no file.
  const { messageBytes, highWaterBytes, bufferedAmountLowThreshold } = settings;
  await a.evaluate(`(async () => {
    const ch = window.rawChannel;
    const chunk = Math.min(${messageBytes}, window.rawPc.sctp.maxMessageSize || ${messageBytes});
    const data = new Uint8Array(chunk);
    ch.bufferedAmountLowThreshold = ${bufferedAmountLowThreshold};
    let sent = 0;
    while (sent < ${bytes}) {
      while (ch.bufferedAmount <= ${highWaterBytes} && sent < ${bytes}) { ch.send(data); sent += chunk; }
      if (sent < ${bytes}) await new Promise((r) => (ch.onbufferedamountlow = r));
    }
  })()`);
  const { received, ms } = (await b.evaluate("window.rawDone")) as { received: number; ms: number };
  await b.evaluate("window.rawRun = undefined");
  return received / 1e6 / (ms / 1000);
}

interface FileRun {
  readonly mbPerSecond: number;
  readonly peakHeapGrowthMiB: number;
}

/** Shares `file` from `a`, downloads it in `b` through the UI; rate from click to saved. */
async function fileRate(a: Page, b: Page, file: string, bytes: number): Promise<FileRun> {
  const name = path.basename(file);
  await a.locator("#file-picker").setInputFiles(file);
  const offer = b.getByRole("group", { name: "ana", exact: true }).getByRole("button", { name: `Download ${name} from ana` });
  await offer.waitFor();
  const cdp = await b.context().newCDPSession(b);
  await cdp.send("HeapProfiler.collectGarbage");
  const heap = async () => ((await cdp.send("Runtime.getHeapUsage")) as { usedSize: number }).usedSize;
  const baseline = await heap();
  let peak = baseline;
  const sampler = setInterval(() => {
    void heap().then((used) => (peak = Math.max(peak, used)), () => {});
  }, 250);
  const started = performance.now();
  const download = b.waitForEvent("download", { timeout: 600_000 });
  await offer.click();
  const saved = await (await download).path();
  const ms = performance.now() - started;
  clearInterval(sampler);
  if (!saved) throw new Error("the download failed");
  await cdp.detach();
  return { mbPerSecond: bytes / 1e6 / (ms / 1000), peakHeapGrowthMiB: (peak - baseline) / MiB };
}

interface Round {
  readonly oldRaw: number;
  readonly bestRaw: number;
  readonly file: number;
}

export const fileTransferBenchmark: Benchmark = {
  name: "file-transfer",
  timeoutMs: 900_000,
  goals: [
    // Median over the rounds of file / best raw, and the worst round.
    { figure: "file_throughput_mb_per_s", on: "ratio", op: ">=", target: 0.95 },
    { figure: "file_throughput_min_ratio", on: "value", op: ">=", target: 0.85 },
    { figure: "file_receiver_heap_growth_1gib_mib", on: "value", op: "<", target: 64 },
  ],
  async run(): Promise<Record<string, Figure>> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "meshmeet-bench-files-"));
    const relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: STATIC_ROOT });
    const { port } = await relay.listen();
    try {
      // One file per round: a file already shared is not offered a second time.
      const throughputFiles = Array.from({ length: ROUNDS }, (_, i) => path.join(dir, `bench-256-${i + 1}.bin`));
      const memoryFile = path.join(dir, "bench-1024.bin");
      const warmUpFile = path.join(dir, "bench-warm-up.bin");
      console.error("file-transfer: writing test files");
      await writeRandomFile(warmUpFile, WARM_UP_BYTES);
      for (const file of throughputFiles) await writeRandomFile(file, THROUGHPUT_BYTES);
      await writeRandomFile(memoryFile, MEMORY_BYTES);
      const browser = await launchBrowser();
      const secret = randomRoomSecret();
      const a = await openPage(browser, `http://127.0.0.1:${port}/room#${secret}?username=ana`);
      const b = await openPage(browser, `http://127.0.0.1:${port}/room#${secret}?username=bo`);
      await b.getByRole("group", { name: "ana", exact: true }).waitFor();
      await openRawChannel(a, b);
      const warmUp = await fileRate(a, b, warmUpFile, WARM_UP_BYTES);
      console.log(`file-transfer: warm-up (installs the download worker) ${(WARM_UP_BYTES / MiB).toFixed(0)} MiB at ${warmUp.mbPerSecond.toFixed(1)} MB/s`);
      console.log(
        `file-transfer: raw settings: old-style ${describeRaw(OLD_RAW)}; best ${describeRaw(BEST_RAW)}`,
      );
      // The three runs of a round take turns going first, and the median of the per-round ratios
      // is reported: on a shared 2-core VM one run can differ by 20 % from the next for reasons
      // that have nothing to do with either path.
      const rounds: Round[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const order = (["best", "file", "old"] as const).map((_, i, all) => all[(i + round - 1) % all.length] ?? "file");
        const rates = { best: 0, file: 0, old: 0 };
        for (const which of order) {
          if (which === "file") rates.file = (await fileRate(a, b, throughputFiles[round - 1] ?? "", THROUGHPUT_BYTES)).mbPerSecond;
          else rates[which] = await rawRate(a, b, THROUGHPUT_BYTES, which === "best" ? BEST_RAW : OLD_RAW);
        }
        const result: Round = { oldRaw: rates.old, bestRaw: rates.best, file: rates.file };
        console.log(
          `file-transfer: round ${round}/${ROUNDS} (${order.join(", ")}): raw best ${result.bestRaw.toFixed(1)} MB/s, ` +
            `raw old-style ${result.oldRaw.toFixed(1)} MB/s, file ${result.file.toFixed(1)} MB/s, ` +
            `ratio ${(result.file / result.bestRaw).toFixed(2)} (${(result.file / result.oldRaw).toFixed(2)} of old-style)`,
        );
        rounds.push(result);
      }
      const ratios = rounds.map((r) => r.file / r.bestRaw).sort((x, y) => x - y);
      const medianRound = [...rounds].sort((x, y) => x.file / x.bestRaw - y.file / y.bestRaw)[Math.floor(rounds.length / 2)];
      if (!medianRound) throw new Error("no rounds ran");
      const minRatio = ratios[0] ?? 0;
      const medianOf = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? 0;
      const bestRaw = medianOf(rounds.map((r) => r.bestRaw));
      const oldRaw = medianOf(rounds.map((r) => r.oldRaw));
      console.log(
        `file-transfer: ratios ${ratios.map((r) => r.toFixed(2)).join(", ")}; median ${(medianRound.file / medianRound.bestRaw).toFixed(2)}, ` +
          `min ${minRatio.toFixed(2)}; medians: file ${medianOf(rounds.map((r) => r.file)).toFixed(1)} MB/s, ` +
          `raw best ${bestRaw.toFixed(1)} MB/s, raw old-style ${oldRaw.toFixed(1)} MB/s`,
      );
      const memory = await fileRate(a, b, memoryFile, MEMORY_BYTES);
      console.log(`file-transfer: 1 GiB at ${memory.mbPerSecond.toFixed(1)} MB/s, receiver heap +${memory.peakHeapGrowthMiB.toFixed(1)} MiB`);
      return {
        // The round with the median ratio: its own file rate, best raw rate and ratio.
        file_throughput_mb_per_s: {
          value: round(medianRound.file),
          unit: "MB/s",
          baseline: round(medianRound.bestRaw),
          ratio: round(medianRound.file / medianRound.bestRaw),
        },
        file_throughput_min_ratio: { value: round(minRatio), unit: "ratio" },
        // The best raw loop against the old-style one (medians over the rounds).
        file_raw_best_mb_per_s: { value: round(bestRaw), unit: "MB/s", baseline: round(oldRaw), ratio: round(bestRaw / oldRaw) },
        file_receiver_heap_growth_1gib_mib: { value: round(memory.peakHeapGrowthMiB), unit: "MiB" },
      };
    } finally {
      await closeAll();
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

function describeRaw({ messageBytes, highWaterBytes, bufferedAmountLowThreshold }: RawSettings): string {
  return `${messageBytes / 1024} KiB messages, high water ${highWaterBytes / 1024} KiB, bufferedAmountLowThreshold ${bufferedAmountLowThreshold / 1024} KiB`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
