// Downloads end to end: the built service worker (dist/public/sw.js) and the real download-sink
// and file-source modules on a page served by the real relay, in headless Chromium. Files arrive
// as Playwright downloads and are compared with SHA-256 here in Node.

import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, CDPSession, Download, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREDIT_WINDOW_BYTES } from "../../client-web/sw/download-protocol.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { closeAll, launchBrowser, openPage, pageErrors } from "../harness/browser.js";
import { bundleTestSite, type BundledSite } from "../harness/static-site.js";
import type { DownloadSinkTestApi, OpenOutcome, StepOutcome } from "./pages/download-sink.js";

const BUILT_WORKER = fileURLToPath(new URL("../../dist/public/sw.js", import.meta.url));
const MiB = 1024 * 1024;
const BIG_FILE_BYTES = 50 * MiB;
/** Chromium's data channels carry at most 256 KiB per message; the sender reads this much at a time. */
const CHUNK_BYTES = 256 * 1024;
/** "Flat memory": the page's live heap may not grow more than this while 50 MiB pass through it. */
const MAX_PAGE_GROWTH_BYTES = 32 * MiB;
/** The worker holds at most the credit window (queued or in flight), plus slack for GC timing. */
const MAX_WORKER_GROWTH_BYTES = 2 * CREDIT_WINDOW_BYTES;
const OK: StepOutcome = { ok: true };

let site: BundledSite;
let relay: Relay;
let origin: string;
let browser: Browser;
let workDir: string;
let bigFile: string;
let bigFileHash: string;

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

beforeAll(async () => {
  if (!existsSync(BUILT_WORKER)) throw new Error("dist/public/sw.js is missing: run `make build` (or `npx tsx scripts/build.ts`) first");
  site = await bundleTestSite({ pages: { index: "test/e2e/pages/download-sink.ts" }, layout: "relay", title: "download sink test" });
  // The relay serves /sw.js from its static root; this site is that root, so the built worker joins it.
  await copyFile(BUILT_WORKER, path.join(site.dir, "sw.js"));
  relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: site.dir });
  origin = `http://127.0.0.1:${(await relay.listen()).port}`;
  browser = await launchBrowser();
  workDir = await mkdtemp(path.join(os.tmpdir(), "meshmeet-download-"));
  bigFile = path.join(workDir, "random.bin");
  await writeFile(bigFile, randomBytes(BIG_FILE_BYTES));
  bigFileHash = await sha256(bigFile);
});

afterAll(async () => {
  await closeAll();
  await relay?.close();
  await site?.cleanup();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Calls one method of the page's test API. */
function call<K extends keyof DownloadSinkTestApi>(
  page: Page,
  method: K,
  ...args: Parameters<DownloadSinkTestApi[K]>
): Promise<Awaited<ReturnType<DownloadSinkTestApi[K]>>> {
  return page.evaluate(
    ([name, rest]) => {
      const api = window.downloadSinkTest;
      if (!api) throw new Error("the test page did not load");
      const fn = api[name] as (...a: unknown[]) => unknown;
      return fn(...rest);
    },
    [method, args] as const,
  ) as Promise<Awaited<ReturnType<DownloadSinkTestApi[K]>>>;
}

/** Opens a download and catches the browser download it starts (the service-worker path starts it in open()). */
async function openWithDownload(page: Page, request: { name: string; size?: number; mimeType: string }): Promise<{ opened: OpenOutcome; download: Download }> {
  const [download, opened] = await Promise.all([page.waitForEvent("download", { timeout: 30_000 }), call(page, "open", request)]);
  return { opened, download };
}

/**
 * Live memory: JS objects plus ArrayBuffer backing stores, after a full GC. Without the GC the
 * figure is mostly garbage: every 256 KiB read leaves a dead buffer, and V8 collects them only
 * every ~40 MiB (seen: a saw-tooth 2 → 38 → 2 MiB). Live memory is what buffering would grow.
 */
type HeapProbe = () => Promise<number>;

function pageHeap(cdp: CDPSession): HeapProbe {
  return async () => {
    await cdp.send("HeapProfiler.collectGarbage");
    const usage = await cdp.send("Runtime.getHeapUsage");
    return usage.usedSize + usage.backingStorageSize;
  };
}

/**
 * The same for the service worker. Playwright gives no CDP session for workers, so this attaches
 * through the browser session (non-flat, messages wrapped in Target.sendMessageToTarget).
 */
async function workerHeap(session: CDPSession): Promise<HeapProbe> {
  const { targetInfos } = await session.send("Target.getTargets");
  const target = targetInfos.find((t) => t.type === "service_worker" && t.url === `${origin}/sw.js`);
  if (!target) throw new Error("no service worker target");
  const { sessionId } = await session.send("Target.attachToTarget", { targetId: target.targetId, flatten: false });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  session.on("Target.receivedMessageFromTarget", (event) => {
    if (event.sessionId !== sessionId) return;
    const reply: unknown = JSON.parse(event.message);
    if (typeof reply !== "object" || reply === null || !("id" in reply) || typeof reply.id !== "number") return;
    pending.get(reply.id)?.("result" in reply ? reply.result : undefined);
    pending.delete(reply.id);
  });
  const send = async (method: string): Promise<unknown> => {
    const id = nextId++;
    const result = new Promise<unknown>((resolve) => pending.set(id, resolve));
    await session.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method }) });
    return result;
  };
  return async () => {
    await send("HeapProfiler.collectGarbage");
    const usage = (await send("Runtime.getHeapUsage")) as { usedSize: number; backingStorageSize: number };
    return usage.usedSize + usage.backingStorageSize;
  };
}

/** Samples each probe every `intervalMs` until stopped; resolves with each one's peak. */
function samplePeaks(probes: readonly HeapProbe[], intervalMs: number): { stop(): Promise<number[]> } {
  const peaks = probes.map(() => 0);
  let running = true;
  const loop = (async () => {
    while (running) {
      const values = await Promise.all(probes.map((probe) => probe()));
      values.forEach((value, i) => (peaks[i] = Math.max(peaks[i] ?? 0, value)));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peaks;
    },
  };
}

describe("service-worker sink", () => {
  it("streams a 50 MiB file to disk byte-identical; page and worker memory stay flat", async () => {
    const page = await openPage(browser, `${origin}/`);
    await page.setInputFiles("#file", bigFile);
    const pageProbe = pageHeap(await page.context().newCDPSession(page));
    const pageBaseline = await pageProbe();

    const started = performance.now();
    const name = "Zufall – größer ✓.bin";
    const { opened, download } = await openWithDownload(page, { name, size: BIG_FILE_BYTES, mimeType: "application/x-meshmeet-test" });
    expect(opened).toMatchObject({ ok: true, kind: "service-worker" });
    const workerProbe = await workerHeap(await browser.newBrowserCDPSession());
    const workerBaseline = await workerProbe();
    const sampler = samplePeaks([pageProbe, workerProbe], 100);
    const writing = performance.now();
    expect(await call(page, "writeFile", 0, BIG_FILE_BYTES, CHUNK_BYTES)).toEqual(OK);
    expect(await call(page, "close")).toEqual(OK);
    const saved = await download.path();
    const done = performance.now();
    const [pagePeak = 0, workerPeak = 0] = await sampler.stop();

    expect(download.suggestedFilename()).toBe(name);
    expect(await download.failure()).toBeNull();
    expect(await sha256(saved)).toBe(bigFileHash);
    const mbps = (ms: number): string => ((BIG_FILE_BYTES / 1e6) * (1000 / ms)).toFixed(1);
    console.log(
      `service-worker sink, ${BIG_FILE_BYTES / MiB} MiB: open ${opened.ok ? opened.ms.toFixed(0) : "?"} ms (first use: registers the worker); ` +
        `open → on disk ${((done - started) / 1000).toFixed(2)} s = ${mbps(done - started)} MB/s; first write → on disk ${mbps(done - writing)} MB/s; ` +
        `live heap growth: page ${((pagePeak - pageBaseline) / MiB).toFixed(1)} MiB, worker ${((workerPeak - workerBaseline) / MiB).toFixed(1)} MiB`,
    );
    expect(pagePeak - pageBaseline).toBeLessThan(MAX_PAGE_GROWTH_BYTES);
    expect(workerPeak - workerBaseline).toBeLessThan(MAX_WORKER_GROWTH_BYTES);
    expect(pageErrors(page)).toEqual([]);
  });

  it("streams a file of unannounced size (no Content-Length) through several credit windows", async () => {
    const page = await openPage(browser, `${origin}/`);
    await page.setInputFiles("#file", bigFile);
    const size = 3 * CREDIT_WINDOW_BYTES + 12_345;
    const { opened, download } = await openWithDownload(page, { name: "unsized.bin", mimeType: "application/octet-stream" });
    expect(opened).toMatchObject({ ok: true, kind: "service-worker" });
    // Odd write sizes: splitting into credit-sized messages must keep every byte in order.
    expect(await call(page, "writeFile", 0, size, 1_000_003)).toEqual(OK);
    expect(await call(page, "close")).toEqual(OK);
    const expected = createHash("sha256").update((await readFile(bigFile)).subarray(0, size)).digest("hex");
    expect(await sha256(await download.path())).toBe(expected);
    expect(pageErrors(page)).toEqual([]);
  });

  it.each([
    ["announced", BIG_FILE_BYTES],
    ["unannounced", undefined],
  ] as const)("abort() mid-way makes the browser fail the download (size %s); no file is presented", async (_, size) => {
    const page = await openPage(browser, `${origin}/`);
    await page.setInputFiles("#file", bigFile);
    const request = { name: "aborted.bin", mimeType: "application/octet-stream", ...(size === undefined ? {} : { size }) };
    const { opened, download } = await openWithDownload(page, request);
    expect(opened).toMatchObject({ ok: true, kind: "service-worker" });
    expect(await call(page, "writeFile", 0, 8 * MiB, CHUNK_BYTES)).toEqual(OK);
    await call(page, "abort", "the sender went away");
    expect(await download.failure()).not.toBeNull();
    await expect(download.path()).rejects.toThrow();
    expect(await call(page, "writeText", "more")).toMatchObject({ ok: false, code: "aborted" });
    expect(pageErrors(page)).toEqual([]);
  });

  it("close() with fewer bytes than announced fails the download (size-mismatch)", async () => {
    const page = await openPage(browser, `${origin}/`);
    const { opened, download } = await openWithDownload(page, { name: "short.txt", size: 10, mimeType: "text/plain" });
    expect(opened).toMatchObject({ ok: true, kind: "service-worker" });
    expect(await call(page, "writeText", "12345")).toEqual(OK);
    expect(await call(page, "close")).toMatchObject({ ok: false, code: "size-mismatch" });
    expect(await download.failure()).not.toBeNull();
    expect(pageErrors(page)).toEqual([]);
  });

  it("a write past the announced size fails the download (size-mismatch)", async () => {
    const page = await openPage(browser, `${origin}/`);
    const { download } = await openWithDownload(page, { name: "long.txt", size: 4, mimeType: "text/plain" });
    expect(await call(page, "writeText", "1234")).toEqual(OK);
    expect(await call(page, "writeText", "5")).toMatchObject({ ok: false, code: "size-mismatch" });
    expect(await download.failure()).not.toBeNull();
    expect(pageErrors(page)).toEqual([]);
  });

  it("a download cancelled in the browser tells the page (signal, rejected write)", async () => {
    const page = await openPage(browser, `${origin}/`);
    await page.setInputFiles("#file", bigFile);
    const { opened, download } = await openWithDownload(page, { name: "cancelled.bin", size: BIG_FILE_BYTES, mimeType: "application/octet-stream" });
    expect(opened).toMatchObject({ ok: true, kind: "service-worker" });
    expect(await call(page, "writeFile", 0, 4 * MiB, CHUNK_BYTES)).toEqual(OK);
    await download.cancel();
    // Waits for credit until the cancel arrives, then rejects.
    expect(await call(page, "writeFile", 4 * MiB, BIG_FILE_BYTES, CHUNK_BYTES)).toMatchObject({ ok: false, code: "cancelled" });
    expect(await call(page, "signal")).toEqual({ aborted: true, code: "cancelled" });
    expect(await download.failure()).toBe("canceled");
    expect(pageErrors(page)).toEqual([]);
  });

  it("several downloads opened at once from one page all complete", async () => {
    const page = await openPage(browser, `${origin}/`);
    const count = 8;
    const downloads: Download[] = [];
    page.on("download", (download) => downloads.push(download));
    expect(await call(page, "parallel", count, "file ")).toEqual(Array.from({ length: count }, () => OK));
    // Playwright's download events can trail the page's own view by a moment.
    await expect.poll(() => downloads.length).toBe(count);
    const contents = await Promise.all(downloads.map(async (d) => `${d.suggestedFilename()}: ${await readFile(await d.path(), "utf8")}`));
    expect(contents.sort()).toEqual(Array.from({ length: count }, (_, i) => `parallel-${i}.txt: file ${i}`));
    expect(pageErrors(page)).toEqual([]);
  });

  it("starts the download without a leave-page prompt, and the page keeps running", async () => {
    const page = await openPage(browser, `${origin}/`);
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.type());
      void dialog.dismiss();
    });
    // Like the room while sharing: beforeunload asks, unless isDownloadNavigation() says it is ours.
    await call(page, "guardUnload");
    await page.mouse.click(5, 5); // the prompt only shows after the user has interacted with the page
    const { opened, download } = await openWithDownload(page, { name: "quiet.txt", size: 2, mimeType: "text/plain" });
    expect(opened).toMatchObject({ ok: true, kind: "service-worker" });
    const ticks = await call(page, "uptimeTicks");
    expect(await call(page, "writeText", "ok")).toEqual(OK);
    expect(await call(page, "close")).toEqual(OK);
    expect(await download.failure()).toBeNull();
    expect(await readFile(await download.path(), "utf8")).toBe("ok");
    await page.waitForTimeout(200);
    expect(await call(page, "uptimeTicks")).toBeGreaterThan(ticks); // same document, timers alive
    expect(page.url()).toBe(`${origin}/`);
    expect(dialogs).toEqual([]);
    // The guard itself works: a real navigation away is asked about (and dismissed, so we stay).
    await page.evaluate(() => window.location.assign("/version"));
    await expect.poll(() => dialogs).toEqual(["beforeunload"]);
    expect(pageErrors(page)).toEqual([]);
  });

  it("answers unknown download ids with 404 (204 for navigations) and leaves every other request to the network", async () => {
    const page = await openPage(browser, `${origin}/`, { ignoreConsole: [/status of 404/] });
    // Registers the worker and makes it control the page (first visit: clients.claim()).
    const { download } = await openWithDownload(page, { name: "tiny.txt", size: 2, mimeType: "text/plain" });
    expect(await call(page, "writeText", "hi")).toEqual(OK);
    expect(await call(page, "close")).toEqual(OK);
    expect(await download.failure()).toBeNull();
    expect(await call(page, "controlled")).toBe(true);
    // The finished download again: a body can be read once, so it is gone.
    expect(await call(page, "status", new URL(download.url()).pathname)).toBe(404);
    expect(await call(page, "status", "/download/00000000-0000-4000-8000-000000000000/x.bin")).toBe(404);
    expect(await call(page, "status", "/download/not-an-id!/x")).toBe(404);
    expect(await call(page, "status", "/version")).toBe(200);
    expect(await call(page, "status", "/sw.js")).toBe(200);
    // A navigation to an unknown download (what open() does) gets 204: the page stays put.
    const ticks = await call(page, "uptimeTicks");
    await page.evaluate(() => window.location.assign("/download/00000000-0000-4000-8000-000000000000/x.bin"));
    await page.waitForTimeout(300);
    expect(page.url()).toBe(`${origin}/`);
    expect(await call(page, "uptimeTicks")).toBeGreaterThan(ticks);
    expect(pageErrors(page)).toEqual([]);
  });
});

describe("memory sink (service workers blocked)", () => {
  it("saves a small file through an object URL on close(), byte-identical", async () => {
    const page = await openPage(browser, `${origin}/`, { contextOptions: { serviceWorkers: "block" } });
    await page.setInputFiles("#file", bigFile);
    const size = 3 * MiB + 17;
    expect(await call(page, "open", { name: "small.bin", size, mimeType: "application/x-meshmeet-test" })).toMatchObject({ ok: true, kind: "memory" });
    expect(await call(page, "writeFile", 0, size, CHUNK_BYTES)).toEqual(OK);
    // Nothing is shown before the file is complete: the download appears on close().
    const [download, closed] = await Promise.all([page.waitForEvent("download"), call(page, "close")]);
    expect(closed).toEqual(OK);
    expect(download.suggestedFilename()).toBe("small.bin");
    const expected = createHash("sha256").update((await readFile(bigFile)).subarray(0, size)).digest("hex");
    expect(await sha256(await download.path())).toBe(expected);
    expect(pageErrors(page)).toEqual([]);
  });

  it("refuses a file announced larger than MAX_MEMORY_DOWNLOAD_BYTES", async () => {
    const page = await openPage(browser, `${origin}/`, { contextOptions: { serviceWorkers: "block" } });
    const opened = await call(page, "open", { name: "huge.iso", size: 2 * 1024 * MiB, mimeType: "application/octet-stream" });
    expect(opened).toMatchObject({ ok: false, code: "too-large-for-memory" });
    expect(opened.ok ? "" : opened.message).toMatch(/2048 MiB.*too large.*256 MiB/s);
    expect(pageErrors(page)).toEqual([]);
  });
});
