// Builds everything into dist/: the relay (dist/server/main.js) and the static site it serves
// (dist/public: HTML shells and other files from assets/, browser bundles under /assets/).
// Usage: tsx scripts/build.ts [--dev]   (--dev: no minification)

import { build, type BuildOptions, type Metafile } from "esbuild";
import { cp, mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { brotliCompress, constants as zlib, gzip } from "node:zlib";
import { initialChunks } from "./initial-chunks.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = `${root}dist`;
const dev = process.argv.includes("--dev");

export const ROOM_BOOT = "client-web/room/boot.ts";
/** What the boot imports at once (client-web/room/boot.ts); the rest of the room loads on use. */
export const ROOM_CLIENT = "client-web/room/main.ts";
/**
 * Written next to dist/public: the files each page loads first, for the bundle-size benchmark and
 * its test. Paths relative to dist/public.
 */
export const BUNDLE_MANIFEST = "bundle-manifest.json";
export interface BundleManifest {
  readonly roomInitial: readonly string[];
  readonly startInitial: readonly string[];
}

/** Browser entry points → /assets/<name>.js. */
export const CLIENT_ENTRIES: Record<string, string> = {
  start: "client-web/start/main.ts",
  // A module worker the room page starts for file hashing (client-web/hashing/).
  "sha256-worker": "client-web/hashing/worker.ts",
  // hls.js, on its own: the room page imports it only when a watch-together share plays
  // (client-web/watch/hls-player.ts), so a meeting without one never downloads it.
  hls: "node_modules/hls.js/dist/hls.mjs",
  // The RNNoise AudioWorklet processor (client-web/audio/rnnoise.ts), bundled from the npm
  // package as an ES module: audioWorklet.addModule() loads modules.
  "rnnoise/worklet": "node_modules/@sapphi-red/web-noise-suppressor/dist/rnnoise/workletProcessor.js",
};

export const common: BuildOptions = {
  bundle: true,
  sourcemap: "linked",
  logLevel: "warning",
  legalComments: "linked",
  absWorkingDir: root,
};

/** Everything the browser loads: the same targets and minification. */
export const browser: BuildOptions = {
  ...common,
  platform: "browser",
  target: ["chrome110", "firefox115", "safari16"],
  minify: !dev,
};

/** The room page's build, code-split (without outdir; the tooling test builds it in memory). */
export const roomBuild: BuildOptions & { metafile: true } = {
  ...browser,
  entryPoints: { room: ROOM_BOOT },
  format: "esm",
  splitting: true,
  chunkNames: "room-[name]-[hash]",
  metafile: true,
};

async function main(): Promise<void> {
  const started = performance.now();
  await rm(dist, { recursive: true, force: true });
  await mkdir(`${dist}/public/assets`, { recursive: true });
  // The relay serves HTML shells from the root (`/` → index.html, `/room` → room.html) and
  // everything else under /assets/. Static files first, so bundles win if a name ever collided.
  for (const entry of await readdir(`${root}assets`)) {
    const target = entry.endsWith(".html") ? `${dist}/public/${entry}` : `${dist}/public/assets/${entry}`;
    await cp(`${root}assets/${entry}`, target, { recursive: true });
  }
  const [, , room] = await Promise.all([
    build({
      ...common,
      entryPoints: { main: "server/main.ts" },
      outdir: `${dist}/server`,
      platform: "node",
      format: "esm",
      target: "node20",
      // Runtime dependencies stay in node_modules (make run installs them); bundling ws into ESM
      // would need a require() shim for its CommonJS internals.
      packages: "external",
      loader: { ".toml": "text" },
    }),
    build({
      ...browser,
      entryPoints: CLIENT_ENTRIES,
      outdir: `${dist}/public/assets`,
      format: "esm",
      // One file each: the start page shares little with the room, the workers must stand alone.
    }),
    // The room page: a small boot script (room.js) that starts the key derivations at once, and
    // the rest of the client as a chunk it imports meanwhile (client-web/room/boot.ts). Code both
    // need goes into a shared chunk, which the browser fetches with room.js.
    build({ ...roomBuild, outdir: `${dist}/public/assets` }),
    // Its two WebAssembly builds (plain and SIMD; the loader picks one), served as application/wasm.
    ...["rnnoise.wasm", "rnnoise_simd.wasm"].map((file) =>
      cp(`${root}node_modules/@sapphi-red/web-noise-suppressor/dist/${file}`, `${dist}/public/assets/rnnoise/${file}`),
    ),
    // The streaming-download service worker (client-web/sw/). At the site root because a worker
    // only sees requests under its own path; a classic script (iife) because module service
    // workers are newer than the targets. No source map: the relay serves no sw.js.map.
    build({
      ...browser,
      entryPoints: ["client-web/sw/download-worker.ts"],
      outfile: `${dist}/public/sw.js`,
      format: "iife",
      sourcemap: false,
    }),
  ]);
  await preloadRoomChunks(room.metafile);
  await precompress(`${dist}/public`);
  console.log(`built dist/ in ${Math.round(performance.now() - started)} ms`);
}

/**
 * The room page learns of its chunks only as each script runs (room.js, then the client it
 * imports, then that one's imports): a waterfall of round trips. Listing them in the HTML as
 * modulepreload lets the browser fetch and compile them all while room.js starts the key
 * derivations. Only the files a join needs: panels and features stay lazy.
 */
async function preloadRoomChunks(metafile: Metafile): Promise<void> {
  const publicDir = `${dist}/public`;
  const relative = (file: string) => path.relative(publicDir, path.resolve(root, file)).split(path.sep).join("/");
  const roomInitial = initialChunks(metafile, ROOM_BOOT, [ROOM_CLIENT]).map(relative);
  const html = await readFile(`${publicDir}/room.html`, "utf8");
  const boot = '<script type="module" src="/assets/room.js"></script>';
  if (!html.includes(boot)) throw new Error(`assets/room.html no longer loads ${boot}`);
  const links = roomInitial.filter((file) => file !== "assets/room.js").map((file) => `<link rel="modulepreload" href="/${file}" />`);
  await writeFile(`${publicDir}/room.html`, html.replace(boot, [boot, ...links].join("\n    ")));
  const manifest: BundleManifest = { roomInitial, startInitial: ["assets/start.js"] };
  await writeFile(`${dist}/${BUNDLE_MANIFEST}`, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Text-like files worth compressing; images and fonts are compressed formats already. Source maps are for developers' tools, rarely fetched. */
const COMPRESSIBLE = new Set([".js", ".mjs", ".css", ".html", ".svg", ".json", ".wasm", ".webmanifest", ".txt"]);
/** Below this a copy saves less than its own headers cost. */
const COMPRESS_MIN_BYTES = 512;
const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * Writes `x.br` and `x.gz` next to every compressible file, at the highest levels, once at build
 * time; the relay serves whichever the browser accepts (server/static.ts). A copy that would not
 * be at least 5 % smaller is not written.
 */
async function precompress(dir: string): Promise<void> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && COMPRESSIBLE.has(path.extname(entry.name)))
    .map((entry) => path.join(entry.parentPath, entry.name));
  await Promise.all(
    files.map(async (file) => {
      const bytes = await readFile(file);
      if (bytes.length < COMPRESS_MIN_BYTES) return;
      const [br, gz] = await Promise.all([
        brotli(bytes, {
          params: {
            [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
            [zlib.BROTLI_PARAM_MODE]: path.extname(file) === ".wasm" ? zlib.BROTLI_MODE_GENERIC : zlib.BROTLI_MODE_TEXT,
            [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length,
          },
        }),
        gzipAsync(bytes, { level: zlib.Z_BEST_COMPRESSION }),
      ]);
      if (br.length < bytes.length * 0.95) await writeFile(`${file}.br`, br);
      if (gz.length < bytes.length * 0.95) await writeFile(`${file}.gz`, gz);
    }),
  );
}

// Run as a script; imported (by the benchmark or a test) only for its names.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
