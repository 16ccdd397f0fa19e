// Files from a hostile peer: a test page in the same room (test/e2e/pages/hostile-file-peer.ts)
// offers files whose transfers lie. The real client must report each as failed, never present
// the download as complete, and show names that cannot point anywhere but one file.

import { cp, readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomRoomSecret } from "../../common/prefs/fragment.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { closeAll, launchBrowser, openPage } from "../harness/browser.js";
import { bundleTestSite, type BundledSite } from "../harness/static-site.js";

const DIST = fileURLToPath(new URL("../../dist/public/", import.meta.url));

let site: BundledSite;
let relay: Relay;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(`${DIST}room.html`)) throw new Error("dist/public is missing: run `make build` first");
  // The hostile page is served at / (index.html) next to the real client's /room and /sw.js.
  site = await bundleTestSite({ pages: { index: "test/e2e/pages/hostile-file-peer.ts" }, layout: "relay" });
  // The room page is its boot script (room.js) and the chunks it imports (room-*.js).
  const roomScripts = (await readdir(`${DIST}assets`)).filter((name) => /^room(-.+)?\.js$/.test(name)).map((name) => `assets/${name}`);
  for (const entry of ["room.html", "sw.js", ...roomScripts, "assets/sha256-worker.js", "assets/style.css"]) await cp(`${DIST}${entry}`, `${site.dir}/${entry}`);
  relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: site.dir });
  origin = `http://127.0.0.1:${(await relay.listen()).port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await closeAll();
  await relay?.close();
  await site?.cleanup();
});

async function setup(): Promise<{ mallory: Page; bo: Page }> {
  const secret = randomRoomSecret();
  const mallory = await openPage(browser, `${origin}/`);
  await mallory.evaluate((s) => window.hostile.join(s), secret);
  const bo = await openPage(browser, `${origin}/room#${secret}?username=bo`);
  await bo.getByRole("group", { name: "mallory", exact: true }).waitFor();
  return { mallory, bo };
}

describe("files from a hostile peer", () => {
  it("reports a tampered transfer (one flipped byte, the true digest) as failed", async () => {
    const { mallory, bo } = await setup();
    await mallory.evaluate(() => window.hostile.offer("tampered", "tampered.bin", 3 * 1024 * 1024, "flipped-byte"));
    const tile = bo.getByRole("group", { name: "mallory", exact: true });
    const download = bo.waitForEvent("download");
    await tile.getByRole("button", { name: "Download tampered.bin from mallory" }).click();
    await tile.getByText("Failed: contents differ from what the sender hashed. The partial file was discarded.").waitFor();
    expect(await (await download).failure()).not.toBeNull();
  });

  it("reports more bytes than announced as failed", async () => {
    const { mallory, bo } = await setup();
    await mallory.evaluate(() => window.hostile.offer("too-many", "long.bin", 1024 * 1024, "too-many-bytes"));
    const tile = bo.getByRole("group", { name: "mallory", exact: true });
    const download = bo.waitForEvent("download");
    await tile.getByRole("button", { name: "Download long.bin from mallory" }).click();
    await tile.getByText("Failed: peer sent more than it announced. The partial file was discarded.").waitFor();
    expect(await (await download).failure()).not.toBeNull();
  });

  it("shows and saves a file name with path separators and control characters as one plain name", async () => {
    const { mallory, bo } = await setup();
    await mallory.evaluate(() => window.hostile.offer("evil-name", "../../etc/\u0007passwd\u202e.txt", 2048, "flipped-byte"));
    const tile = bo.getByRole("group", { name: "mallory", exact: true });
    const offer = tile.getByRole("button", { name: /^Download .* from mallory$/ });
    await offer.waitFor();
    const label = (await offer.getAttribute("aria-label")) ?? "";
    expect(label).not.toMatch(/[/\\\u0000-\u001f\u202e]/);
    expect(label).toContain("passwd");
  });

  it("ignores an offer with an impossible size, keeps the sane one", async () => {
    const { mallory, bo } = await setup();
    await mallory.evaluate(() => window.hostile.offer("huge", "huge.bin", 2 ** 53 - 1, "offer-only"));
    await mallory.evaluate(() => window.hostile.offer("fine", "fine.bin", 10, "offer-only"));
    await bo.getByRole("group", { name: "mallory", exact: true }).getByText("fine.bin").waitFor();
    expect(await bo.getByRole("group", { name: "mallory", exact: true }).getByText("huge.bin").count()).toBe(0);
  });
});
