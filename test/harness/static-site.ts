// Bundles browser test pages into a throw-away static site that any server (the relay's static
// root, or a plain node:http server) can serve. Each page is `<name>.html` loading `<name>.js` as
// an external module script: the relay's CSP allows no inline script.

import { rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface BundleOptions {
  /** Page name → entry .ts file (absolute, or relative to the repository root). Produces `<name>.html` + `<name>.js`. */
  readonly pages: Readonly<Record<string, string>>;
  /** `<title>` of every page (axe's document-title rule wants one). */
  readonly title?: string;
  /** Passed to esbuild's `define` (values are JS source text, e.g. `JSON.stringify("x")`). */
  readonly define?: Readonly<Record<string, string>>;
  /**
   * "flat" (default): everything in the root. "relay": scripts and icon under `assets/`, as the
   * meshmeet relay serves them (it maps `/` → index.html, `/room` → room.html, `/assets/*`), so
   * the site can be the relay's static root.
   */
  readonly layout?: "flat" | "relay";
}

export interface BundledSite {
  /** The temporary directory holding the site: use it as a static root. */
  readonly dir: string;
  /** Removes the directory. Safe to call twice. */
  cleanup(): Promise<void>;
}

const liveDirs = new Set<string>();
let exitHookInstalled = false;

/** Bundles `options.pages` (esm, browser, es2022) into a new temporary directory. */
export async function bundleTestSite(options: BundleOptions): Promise<BundledSite> {
  const names = Object.keys(options.pages);
  if (names.length === 0) throw new Error("bundleTestSite: no pages");
  for (const name of names) {
    // The name becomes a file name and a URL path segment.
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`bundleTestSite: bad page name ${JSON.stringify(name)}`);
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Last resort for runs that never reach cleanup() (a failed beforeAll, an interrupted run).
    process.on("exit", () => {
      for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
    });
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "meshmeet-site-"));
  liveDirs.add(dir);
  const site: BundledSite = {
    dir,
    async cleanup() {
      liveDirs.delete(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await build({
      entryPoints: Object.fromEntries(names.map((name) => [name, path.resolve(REPO_ROOT, options.pages[name] ?? "")])),
      outdir: options.layout === "relay" ? path.join(dir, "assets") : dir,
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      tsconfig: path.join(REPO_ROOT, "tsconfig.json"),
      sourcemap: "linked",
      define: { ...options.define },
      logLevel: "silent", // errors are thrown with esbuild's formatted messages instead
    });
    const title = escapeHtml(options.title ?? "meshmeet test page");
    // An explicit icon stops Chromium from requesting /favicon.ico, whose 404 would show up as a
    // console error in pageErrors().
    const assets = options.layout === "relay" ? "/assets/" : "";
    await writeFile(path.join(dir, assets ? "assets" : "", "favicon.svg"), '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>\n');
    for (const name of names) {
      const html =
        `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
        `<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${title}</title>\n` +
        `<link rel="icon" href="${assets}favicon.svg">\n<script type="module" src="${assets}${name}.js"></script>\n` +
        `</head>\n<body>\n<main id="app"></main>\n</body>\n</html>\n`;
      await writeFile(path.join(dir, `${name}.html`), html);
    }
  } catch (error) {
    await site.cleanup();
    throw error;
  }
  return site;
}

/** One page, served as `index.html` (so a server's `/` finds it). */
export function bundleTestPage(entry: string, options: Omit<BundleOptions, "pages"> = {}): Promise<BundledSite> {
  return bundleTestSite({ ...options, pages: { index: entry } });
}

/** Removes every site still present (for an afterAll that does not keep references). */
export async function cleanupAllSites(): Promise<void> {
  await Promise.all([...liveDirs].map((dir) => rm(dir, { recursive: true, force: true })));
  liveDirs.clear();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
