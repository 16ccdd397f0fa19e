// File throughput between two Chromium pages, against the raw data-channel rate measured in the
// same run between the same two pages (same chunk size and water marks; no file reading, no
// hashing, no writing). And the receiving page's JS heap growth during a 1 GiB download (the
// service-worker path streams to disk, so it should stay flat).
// Needs Chromium and the private network namespace (make bench runs it there).

import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { CHUNK_BYTES, HIGH_WATER_BYTES, LOW_WATER_BYTES } from "../common/engine/file-transfer/protocol.js";
import { randomRoomSecret } from "../common/prefs/fragment.js";
import { loadConfig } from "../server/config.js";
import { createRelay } from "../server/create-relay.js";
import { closeAll, launchBrowser, openPage } from "../test/harness/browser.js";
import type { Benchmark, Figure } from "./types.js";

const STATIC_ROOT = fileURLToPath(new URL("../dist/public/", import.meta.url));
const MiB = 1024 * 1024;
const THROUGHPUT_BYTES = Number(process.env.FB_MIB ?? 256) * MiB;
const MEMORY_BYTES = Number(process.env.FB_MEM_MIB ?? 1024) * MiB;
/** Raw/file pairs for the throughput figure (FB_ROUNDS overrides; 1 for a quick look). */
const ROUNDS = Math.max(1, Number(process.env.FB_ROUNDS ?? 5));

async function writeRandomFile(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  const block = randomBytes(4 * MiB);
  for (let written = 0; written < bytes; written += block.length) {
    if (!out.write(block.subarray(0, Math.min(block.length, bytes - written)))) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/** A bare data channel between the two pages, signaled through this process; returns MB/s. */
async function rawRate(a: Page, b: Page, bytes: number): Promise<number> {
  // Non-trickle: each description is sent once its candidates are gathered (a few ms here).
  const gathered = `new Promise((resolve) => {
    const pc = window.rawPc;
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
  })`;
  await Promise.all([a.evaluate("window.rawPc = new RTCPeerConnection(); 0"), b.evaluate("window.rawPc = new RTCPeerConnection(); 0")]);
  await b.evaluate(`
    window.rawDone = new Promise((resolve) => {
      window.rawPc.ondatachannel = ({ channel }) => {
        channel.binaryType = "arraybuffer";
        let received = 0, started = 0;
        channel.onmessage = ({ data }) => {
          if (started === 0) started = performance.now();
          received += data.byteLength;
          if (received >= ${bytes}) resolve({ received, ms: performance.now() - started });
        };
      };
    });
    0; // evaluate() would otherwise wait for the promise it just made
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
  // Same chunking and water marks as the file sender.
  await a.evaluate(`(async () => {
    const ch = window.rawChannel;
    await new Promise((r) => (ch.readyState === "open" ? r() : (ch.onopen = r)));
    const chunk = Math.min(${CHUNK_BYTES}, window.rawPc.sctp.maxMessageSize || ${CHUNK_BYTES});
    const data = new Uint8Array(chunk);
    ch.bufferedAmountLowThreshold = ${LOW_WATER_BYTES};
    let sent = 0;
    while (sent < ${bytes}) {
      while (ch.bufferedAmount <= ${HIGH_WATER_BYTES} && sent < ${bytes}) { ch.send(data); sent += chunk; }
      if (sent < ${bytes}) await new Promise((r) => (ch.onbufferedamountlow = r));
    }
  })()`);
  const { received, ms } = (await b.evaluate("window.rawDone")) as { received: number; ms: number };
  await Promise.all([a.evaluate("window.rawPc.close()"), b.evaluate("window.rawPc.close()")]);
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

export const fileTransferBenchmark: Benchmark = {
  name: "file-transfer",
  timeoutMs: 600_000,
  goals: [
    { figure: "file_throughput_mb_per_s", on: "ratio", op: ">=", target: 0.9 },
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
      console.error("file-transfer: writing test files");
      for (const file of throughputFiles) await writeRandomFile(file, THROUGHPUT_BYTES);
      await writeRandomFile(memoryFile, MEMORY_BYTES);
      const browser = await launchBrowser();
      const secret = randomRoomSecret();
      const a = await openPage(browser, `http://127.0.0.1:${port}/room#${secret}?username=ana`);
      const b = await openPage(browser, `http://127.0.0.1:${port}/room#${secret}?username=bo`);
      await b.getByRole("group", { name: "ana", exact: true }).waitFor();
      // Raw and file alternate (raw first in odd rounds, file first in even ones) and the median
      // of the per-round ratios is reported: on a shared 2-core VM one pair of runs can differ by
      // 20 % from the next for reasons that have nothing to do with either path.
      const rounds: Array<{ raw: number; file: number }> = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const rawFirst = round % 2 === 1;
        let raw = 0;
        let file = 0;
        for (const which of rawFirst ? ["raw", "file"] : ["file", "raw"]) {
          if (which === "raw") raw = await rawRate(a, b, THROUGHPUT_BYTES);
          else file = (await fileRate(a, b, throughputFiles[round - 1] ?? "", THROUGHPUT_BYTES)).mbPerSecond;
        }
        console.log(`file-transfer: round ${round}/${ROUNDS}: raw ${raw.toFixed(1)} MB/s, file ${file.toFixed(1)} MB/s, ratio ${(file / raw).toFixed(2)}`);
        rounds.push({ raw, file });
      }
      const medianRound = [...rounds].sort((x, y) => x.file / x.raw - y.file / y.raw)[Math.floor(rounds.length / 2)];
      if (!medianRound) throw new Error("no rounds ran");
      const memory = await fileRate(a, b, memoryFile, MEMORY_BYTES);
      console.log(`file-transfer: 1 GiB at ${memory.mbPerSecond.toFixed(1)} MB/s, receiver heap +${memory.peakHeapGrowthMiB.toFixed(1)} MiB`);
      return {
        // The round with the median ratio: its own file rate, raw rate and ratio.
        file_throughput_mb_per_s: {
          value: round(medianRound.file),
          unit: "MB/s",
          baseline: round(medianRound.raw),
          ratio: round(medianRound.file / medianRound.raw),
        },
        file_receiver_heap_growth_1gib_mib: { value: round(memory.peakHeapGrowthMiB), unit: "MiB" },
      };
    } finally {
      await closeAll();
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
