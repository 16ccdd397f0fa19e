// Video that follows each receiver, end to end: the built client, the real relay, three Chromium
// pages. Ana shares her camera (640×480); bo shows it in a small window, cy in a large one. Bo's
// tile reports its size, ana's page encodes for bo alone at a fraction of the size, and the frames
// bo decodes shrink; cy keeps the full picture.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomRoomSecret } from "../../common/prefs/fragment.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { closeAll, launchBrowser, openPage, pageErrors } from "../harness/browser.js";

const STATIC_ROOT = fileURLToPath(new URL("../../dist/public/", import.meta.url));

let relay: Relay;
let port: number;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(`${STATIC_ROOT}room.html`)) throw new Error("dist/public is missing: run `make build` first");
  relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: STATIC_ROOT });
  port = (await relay.listen()).port;
  browser = await launchBrowser();
});

afterAll(async () => {
  await closeAll();
  await relay?.close();
});

interface MeshmeetWindow {
  meshmeet: {
    room: {
      peerViews(): { key: string; name: string | undefined }[];
      connectionOf(key: string): RTCPeerConnection | undefined;
    };
  };
}

/** The scaleResolutionDownBy of the encoding `page` sends its camera to `name` with (1 when unset). */
function sentScale(page: Page, name: string): Promise<number | undefined> {
  return page.evaluate((peerName) => {
    const room = (window as unknown as MeshmeetWindow).meshmeet.room;
    const key = room.peerViews().find((peer) => peer.name === peerName)?.key;
    const sender = key ? room.connectionOf(key)?.getSenders().find((s) => s.track?.kind === "video") : undefined;
    if (!sender) return undefined;
    return sender.getParameters().encodings[0]?.scaleResolutionDownBy ?? 1;
  }, name);
}

/** The width of the frames `page` decodes of `name`'s video, from inbound-rtp. */
function receivedWidth(page: Page, name: string): Promise<number | undefined> {
  return page.evaluate(async (peerName) => {
    const room = (window as unknown as MeshmeetWindow).meshmeet.room;
    const key = room.peerViews().find((peer) => peer.name === peerName)?.key;
    const connection = key ? room.connectionOf(key) : undefined;
    if (!connection) return undefined;
    let width: number | undefined;
    (await connection.getStats()).forEach((report: { type: string; kind?: string; frameWidth?: number }) => {
      if (report.type === "inbound-rtp" && report.kind === "video" && report.frameWidth) width = report.frameWidth;
    });
    return width;
  }, name);
}

describe("video fitted to each receiver", () => {
  it("a receiver's small tile shrinks the encoding sent to it, and only to it", async () => {
    const secret = randomRoomSecret();
    const ana = await openPage(browser, `http://127.0.0.1:${port}/room#${secret}?username=ana&camera_enabled=true`);
    await ana.getByRole("button", { name: "Join with camera" }).click();
    await ana.getByRole("button", { name: "Stop Camera" }).waitFor();
    const watch = (name: string, viewport: { width: number; height: number }) =>
      openPage(browser, `http://127.0.0.1:${port}/room#${secret}?username=${name}&optional_video_default_enable=true`, { contextOptions: { viewport } });
    const bo = await watch("bo", { width: 360, height: 640 });
    const cy = await watch("cy", { width: 1600, height: 1000 });
    for (const page of [bo, cy]) await page.getByRole("group", { name: "ana", exact: true }).locator("video").waitFor({ timeout: 15_000 });

    // Bo's tile is at most 360 px wide: a quarter of the 640×480 camera's area or less.
    await expect.poll(() => sentScale(ana, "bo"), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await expect.poll(() => receivedWidth(bo, "ana"), { timeout: 15_000 }).toBeLessThanOrEqual(320);
    // Cy's window is large: full size (after the first seconds' bandwidth ramp).
    await expect.poll(() => sentScale(ana, "cy"), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => receivedWidth(cy, "ana"), { timeout: 15_000 }).toBe(640);

    for (const page of [ana, bo, cy]) expect(pageErrors(page)).toEqual([]);
  });
});
