// Accessibility of the real pages (built client, real relay): axe with the WCAG 2.0–2.2 A/AA
// tags on the start page and on a room with two people, with chat, settings and the help dialog
// open; and one person using the keyboard alone to share the camera, chat and stop everything.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomRoomSecret } from "../../common/prefs/fragment.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { runAxe } from "../harness/axe.js";
import { closeAll, launchBrowser, openPage, pageErrors } from "../harness/browser.js";

const STATIC_ROOT = fileURLToPath(new URL("../../dist/public/", import.meta.url));

let relay: Relay;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(`${STATIC_ROOT}room.html`)) throw new Error("dist/public is missing: run `make build` first");
  relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: STATIC_ROOT });
  origin = `http://127.0.0.1:${(await relay.listen()).port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await closeAll();
  await relay?.close();
});

async function joinAs(secret: string, username: string): Promise<Page> {
  const page = await openPage(browser, `${origin}/room#${secret}?username=${username}`);
  await page.getByRole("group", { name: `You (${username})` }).waitFor();
  return page;
}

/** The element that has focus, seen through shadow roots, described for assertions. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    let active: Element | null = document.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    if (!active) return "";
    const label = active.getAttribute("aria-label") ?? active.textContent ?? "";
    return `${active.tagName.toLowerCase()}:${label.trim()}`;
  });
}

describe("accessibility", () => {
  it("start page has no axe violations, light and dark", async () => {
    const page = await openPage(browser, `${origin}/`);
    for (const colorScheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme });
      expect(await runAxe(page)).toEqual([]);
    }
    expect(pageErrors(page)).toEqual([]);
  });

  it("room page with two people, chat, settings and help has no axe violations", async () => {
    const secret = randomRoomSecret();
    const ana = await joinAs(secret, "ana");
    const bo = await joinAs(secret, "bo");
    await ana.getByRole("group", { name: "bo", exact: true }).waitFor();
    await bo.getByRole("group", { name: "ana", exact: true }).waitFor();
    for (const colorScheme of ["light", "dark"] as const) {
      await ana.emulateMedia({ colorScheme });
      expect(await runAxe(ana)).toEqual([]);
    }
    await ana.keyboard.press("Control+Enter");
    await ana.getByRole("textbox", { name: "Message" }).fill("hi");
    await ana.keyboard.press("Enter");
    await ana.getByRole("log").getByText("hi").waitFor();
    expect(await runAxe(ana)).toEqual([]);
    await ana.keyboard.press("Escape");
    const toolbar = ana.getByRole("toolbar", { name: "Meeting controls" });
    await toolbar.getByRole("button", { name: "Settings" }).click();
    await ana.getByRole("heading", { name: "Settings" }).waitFor();
    expect(await runAxe(ana)).toEqual([]);
    await ana.keyboard.press("Escape");
    await ana.locator("body").press("?");
    await ana.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
    expect(await runAxe(ana)).toEqual([]);
    for (const page of [ana, bo]) expect(pageErrors(page)).toEqual([]);
  });

  it("works with the keyboard alone: share the camera, chat, stop everything", async () => {
    const secret = randomRoomSecret();
    const ana = await joinAs(secret, "ana");
    const bo = await joinAs(secret, "bo");
    await bo.getByRole("group", { name: "ana", exact: true }).waitFor();

    // Tab reaches the control bar; arrows move inside it; Enter presses.
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await ana.keyboard.press("Tab");
      reached = (await focused(ana)) === "button:Microphone";
    }
    expect(reached).toBe(true);
    await ana.keyboard.press("ArrowRight");
    expect(await focused(ana)).toBe("button:Camera");
    await ana.keyboard.press("Enter");
    await ana.getByRole("button", { name: "Stop Camera" }).waitFor();
    await bo.getByRole("group", { name: "ana", exact: true }).getByRole("button", { name: "Show Camera" }).waitFor();

    // Ctrl+Enter opens the chat with the field focused; Enter sends.
    await ana.keyboard.press("Control+Enter");
    expect(await focused(ana)).toMatch(/^(textarea|input):/);
    await ana.keyboard.type("typed without a mouse");
    await ana.keyboard.press("Enter");
    await bo.keyboard.press("Control+Enter");
    await expect.poll(() => bo.getByRole("log").textContent()).toContain("typed without a mouse");

    // Escape closes the chat and gives focus back; Ctrl+Shift+C stops everything.
    await ana.keyboard.press("Escape");
    await ana.keyboard.press("Control+Shift+C");
    await ana.getByText("Not sharing anything").waitFor();
    await expect.poll(() => bo.getByRole("group", { name: "ana", exact: true }).getByRole("button", { name: /Camera/ }).count()).toBe(0);
    for (const page of [ana, bo]) expect(pageErrors(page)).toEqual([]);
  });
});
