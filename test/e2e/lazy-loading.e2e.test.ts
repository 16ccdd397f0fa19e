// The room page loads what a join needs and nothing more: the files the build lists as initial
// (dist/bundle-manifest.json), served compressed; panels and features come on first use, or
// earlier when the pointer rests on their button, and a chunk that fails to load is said aloud
// and tried again on the next press.

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomRoomSecret } from "../../common/prefs/fragment.js";
import type { BundleManifest } from "../../scripts/build.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { closeAll, launchBrowser, openPage, pageErrors } from "../harness/browser.js";

const DIST = fileURLToPath(new URL("../../dist/", import.meta.url));
const STATIC_ROOT = `${DIST}public/`;

let relay: Relay;
let origin: string;
let browser: Browser;
let manifest: BundleManifest;

beforeAll(async () => {
  if (!existsSync(`${DIST}bundle-manifest.json`)) throw new Error("dist/ is missing: run `make build` first");
  manifest = JSON.parse(readFileSync(`${DIST}bundle-manifest.json`, "utf8")) as BundleManifest;
  relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: STATIC_ROOT });
  origin = `http://127.0.0.1:${(await relay.listen()).port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await closeAll();
  await relay?.close();
});

/** The scripts the page has fetched so far; with `untilJoined`, those it started fetching before it joined the room. */
function scripts(page: Page, untilJoined = false): Promise<{ path: string; encoded: number; decoded: number }[]> {
  return page.evaluate((untilJoined) => {
    const joinedAt = untilJoined ? (performance.getEntriesByName("meshmeet:joined")[0]?.startTime ?? 0) : Infinity;
    return (performance.getEntriesByType("resource") as PerformanceResourceTiming[])
      .filter((entry) => new URL(entry.name).pathname.endsWith(".js") && entry.startTime <= joinedAt)
      .map((entry) => ({ path: new URL(entry.name).pathname, encoded: entry.encodedBodySize, decoded: entry.decodedBodySize }));
  }, untilJoined);
}

async function join(username: string): Promise<Page> {
  const page = await openPage(browser, `${origin}/room#${randomRoomSecret()}?username=${username}`);
  await page.getByRole("group", { name: `You (${username})` }).waitFor();
  return page;
}

function announced(page: Page): Promise<string> {
  return page.locator("mm-announcer").evaluate((el) => el.shadowRoot?.textContent ?? "");
}

describe("lazy loading", () => {
  it("joins with the manifest's files alone, compressed, and fetches a panel's chunk on hover before the press", async () => {
    const page = await join("ana");
    const initial = new Set(manifest.roomInitial.map((file) => `/${file}`));
    // What came before the join (the page preloads the rest a few seconds later, when idle).
    await page.waitForFunction(() => performance.getEntriesByName("meshmeet:joined").length > 0);
    const atJoin = await scripts(page, true);
    expect(atJoin.map((s) => s.path).sort()).toEqual([...initial].sort());
    // Served as the build's precompressed copies: far fewer bytes on the wire than decoded.
    const encoded = atJoin.reduce((t, s) => t + s.encoded, 0);
    const decoded = atJoin.reduce((t, s) => t + s.decoded, 0);
    expect(encoded).toBeLessThan(decoded / 2);

    await page.getByRole("button", { name: "Settings" }).hover();
    await expect.poll(async () => (await scripts(page)).some((s) => s.path.includes("lazy-panels")), { timeout: 5_000 }).toBe(true);
    await page.getByRole("button", { name: "Settings" }).click();
    await page.getByRole("complementary", { name: "Settings" }).waitFor();
    expect(pageErrors(page)).toEqual([]);
  });

  it("says so when a chunk cannot be fetched, and loads it on the next press once it can", async () => {
    const page = await join("bo");
    let blocked = true;
    await page.route(/lazy-panels-[^/]*\.js$/, (route) => (blocked ? route.abort("connectionrefused") : route.continue()));
    await page.getByRole("button", { name: "Keyboard help" }).click();
    await expect.poll(() => announced(page), { timeout: 5_000 }).toContain("Could not load the keyboard help");
    blocked = false;
    await page.getByRole("button", { name: "Keyboard help" }).click();
    await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
    // The failed import is the page's only console error; nothing else went wrong.
    expect(pageErrors(page).filter((problem) => !/lazy-panels|Failed to fetch dynamically imported module|ERR_CONNECTION_REFUSED/.test(problem.message))).toEqual([]);
  });
});
