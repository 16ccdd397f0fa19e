// Builds everything into dist/: the relay (dist/server/main.js) and the static site it serves
// (dist/public: HTML shells and other files from assets/, browser bundles under /assets/).
// Usage: tsx scripts/build.ts [--dev]   (--dev: no minification)

import { build, type BuildOptions } from "esbuild";
import { cp, mkdir, readdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = `${root}dist`;
const dev = process.argv.includes("--dev");

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

const common: BuildOptions = {
  bundle: true,
  sourcemap: "linked",
  logLevel: "warning",
  legalComments: "linked",
  absWorkingDir: root,
};

/** Everything the browser loads: the same targets and minification. */
const browser: BuildOptions = {
  ...common,
  platform: "browser",
  target: ["chrome110", "firefox115", "safari16"],
  minify: !dev,
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
  await Promise.all([
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
    build({
      ...browser,
      entryPoints: { room: "client-web/room/boot.ts" },
      outdir: `${dist}/public/assets`,
      format: "esm",
      splitting: true,
      chunkNames: "room-[name]-[hash]",
    }),
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
  console.log(`built dist/ in ${Math.round(performance.now() - started)} ms`);
}

await main();
