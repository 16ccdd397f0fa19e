// How much JavaScript the pages load before anything is used, from the built site (make bench
// builds it first). The room's initial files are the boot script, the client it imports at once
// and their static imports (dist/bundle-manifest.json, written by scripts/build.ts); panels and
// features load on first use. Sizes are of the precompressed copies the relay serves (gzip and
// brotli, one per file, as a browser fetches them), against the baseline of the same client built
// as one bundle in this run (what the page would load without code splitting).
// Then a real Chromium opens a room and reports what it fetched up to the join (encoded bytes on
// the wire, and whether any lazily loaded chunk came along), which checks the manifest.
// Needs Chromium and the private network namespace (make bench runs it there).

import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { randomRoomSecret } from "../common/prefs/fragment.js";
import { BUNDLE_MANIFEST, browser as browserBuild, ROOM_BOOT, type BundleManifest } from "../scripts/build.js";
import { loadConfig } from "../server/config.js";
import { createRelay } from "../server/create-relay.js";
import { closeAll, launchBrowser, openPage } from "../test/harness/browser.js";
import type { Benchmark, Figure } from "./types.js";

const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const PUBLIC = `${DIST}public/`;

/** Bytes of `file` as served with the encoding of `suffix` (its precompressed copy; the file itself if the build wrote none). */
function servedBytes(file: string, suffix: "" | ".gz" | ".br"): number {
  const copy = `${PUBLIC}${file}${suffix}`;
  return statSync(existsSync(copy) ? copy : `${PUBLIC}${file}`).size;
}

function sum(files: readonly string[], suffix: "" | ".gz" | ".br"): number {
  return files.reduce((total, file) => total + servedBytes(file, suffix), 0);
}

/** The whole room client as one file (dynamic imports inlined), gzipped: the no-splitting baseline. */
async function unsplitRoomGzipBytes(): Promise<number> {
  const result = await build({ ...browserBuild, entryPoints: [ROOM_BOOT], format: "esm", splitting: false, write: false, sourcemap: false, legalComments: "none", outdir: "/unused" });
  const js = result.outputFiles.filter((file) => file.path.endsWith(".js"));
  return js.reduce((total, file) => total + gzipSync(file.contents, { level: 9 }).length, 0);
}

interface Fetched {
  readonly name: string;
  readonly transferSize: number;
  readonly encodedBodySize: number;
}

/** What a fresh Chromium context fetches for the room page until it has joined. */
async function fetchedUntilJoined(): Promise<Fetched[]> {
  const relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: PUBLIC });
  const { port } = await relay.listen();
  try {
    const browser = await launchBrowser();
    const page = await openPage(browser, `http://127.0.0.1:${port}/room#${randomRoomSecret()}?username=bench`);
    await page.waitForFunction(() => performance.getEntriesByName("meshmeet:joined").length > 0, undefined, { timeout: 15_000 });
    const fetched = await page.evaluate(() =>
      (performance.getEntriesByType("resource") as PerformanceResourceTiming[])
        .filter((entry) => new URL(entry.name).pathname.endsWith(".js"))
        .map((entry) => ({ name: new URL(entry.name).pathname, transferSize: entry.transferSize, encodedBodySize: entry.encodedBodySize })),
    );
    await page.context().close();
    return fetched;
  } finally {
    await closeAll();
    await relay.close();
  }
}

export const bundleSizeBenchmark: Benchmark = {
  name: "bundle-size",
  timeoutMs: 90_000,
  goals: [
    { figure: "initial_js_room_gzip_bytes", on: "value", op: "<=", target: 40_000 },
    { figure: "initial_js_start_gzip_bytes", on: "value", op: "<=", target: 8_000 },
  ],
  async run(): Promise<Record<string, Figure>> {
    const manifestPath = `${DIST}${BUNDLE_MANIFEST}`;
    if (!existsSync(manifestPath)) throw new Error(`${manifestPath} is missing: build first (make build)`);
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as BundleManifest;
    const room = manifest.roomInitial;
    const unsplit = await unsplitRoomGzipBytes();
    const roomGzip = sum(room, ".gz");
    console.log(`bundle-size: room loads ${room.length} files first: ${room.map((file) => `${file.slice("assets/".length)} ${servedBytes(file, ".gz")}`).join(", ")} (gzip bytes)`);

    const fetched = await fetchedUntilJoined();
    const initialNames = new Set(room.map((file) => `/${file}`));
    const lazyFetched = fetched.filter((entry) => !initialNames.has(entry.name));
    console.log(`bundle-size: Chromium fetched ${fetched.length} scripts until joined, ${fetched.reduce((t, e) => t + e.encodedBodySize, 0)} encoded bytes${lazyFetched.length > 0 ? `; NOT in the manifest: ${lazyFetched.map((e) => e.name).join(", ")}` : ""}`);

    return {
      initial_js_room_gzip_bytes: { value: roomGzip, unit: "B", baseline: unsplit, ratio: roomGzip / unsplit },
      initial_js_room_brotli_bytes: { value: sum(room, ".br"), unit: "B" },
      initial_js_room_raw_bytes: { value: sum(room, ""), unit: "B" },
      initial_js_room_files: { value: room.length, unit: "files" },
      initial_js_room_fetched_bytes: { value: fetched.reduce((total, entry) => total + entry.encodedBodySize, 0), unit: "B" },
      initial_js_room_fetched_lazy_files: { value: lazyFetched.length, unit: "files" },
      initial_js_start_gzip_bytes: { value: sum(manifest.startInitial, ".gz"), unit: "B" },
    };
  },
};
