// The meeting end to end: the built client (dist/public) served by the real relay, three
// Chromium pages in one room. Everything is asserted as a user would see it (tiles, log, playing
// media), through the accessibility tree where possible.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomRoomSecret } from "../../common/prefs/fragment.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { closeAll, launchBrowser, openPage, pageErrors } from "../harness/browser.js";
import { peakLevel } from "../harness/media-level.js";

const STATIC_ROOT = fileURLToPath(new URL("../../dist/public/", import.meta.url));

let relay: Relay;
let port: number;
let browser: Browser;

async function startRelay(bindPort = 0): Promise<void> {
  relay = createRelay(loadConfig(`[server]\nbind = "127.0.0.1:${bindPort}"\n`), { staticRoot: STATIC_ROOT });
  port = (await relay.listen()).port;
}

beforeAll(async () => {
  if (!existsSync(`${STATIC_ROOT}room.html`)) throw new Error("dist/public is missing: run `make build` first");
  await startRelay();
  browser = await launchBrowser();
});

afterAll(async () => {
  await closeAll();
  await relay?.close();
});

async function joinAs(secret: string, username: string): Promise<Page> {
  const page = await openPage(browser, `http://127.0.0.1:${port}/room#${secret}?username=${username}`);
  await page.getByRole("group", { name: `You (${username})` }).waitFor();
  return page;
}

function tile(page: Page, name: string): Locator {
  return page.getByRole("group", { name, exact: true });
}

function control(page: Page, name: string | RegExp): Locator {
  return page.getByRole("toolbar", { name: "Meeting controls" }).getByRole("button", { name, exact: true });
}

/** Resolves with the size of the next frame the <video> in `scope` presents. */
async function nextVideoFrame(scope: Locator): Promise<{ width: number; height: number }> {
  const video = scope.locator("video");
  await video.waitFor();
  return video.evaluate(
    (element) =>
      new Promise<{ width: number; height: number }>((resolve) => {
        const v = element as HTMLVideoElement;
        v.requestVideoFrameCallback((_now, meta) => resolve({ width: meta.width, height: meta.height }));
      }),
  );
}

/** Peak RMS of the audio playing in `scope` over `ms`. */
function audioLevel(scope: Locator, ms = 1500): Promise<number> {
  return peakLevel(scope.locator("audio"), ms);
}

describe("the start page", () => {
  it("keeps your name, makes an unguessable meeting link, and joins rooms by name", async () => {
    const page = await openPage(browser, `http://127.0.0.1:${port}/`);
    await page.getByRole("textbox", { name: "Name others see" }).fill("zoë");
    await page.getByRole("button", { name: "New meeting" }).click();
    await page.getByRole("group", { name: "You (zoë)" }).waitFor();
    const secret = new URL(page.url()).hash.slice(1);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // A typed name with %, ? and # joins the room of exactly that name.
    await page.goto(`http://127.0.0.1:${port}/`);
    expect(await page.getByRole("textbox", { name: "Name others see" }).inputValue()).toBe("zoë");
    await page.getByRole("textbox", { name: "Meeting link or name" }).fill("50% off? #1");
    await page.getByRole("button", { name: "Join" }).click();
    // keks-meet names rooms "Name#…": the part before the first # is the title.
    await page.getByRole("heading", { name: "50% off?", exact: true }).waitFor();
    expect(decodeURIComponent(new URL(page.url()).hash.slice(1))).toBe("50% off? #1");
    // An empty secret is refused with a clear message, not a crash.
    await page.goto(`http://127.0.0.1:${port}/room#`);
    await page.getByRole("alert").getByText("no room secret").waitFor();
    expect(pageErrors(page)).toEqual([]);
  });
});

describe("known rooms", () => {
  it("shows live occupancy of a watched room", async () => {
    const here = randomRoomSecret();
    const elsewhere = `Elsewhere#${randomRoomSecret()}`;
    const ana = await joinAs(here, "ana");
    await control(ana, "Known rooms").click();
    await ana.getByRole("button", { name: "Edit list" }).click();
    await ana.getByRole("textbox", { name: /Add rooms/ }).fill(elsewhere);
    await ana.getByRole("button", { name: "Add", exact: true }).click();
    const entry = ana.getByRole("listitem").filter({ hasText: "Elsewhere" });
    await expect.poll(() => entry.textContent()).toContain("empty");
    const bo = await joinAs(encodeURIComponent(elsewhere).replace(/%23/g, "#"), "bo");
    await expect.poll(() => entry.textContent(), { timeout: 10_000 }).toContain("1 person");
    await bo.close();
    await expect.poll(() => entry.textContent(), { timeout: 10_000 }).toContain("empty");
    expect(pageErrors(ana)).toEqual([]);
  });
});

describe("a meeting of three", () => {
  it("names, chat, images, camera, microphone, screen, stop, leave and a relay restart", async () => {
    const secret = randomRoomSecret();
    const ana = await joinAs(secret, "ana");
    const bo = await joinAs(secret, "bo");
    const cy = await joinAs(secret, "cy");

    // Everyone sees everyone by name.
    for (const [page, others] of [
      [ana, ["bo", "cy"]],
      [bo, ["ana", "cy"]],
      [cy, ["ana", "bo"]],
    ] as const) {
      for (const name of others) await tile(page, name).waitFor();
    }

    // Chat text, typed by keyboard, arrives in the others' logs.
    await ana.keyboard.press("Control+Enter");
    await ana.getByRole("textbox", { name: "Message" }).fill("hello from ana");
    await ana.keyboard.press("Enter");
    for (const page of [bo, cy]) {
      // The button reads "Chat 1 unread" until opened.
      await control(page, /^Chat 1 unread$/).click();
      await expect.poll(() => page.getByRole("log").textContent()).toContain("hello from ana");
    }

    // A pasted image arrives as an image (re-encoded to a data URL).
    await bo.evaluate(async () => {
      const canvas = new OffscreenCanvas(640, 480);
      const ctx = canvas.getContext("2d");
      if (!ctx) throw new Error("no 2d context");
      ctx.fillStyle = "#c33";
      ctx.fillRect(0, 0, 640, 480);
      const blob = await canvas.convertToBlob({ type: "image/png" });
      const data = new DataTransfer();
      data.items.add(new File([blob], "red.png", { type: "image/png" }));
      document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
    });
    for (const page of [ana, cy]) {
      const image = page.getByRole("log").getByRole("img", { name: "Image from bo" });
      await image.waitFor();
      expect(await image.getAttribute("src")).toMatch(/^data:image\/(webp|jpeg);base64,/);
    }

    // Camera: ana shares; cy, who has not asked for it, sees a preview image; bo asks
    // to see it and gets frames.
    await control(ana, "Camera").click();
    const preview = tile(cy, "ana").getByRole("img", { name: "Preview of Camera from ana" });
    await preview.waitFor({ timeout: 15_000 });
    expect(await preview.getAttribute("src")).toMatch(/^data:image\/(webp|jpeg);base64,/);
    await tile(bo, "ana").getByRole("button", { name: "Show Camera" }).click();
    expect((await nextVideoFrame(tile(bo, "ana"))).width).toBeGreaterThan(0);

    // webrtc_debug, switched on from the console as keks-meet allows: the path and codec show.
    expect(await bo.evaluate(() => (window as unknown as { change_pref: (k: string, v: unknown) => unknown }).change_pref("webrtc_debug", true))).toBe(true);
    const details = tile(bo, "ana").getByText("Connection details");
    await details.click();
    await expect.poll(() => tile(bo, "ana").locator("pre").textContent(), { timeout: 10_000 }).toMatch(/path: host udp 10\.99\.0\.1.*\n.*in video: video\/(VP8|VP9|H264|AV1)/s);

    // Microphone: bo shares; audio plays at the others without asking (the default).
    await control(bo, "Microphone").click();
    expect(await audioLevel(tile(ana, "bo"))).toBeGreaterThan(0.01);
    expect(await audioLevel(tile(cy, "bo"))).toBeGreaterThan(0.01);

    // Screen: cy shares, ana shows it.
    await control(cy, "Screen").click();
    await tile(ana, "cy").getByRole("button", { name: "Show Screen" }).click();
    expect((await nextVideoFrame(tile(ana, "cy"))).width).toBeGreaterThan(0);

    // The relay restarts mid-call: media keeps flowing, the room is whole again.
    const oldPort = port;
    await relay.close();
    await expect.poll(() => bo.getByText("Server connection lost, reconnecting…").isVisible()).toBe(true);
    expect((await nextVideoFrame(tile(bo, "ana"))).width).toBeGreaterThan(0);
    await startRelay(oldPort);
    await expect.poll(() => bo.getByText("3 here").isVisible(), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => ana.getByText("3 here").isVisible(), { timeout: 20_000 }).toBe(true);
    expect((await nextVideoFrame(tile(bo, "ana"))).width).toBeGreaterThan(0);
    await ana.getByRole("textbox", { name: "Message" }).fill("after the restart");
    await ana.keyboard.press("Enter");
    await expect.poll(() => bo.getByRole("log").textContent()).toContain("after the restart");

    // Stop all: ana's camera disappears from bo's view of ana.
    await control(ana, "Stop all").click();
    await expect.poll(() => tile(bo, "ana").getByRole("button", { name: /Camera/ }).count()).toBe(0);

    // cy leaves: the others lose cy's tile.
    await cy.close({ runBeforeUnload: false });
    await expect.poll(() => tile(ana, "cy").count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => tile(bo, "cy").count(), { timeout: 10_000 }).toBe(0);

    for (const page of [ana, bo]) expect(pageErrors(page)).toEqual([]);
  });
});

describe("a link that asks for the camera and microphone", () => {
  it("starts nothing before one press of the focused, announced button; then shares both", async () => {
    const secret = randomRoomSecret();
    const bo = await joinAs(secret, "bo");
    const ana = await openPage(browser, `http://127.0.0.1:${port}/room#${secret}?username=ana&camera_enabled=1&microphone_enabled=1`);
    const start = ana.getByRole("button", { name: "Join with microphone and camera" });
    await start.waitFor();
    await expect.poll(() => start.evaluate((button) => button === (button.getRootNode() as ShadowRoot).activeElement)).toBe(true);
    await expect.poll(() => ana.locator("[aria-live]").allTextContents().then((t) => t.join(" "))).toContain("This link asks to share your microphone and camera");
    // Nothing is captured or offered yet: no Stop buttons, no device open, nothing on Bo's side.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await ana.getByRole("button", { name: "Stop Camera", exact: true }).count()).toBe(0);
    expect(await ana.getByRole("button", { name: "Stop Microphone", exact: true }).count()).toBe(0);
    expect(await tile(bo, "ana").getByRole("button", { name: /Show|Play/ }).count()).toBe(0);
    await start.click();
    await ana.getByRole("button", { name: "Stop Camera", exact: true }).waitFor();
    await ana.getByRole("button", { name: "Stop Microphone", exact: true }).waitFor();
    expect(await start.count()).toBe(0);
    await tile(bo, "ana").getByRole("button", { name: /Show/ }).first().waitFor();
    expect(pageErrors(ana)).toEqual([]);
  });

  it("from Settings or storage, the same prefs start at once as before", async () => {
    const secret = randomRoomSecret();
    const first = await openPage(browser, `http://127.0.0.1:${port}/room#${secret}?username=ana`);
    await first.getByRole("group", { name: "You (ana)" }).waitFor();
    // A stored preference, as Settings saves it.
    await first.evaluate(() => (window as unknown as { meshmeet: { prefs: { set(key: string, value: unknown): Promise<unknown> } } }).meshmeet.prefs.set("camera_enabled", true));
    const again = await openPage(browser, `http://127.0.0.1:${port}/room#${secret}?username=ana`, { context: first.context() });
    await again.getByRole("button", { name: "Stop Camera", exact: true }).waitFor();
    expect(await again.getByRole("button", { name: /^Join with/ }).count()).toBe(0);
    await again.evaluate(() => (window as unknown as { meshmeet: { prefs: { set(key: string, value: unknown): Promise<unknown> } } }).meshmeet.prefs.set("camera_enabled", false));
  });
});
