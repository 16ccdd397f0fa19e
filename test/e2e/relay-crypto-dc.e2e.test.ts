// The foundation end to end: two Chromium pages load a page built from common/, derive the room
// key and hash from one secret, join through the real relay, exchange a sealed chat message and
// open a WebRTC data channel signaled through sealed messages. The relay's traffic, as the pages
// see it on their WebSockets, must never contain the secret or the plaintext.

import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveRoomHash } from "../../common/crypto/room-crypto.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { closeAll, launchBrowser, openPage, pageErrors } from "../harness/browser.js";
import { bundleTestSite, type BundledSite } from "../harness/static-site.js";

const SECRET = "Foundation Test#5b0f-only-in-the-fragment";
const PLAINTEXT = "hello from page A, sealed";

let site: BundledSite;
let relay: Relay;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  site = await bundleTestSite({ pages: { index: "test/e2e/pages/relay-crypto-dc.ts" }, layout: "relay" });
  relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: site.dir });
  const { port } = await relay.listen();
  origin = `http://127.0.0.1:${port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await closeAll();
  await relay?.close();
  await site?.cleanup();
});

/** Every text frame the page sent to or received from the relay. */
function recordFrames(page: Page): string[] {
  const frames: string[] = [];
  page.on("websocket", (socket) => {
    socket.on("framesent", ({ payload }) => frames.push(String(payload)));
    socket.on("framereceived", ({ payload }) => frames.push(String(payload)));
  });
  return frames;
}

describe("relay + crypto + data channel between two Chromium pages", () => {
  it("joins one room, exchanges a sealed message and opens a data channel", async () => {
    const a = await openPage(browser, `${origin}/`);
    const b = await openPage(browser, `${origin}/`);
    const framesA = recordFrames(a);
    const framesB = recordFrames(b);
    // Navigation happened before the recorders were attached: reload so the sockets are seen.
    await Promise.all([a.reload(), b.reload()]);

    const [joinedA, joinedB] = await Promise.all([
      a.evaluate((secret) => window.meshTest.join(secret), SECRET),
      b.evaluate((secret) => window.meshTest.join(secret), SECRET),
    ]);
    // Browser and Node derive the same hash (the keks-meet derivation), and it is what was sent.
    const hash = await deriveRoomHash(SECRET);
    expect(joinedA.hash).toBe(hash);
    expect(joinedB.hash).toBe(hash);
    expect(framesA).toContain(`{"join":{"hash":"${hash}"}}`);
    expect(joinedA.ownId).not.toBe(joinedB.ownId);

    expect(await a.evaluate(() => window.meshTest.waitForPeer())).toBe(joinedB.ownId);
    expect(await b.evaluate(() => window.meshTest.waitForPeer())).toBe(joinedA.ownId);

    await a.evaluate((text) => window.meshTest.sendChat(text), PLAINTEXT);
    expect(await b.evaluate(() => window.meshTest.nextChat())).toEqual({ sender: joinedA.ownId, text: PLAINTEXT });

    await a.evaluate(() => window.meshTest.openChannel());
    expect(await a.evaluate(() => window.meshTest.channelEcho("ping over webrtc"))).toBe("PING OVER WEBRTC");
    const pair = await a.evaluate(() => window.meshTest.selectedPair());
    expect(pair.local).toMatch(/^10\.99\.0\./);
    expect(pair.remote).toMatch(/^10\.99\.0\./);

    // What the relay carried: only sealed strings, never the secret or any plaintext.
    const frames = [...framesA, ...framesB];
    expect(frames.length).toBeGreaterThan(5);
    for (const frame of frames) {
      expect(frame).not.toContain(PLAINTEXT);
      expect(frame).not.toContain("Foundation Test");
      expect(frame).not.toContain("v=0"); // SDP travels sealed too
      expect(frame).not.toContain("candidate:");
    }
    const relayed = frames.flatMap((frame) => {
      const parsed = JSON.parse(frame) as { relay?: { message: string }; message?: { message: string } };
      return [parsed.relay?.message, parsed.message?.message].filter((m): m is string => typeof m === "string");
    });
    expect(relayed.length).toBeGreaterThan(3);
    for (const sealed of relayed) expect(sealed).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);

    expect(await a.evaluate(() => window.meshTest.drops())).toEqual([]);
    expect(await b.evaluate(() => window.meshTest.drops())).toEqual([]);
    expect(pageErrors(a)).toEqual([]);
    expect(pageErrors(b)).toEqual([]);
  });
});
