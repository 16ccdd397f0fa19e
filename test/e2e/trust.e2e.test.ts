// Verifying a member end to end: two Chromium pages compare safety codes, one marks the other
// verified, meets them again in a new visit and sees them recognised, and is warned when someone
// else later takes their name. Also a known room opened again without deriving its keys. The
// built client served by the real relay.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomRoomSecret } from "../../common/prefs/fragment.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { closeAll, launchBrowser, openPage, pageErrors } from "../harness/browser.js";

const STATIC_ROOT = fileURLToPath(new URL("../../dist/public/", import.meta.url));
const CODE = /^\d{4}( \d{4}){5}$/;

let relay: Relay;
let port: number;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(`${STATIC_ROOT}room.html`)) throw new Error("dist/public is missing: run `make build` first");
  relay = createRelay(loadConfig(`[server]\nbind = "127.0.0.1:0"\n`), { staticRoot: STATIC_ROOT });
  port = (await relay.listen()).port;
  browser = await launchBrowser();
});

afterAll(async () => {
  await closeAll();
  await relay?.close();
});

async function joinAs(secret: string, username: string, context?: BrowserContext, ignoreConsole?: readonly RegExp[]): Promise<Page> {
  const options = { ...(context ? { context } : {}), ...(ignoreConsole ? { ignoreConsole } : {}) };
  const page = await openPage(browser, `http://127.0.0.1:${port}/room#${secret}?username=${username}`, options);
  await page.getByRole("group", { name: `You (${username})` }).waitFor();
  return page;
}

const tile = (page: Page, name: string): Locator => page.getByRole("group", { name, exact: true });

/** Everything the page's live region has said so far. */
const announced = (page: Page): Promise<string> => page.locator("mm-announcer").evaluate((el) => (el as HTMLElement & { history: string[] }).history.join("\n"));

/** Opens the safety code on `name`'s tile (which brings up a connection) and reads it. */
async function safetyCode(page: Page, name: string): Promise<string> {
  const scope = tile(page, name);
  await scope.getByRole("button", { name: "Safety code", exact: true }).click();
  const code = scope.locator(".code");
  await code.waitFor({ timeout: 20_000 });
  return (await code.textContent()) ?? "";
}

describe("safety codes", () => {
  it("match on both sides, and a verified member is recognised in a later visit and not confused with an impostor", async () => {
    const secret = randomRoomSecret();
    const anaContext = await browser.newContext();
    const ana = await joinAs(secret, "ana", anaContext);
    const bo = await joinAs(secret, "bo");
    await tile(ana, "bo").waitFor();
    await tile(bo, "ana").waitFor();

    const seenByAna = await safetyCode(ana, "bo");
    const seenByBo = await safetyCode(bo, "ana");
    expect(seenByAna).toMatch(CODE);
    expect(seenByBo).toBe(seenByAna);

    await tile(ana, "bo").getByRole("button", { name: "The codes match: mark bo verified" }).click();
    await tile(ana, "bo").getByText(/^Verified: you compared safety codes/).waitFor();
    await expect.poll(() => announced(ana)).toContain("bo is verified. This browser will recognise them in later meetings.");

    // A later visit: Ana's page loads anew (same browser profile), Bo is still there.
    await ana.reload();
    await ana.getByRole("group", { name: "You (ana)" }).waitFor();
    // Recognised unasked: Ana's page connects to a key it verified, and the connection ends at it.
    await tile(ana, "bo").getByText(/^Verified: you compared safety codes/).waitFor({ timeout: 20_000 });
    expect(await safetyCode(ana, "bo")).toMatch(CODE);

    // Bo leaves; someone else comes in calling themselves bo.
    await bo.close();
    await tile(ana, "bo").waitFor({ state: "detached", timeout: 20_000 });
    const mallory = await joinAs(secret, "bo");
    const warning = tile(ana, "bo").getByText(/^Warning: this is not the bo you verified before/);
    await warning.waitFor();
    // Said aloud once, not only shown.
    await expect.poll(() => announced(ana)).toMatch(/Warning: this is not the bo you verified before/);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const said = await announced(ana);
    expect(said.match(/Warning: this is not the bo/g), said).toHaveLength(1);
    expect(await tile(ana, "bo").getByText(/^Verified/).count()).toBe(0);

    expect(pageErrors(ana)).toEqual([]);
    expect(pageErrors(mallory)).toEqual([]);
  });

  it("the room page turns no string into markup or foreign script (Trusted Types are enforced)", async () => {
    const page = await joinAs(randomRoomSecret(), "tt", undefined, [/Trusted Type|refused to/i]);
    const outcome = await page.evaluate(() => {
      const attempt = (action: () => void): string => {
        try {
          action();
          return "allowed";
        } catch (error) {
          return error instanceof Error ? error.name : "thrown";
        }
      };
      const div = document.createElement("div");
      return {
        markup: attempt(() => (div.innerHTML = "<img src=x onerror=alert(1)>")),
        foreignWorker: attempt(() => new Worker("https://evil.invalid/x.js")),
        ownWorker: attempt(() => new Worker("/assets/sha256-worker.js", { type: "module" }).terminate()),
      };
    });
    expect(outcome).toEqual({ markup: "TypeError", foreignWorker: "TypeError", ownWorker: "allowed" });
  });

});

describe("known rooms", () => {
  it("a known room opens again without deriving its keys (warm join), and still meets the others", async () => {
    const secret = randomRoomSecret();
    const context = await browser.newContext();
    const ana = await joinAs(secret, "ana", context);
    const bo = await joinAs(secret, "bo");
    await tile(ana, "bo").waitFor();
    // Ana adds the room to her known rooms.
    await ana.evaluate((known) => (window as unknown as { meshmeet: { prefs: { set(key: string, value: string): Promise<void> } } }).meshmeet.prefs.set("room_watches", JSON.stringify([known])), secret);
    const marks = (page: Page) => page.evaluate(() => performance.getEntriesByType("mark").map((entry) => entry.name));
    expect(await marks(ana)).toContain("meshmeet:key-ready");
    await ana.reload();
    // Each side reads the other's name: what Ana seals with the kept key opens with Bo's derived one, and back.
    await tile(ana, "bo").waitFor();
    await tile(bo, "ana").waitFor();
    const warm = await marks(ana);
    expect(warm).toContain("meshmeet:secrets-cached");
    expect(warm).not.toContain("meshmeet:key-ready");
    // Out of the known rooms: the next visit derives again.
    await ana.evaluate(() => (window as unknown as { meshmeet: { prefs: { set(key: string, value: string): Promise<void> } } }).meshmeet.prefs.set("room_watches", "[]"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await ana.reload();
    await tile(ana, "bo").waitFor();
    expect(await marks(ana)).toContain("meshmeet:key-ready");
  });
});

