// Jellyfin watch-together, relay mode, end to end: the Jellyfin API fixture (test/jellyfin,
// real H.264/AAC HLS made by ffmpeg), the real relay and client, three pages. The sharer signs
// in and shares from the panel; two viewers watch through the data channels. We measure drift
// against the sharer, check that pause and seek propagate, that subtitle cues arrive, that the
// relay's traffic never carries the title, a playlist, a Jellyfin URL or the token, that only
// the sharer ever talked to Jellyfin, and that stopping ends the transcode on the server.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomRoomSecret } from "../../common/prefs/fragment.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { runAxe } from "../harness/axe.js";
import { closeAll, launchBrowser, openPage, pageErrors } from "../harness/browser.js";
import { peakLevel } from "../harness/media-level.js";
import { startJellyfinFixture, type JellyfinFixture } from "../jellyfin/fixture.js";

const STATIC_ROOT = fileURLToPath(new URL("../../dist/public/", import.meta.url));

let relay: Relay;
let origin: string;
let browser: Browser;
let fixture: JellyfinFixture;

beforeAll(async () => {
  if (!existsSync(`${STATIC_ROOT}room.html`)) throw new Error("dist/public is missing: run `make build` first");
  fixture = await startJellyfinFixture();
  relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: STATIC_ROOT });
  origin = `http://127.0.0.1:${(await relay.listen()).port}`;
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await closeAll();
  await relay?.close();
  await fixture?.close();
});

/** Every frame each page's WebSocket to the relay sent or received. */
const relayFrames: string[] = [];

async function join(secret: string, username: string): Promise<Page> {
  const page = await openPage(browser, `${origin}/room#${secret}?username=${username}`);
  page.on("websocket", (socket) => {
    socket.on("framesent", ({ payload }) => relayFrames.push(String(payload)));
    socket.on("framereceived", ({ payload }) => relayFrames.push(String(payload)));
  });
  await page.getByRole("group", { name: `You (${username})` }).waitFor();
  return page;
}

/** Signs `page` in to the fixture in the Jellyfin panel and opens Fixture Movie's share form. */
async function openMovie(page: Page, options: { axe?: boolean } = {}) {
  await page.keyboard.press("Shift+J");
  const panel = page.getByRole("complementary", { name: "Jellyfin" });
  await panel.getByLabel("Server address").first().fill(fixture.url);
  await panel.getByLabel("User name").fill("alice");
  await panel.getByLabel("Password").fill("pw");
  if (options.axe) expect(await runAxe(page), "the sign-in form").toEqual([]);
  await panel.getByRole("button", { name: "Sign in", exact: true }).click();
  await panel.getByText("as alice").waitFor();
  await panel.getByRole("button", { name: /Movies/ }).click();
  await panel.getByRole("button", { name: /Fixture Movie/ }).click();
  return panel;
}

interface Sample {
  /** This machine's clock (all pages share it), ms. */
  readonly at: number;
  readonly pos: number;
  readonly paused: boolean;
}

/** The position of the first <video> inside the watch view whose heading matches `heading`. */
async function sample(page: Page, heading: RegExp): Promise<Sample> {
  const view = page.locator("mm-watch-view").filter({ has: page.getByRole("heading", { name: heading }) });
  return view.locator("video").evaluate((element) => {
    const video = element as HTMLVideoElement;
    return { at: performance.timeOrigin + performance.now(), pos: video.currentTime, paused: video.paused };
  });
}

/** Viewer position minus where the sharer is at the same instant, in seconds. */
async function drift(sharer: Page, viewer: Page): Promise<number> {
  const s = await sample(sharer, /^You share Fixture Movie/);
  const v = await sample(viewer, /^Fixture Movie from sam/);
  const sharerThen = s.paused ? s.pos : s.pos + (v.at - s.at) / 1000;
  return v.pos - sharerThen;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

describe("watch together (relay mode)", () => {
  it("shares a Jellyfin movie to two viewers in sync, with subtitles, and nothing of Jellyfin on the relay", async () => {
    const secret = randomRoomSecret();
    const sam = await join(secret, "sam");
    const vic = await join(secret, "vic");
    const val = await join(secret, "val");

    // Sign in and share from the panel.
    const panel = await openMovie(sam, { axe: true });
    await panel.getByLabel("Subtitles", { exact: true }).selectOption({ index: 1 });
    expect(await runAxe(sam), "the library and the share form").toEqual([]);
    await panel.getByRole("button", { name: "Share with the room" }).click();
    await sam.getByRole("heading", { name: "You share Fixture Movie" }).waitFor();
    const sharedAt = Date.now();

    // Before joining, the offer shows title, running time and poster.
    const offer = vic.getByRole("group", { name: "sam", exact: true });
    await offer.getByText("30 s").waitFor();
    await offer.getByRole("img", { name: "Poster of Fixture Movie" }).waitFor();
    // Both viewers join from the sharer's tile.
    for (const viewer of [vic, val]) {
      await viewer.getByRole("group", { name: "sam", exact: true }).getByRole("button", { name: "Watch Fixture Movie with sam" }).click();
    }
    for (const viewer of [vic, val]) {
      await expect.poll(async () => (await sample(viewer, /^Fixture Movie from sam/)).pos, { timeout: 15_000 }).toBeGreaterThan(0.5);
    }
    console.log(`watch: first viewer frame ${Date.now() - sharedAt} ms after sharing`);
    expect(await runAxe(vic), "a viewer's page with the player").toEqual([]);

    // Steady state: after a moment to settle, the viewers stay within 100 ms of the sharer.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const drifts: number[] = [];
    for (let i = 0; i < 6; i++) {
      for (const viewer of [vic, val]) drifts.push(Math.abs(await drift(sam, viewer)));
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    console.log(`watch: |drift| median ${(median(drifts) * 1000).toFixed(0)} ms, max ${(Math.max(...drifts) * 1000).toFixed(0)} ms`);
    expect(median(drifts)).toBeLessThan(0.1);

    // Subtitle cues reach the viewers as a text track.
    for (const viewer of [vic, val]) {
      await expect
        .poll(() =>
          viewer.locator("mm-watch-view video").first().evaluate((element) => {
            const tracks = [...(element as HTMLVideoElement).textTracks];
            for (const track of tracks) if (track.mode === "disabled") track.mode = "hidden";
            return tracks.reduce((n, track) => n + (track.cues?.length ?? 0), 0);
          }),
          { timeout: 10_000 },
        )
        .toBeGreaterThan(0);
    }

    // Pause propagates within half a second; so does a seek.
    await sam.locator("mm-watch-view video").first().evaluate((element) => (element as HTMLVideoElement).pause());
    const pausedAt = Date.now();
    for (const viewer of [vic, val]) await expect.poll(async () => (await sample(viewer, /^Fixture Movie from sam/)).paused, { timeout: 2000, interval: 50 }).toBe(true);
    console.log(`watch: pause reached both viewers in ${Date.now() - pausedAt} ms`);
    expect(Date.now() - pausedAt).toBeLessThan(1000);
    await sam.locator("mm-watch-view video").first().evaluate((element) => {
      (element as HTMLVideoElement).currentTime = 2;
    });
    for (const viewer of [vic, val]) {
      await expect.poll(async () => Math.abs((await sample(viewer, /^Fixture Movie from sam/)).pos - 2), { timeout: 3000, interval: 50 }).toBeLessThan(0.3);
    }

    // Nothing of Jellyfin went over the relay, and only the sharer talked to Jellyfin.
    const fixtureHost = new URL(fixture.url).host;
    for (const frame of relayFrames) {
      for (const secretText of ["Fixture Movie", fixtureHost, fixture.token, "m3u8", "/Videos/", "EXTM3U"]) expect(frame).not.toContain(secretText);
    }
    // Viewers have no token: any request of theirs would be an unauthorized one. (CORS preflights,
    // sign-in and posters need none and come from the sharer's page.)
    const unauthorized = fixture.log().filter(
      (entry) => !entry.tokenOk && entry.method !== "OPTIONS" && !/^\/(Users\/AuthenticateByName|System\/Info\/Public|Items\/[^/]+\/Images\/)/.test(entry.path),
    );
    expect(unauthorized).toEqual([]);

    // Stopping ends the viewers' players and the transcode.
    await sam.getByRole("button", { name: "Stop sharing" }).first().click();
    for (const viewer of [vic, val]) await viewer.getByRole("heading", { name: /^Fixture Movie from sam/ }).waitFor({ state: "detached" });
    await expect.poll(() => fixture.log().some((entry) => entry.method === "DELETE" && entry.path === "/Videos/ActiveEncodings")).toBe(true);
    expect(fixture.log().some((entry) => entry.path === "/Sessions/Playing/Stopped")).toBe(true);
    for (const page of [sam, vic, val]) expect(pageErrors(page)).toEqual([]);
  });

  it("a queue with next (also asked by a viewer the sharer lets control), and viewer play/pause requests", async () => {
    const secret = randomRoomSecret();
    const sam = await join(secret, "sam");
    const vic = await join(secret, "vic");
    const panel = await openMovie(sam);
    await panel.getByRole("button", { name: "Share with the room" }).click();
    await sam.getByRole("heading", { name: "You share Fixture Movie" }).waitFor();
    // Browse to an episode and queue it.
    await panel.getByRole("button", { name: "Libraries" }).click();
    await panel.getByRole("button", { name: /^Shows/ }).click();
    await panel.getByRole("button", { name: /^Fixture Series/ }).click();
    await panel.getByRole("button", { name: /^Season 1/ }).click();
    await panel.getByRole("button", { name: /^Episode Two/ }).click();
    await panel.getByRole("button", { name: "Add to the queue" }).click();
    await sam.getByRole("list", { name: "Queue" }).getByText("Episode Two").waitFor();

    await vic.getByRole("group", { name: "sam", exact: true }).getByRole("button", { name: "Watch Fixture Movie with sam" }).click();
    await expect.poll(async () => (await sample(vic, /^Fixture Movie from sam/)).pos, { timeout: 15_000 }).toBeGreaterThan(0.5);

    // Without the sharer's permission a viewer has no controls; with it, it pauses everyone.
    const viewerView = vic.locator("mm-watch-view");
    expect(await viewerView.getByRole("button", { name: "Pause for everyone" }).count()).toBe(0);
    await sam.getByLabel("Let viewers pause, seek and skip").check();
    await viewerView.getByRole("button", { name: "Pause for everyone" }).click();
    await expect.poll(async () => (await sample(sam, /^You share Fixture Movie/)).paused, { timeout: 2000 }).toBe(true);
    await viewerView.getByRole("button", { name: "Play for everyone" }).click();
    await expect.poll(async () => (await sample(sam, /^You share Fixture Movie/)).paused, { timeout: 2000 }).toBe(false);

    // The viewer asks for the next item: both switch to Episode Two, and the old transcode ends.
    const stopsBefore = fixture.log().filter((e) => e.method === "DELETE" && e.path === "/Videos/ActiveEncodings").length;
    await viewerView.getByRole("button", { name: "Next in the queue" }).click();
    await sam.getByRole("heading", { name: "You share Episode Two" }).waitFor();
    await vic.getByRole("heading", { name: /^Episode Two from sam/ }).waitFor();
    await expect.poll(async () => (await sample(vic, /^Episode Two from sam/)).pos, { timeout: 15_000 }).toBeGreaterThan(0.5);
    expect(fixture.log().filter((e) => e.method === "DELETE" && e.path === "/Videos/ActiveEncodings").length).toBeGreaterThan(stopsBefore);
    expect(await sam.getByRole("list", { name: "Queue" }).count()).toBe(0);
    await sam.getByRole("button", { name: "Stop sharing" }).first().click();
    for (const page of [sam, vic]) expect(pageErrors(page)).toEqual([]);
  });

  it("broadcast mode: a viewer gets the sharer's player as video frames and sound", async () => {
    const secret = randomRoomSecret();
    const sam = await join(secret, "sam");
    const vic = await join(secret, "vic");
    const panel = await openMovie(sam);
    await panel.getByLabel(/Broadcast your player/).check();
    await panel.getByRole("button", { name: "Share with the room" }).click();
    await sam.getByRole("heading", { name: "You broadcast Fixture Movie" }).waitFor({ timeout: 30_000 });

    const tile = vic.getByRole("group", { name: "sam", exact: true });
    await tile.getByRole("button", { name: "Show Fixture Movie" }).click();
    const video = tile.locator("mm-stream-view video");
    await video.waitFor();
    const frame = await video.evaluate(
      (element) =>
        new Promise<{ width: number; height: number }>((resolve) =>
          (element as HTMLVideoElement).requestVideoFrameCallback((_now, meta) => resolve({ width: meta.width, height: meta.height })),
        ),
    );
    expect(frame.width).toBeGreaterThan(0);
    // The fixture's 440 Hz tone arrives with the picture.
    const level = await peakLevel(video);
    expect(level).toBeGreaterThan(0.01);
    // The sharer capped the video at the 720p preset's bitrate.
    const maxBitrates = () =>
      sam.evaluate(() => {
        const { room } = (window as unknown as { meshmeet: { room: import("../../common/engine/room.js").Room } }).meshmeet;
        return room.peerViews().flatMap((peer) =>
          (room.connectionOf(peer.key)?.getSenders() ?? []).filter((s) => s.track?.kind === "video").map((s) => s.getParameters().encodings[0]?.maxBitrate),
        );
      });
    await expect.poll(maxBitrates, { timeout: 8000 }).toEqual([2_500_000]);
    await sam.getByRole("heading", { name: "You broadcast Fixture Movie" }).locator("..").getByText("1 person watches.").waitFor();

    await sam.getByRole("button", { name: "Stop sharing" }).first().click();
    await tile.getByRole("button", { name: "Show Fixture Movie" }).waitFor({ state: "detached" });
    for (const page of [sam, vic]) expect(pageErrors(page)).toEqual([]);
  });

  it("signs in with Quick Connect, remembers the server in this browser, and forgets it", async () => {
    fixture.configure({ quickConnectAutoApproveAfterPolls: 1 });
    const secret = randomRoomSecret();
    const sam = await join(secret, "sam");
    await sam.keyboard.press("Shift+J");
    const panel = sam.getByRole("complementary", { name: "Jellyfin" });
    await panel.getByLabel("Server address").first().fill(fixture.url);
    await panel.getByRole("button", { name: "Sign in with Quick Connect" }).click();
    await panel.getByText("123456").waitFor();
    await panel.getByText("as alice").waitFor({ timeout: 15_000 });

    // A new page of the same browser profile finds the saved sign-in.
    const again = await openPage(browser, `${origin}/room#${secret}?username=sam2`, { context: sam.context() });
    await again.getByRole("group", { name: "You (sam2)" }).waitFor();
    await again.keyboard.press("Shift+J");
    const panel2 = again.getByRole("complementary", { name: "Jellyfin" });
    await panel2.getByRole("button", { name: "Use", exact: true }).click();
    await panel2.getByText("as alice").waitFor();
    await panel2.getByRole("button", { name: "Sign out" }).click();
    await panel2.getByRole("button", { name: `Forget ${fixture.url}` }).click();
    await panel2.getByRole("heading", { name: "Your servers" }).waitFor({ state: "detached" });
  });

  it("says plainly when the password is wrong or the server cannot be reached", async () => {
    const sam = await join(randomRoomSecret(), "sam");
    await sam.keyboard.press("Shift+J");
    const panel = sam.getByRole("complementary", { name: "Jellyfin" });
    await panel.getByLabel("Server address").first().fill(fixture.url);
    await panel.getByLabel("User name").fill("alice");
    await panel.getByLabel("Password").fill("wrong");
    await panel.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => panel.getByRole("alert").textContent()).toMatch(/password/i);
    await panel.getByLabel("Server address").first().fill("http://127.0.0.1:9");
    await panel.getByLabel("Password").fill("pw");
    await panel.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => panel.getByRole("alert").textContent()).toMatch(/CORS|reach/i);
  });

  it("a relay that allows only other Jellyfin servers says so, and one that allows none turns the feature off", async () => {
    for (const [servers, expected] of [
      ['["https://media.example.org"]', /only lets pages connect to these Jellyfin servers: https:\/\/media\.example\.org/],
      ["[]", /turned off on this meshmeet server/],
    ] as const) {
      const strict = createRelay(loadConfig(`[server]\nbind = "127.0.0.1:0"\n[jellyfin]\nservers = ${servers}\n`), { staticRoot: STATIC_ROOT });
      const strictOrigin = `http://127.0.0.1:${(await strict.listen()).port}`;
      try {
        const sam = await openPage(browser, `${strictOrigin}/room#${randomRoomSecret()}?username=sam`);
        await sam.getByRole("group", { name: "You (sam)" }).waitFor();
        await sam.keyboard.press("Shift+J");
        const panel = sam.getByRole("complementary", { name: "Jellyfin" });
        if (servers === "[]") {
          await panel.getByText(expected).waitFor();
          expect(await panel.getByLabel("Server address").count()).toBe(0);
          continue;
        }
        await panel.getByLabel("Server address").first().fill(fixture.url);
        const before = Date.now();
        await panel.getByRole("button", { name: "Sign in", exact: true }).click();
        await expect.poll(() => panel.getByRole("alert").textContent()).toMatch(expected);
        expect(fixture.log().filter((entry) => entry.at >= before)).toEqual([]);
      } finally {
        await strict.close();
      }
    }
  });
});
