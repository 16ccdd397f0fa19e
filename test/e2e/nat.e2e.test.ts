// Meetings across NATs, in the lab of test/harness/nat-lab.ts: each person in a home of their own
// behind a router (Linux nftables NAT), the relay and coturn on the "public" segment. Asserted as a
// user sees it: the other person's camera playing, and the tile saying how the connection goes.
//
// What each topology is expected to do:
// - cone ↔ cone, built-in STUN only: both NATs keep one mapping per local port, so the two ends
//   meet through their server-reflexive addresses. Two Linux conntrack NATs whose first packets
//   cross can each install a mapping that drops the other's packets for 30 s; that is how real
//   home routers behave too, and the engine gets past it by restarting ICE on new ports when a
//   connection is stuck. So the test allows that much time, and expects it to connect.
// - symmetric ↔ symmetric: a new mapping per destination defeats STUN; only TURN gets through.
// - UDP blocked ↔ cone: the blocked home reaches nothing over UDP, not even STUN; it gets an
//   allocation from coturn over TCP, and the cone side reaches that relay address over UDP.
// - wrong TURN secret, expired static credentials: coturn answers 401 to every allocation, so
//   between symmetric NATs there is no way through, and the tile says why (not "Connecting…").
// - relay_only: only the relay candidate leaves the browser, so nobody learns the home address.

import { randomRoomSecret } from "../../common/prefs/fragment.js";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeAll, launchBrowser, openPage, pageErrors } from "../harness/browser.js";
import { mintTurnCredential, startCoturn, type Coturn } from "../harness/coturn.js";
import { candidateRecordingContext, joinRoom, launchInHome, recordedCandidates, nextVideoFrame, pathText, peerTile, startLabRelay, type LabRelay } from "../harness/lab-meeting.js";
import { createNatLab, type NatLab } from "../harness/nat-lab.js";

const HOMES = { coneA: "cone", coneB: "cone", symA: "symmetric", symB: "symmetric", blocked: "udp-blocked" } as const;
type Home = keyof typeof HOMES;

const TURN_SECRET = "nat-e2e-secret-0123456789";

let lab: NatLab;
let coturn: Coturn;
let relay: LabRelay | undefined;
const browsers = new Map<Home, Browser>();

beforeAll(async () => {
  lab = await createNatLab({ homes: HOMES });
  coturn = await startCoturn(lab, { secret: TURN_SECRET });
});

afterEach(async () => {
  await closeAll();
  browsers.clear();
  await relay?.stop();
  relay = undefined;
});

afterAll(async () => {
  await coturn?.stop();
  await lab?.close();
});

function turnToml(secret = TURN_SECRET): string {
  return `[turn]\nurls = ["${coturn.urls.udp}", "${coturn.urls.tcp}"]\nsecret = "${secret}"\n`;
}

async function browserIn(home: Home): Promise<Browser> {
  if (!relay) throw new Error("start the relay first");
  const existing = browsers.get(home);
  if (existing) return existing;
  const browser = await launchInHome(lab, home, relay.origin);
  browsers.set(home, browser);
  return browser;
}

/** Ana (camera on) in `from`, Bo (shows video automatically) in `to`; resolves with both pages. */
async function meet(
  from: Home,
  to: Home,
  extra: { ana?: Record<string, string>; bo?: Record<string, string>; recordCandidates?: boolean } = {},
): Promise<{ ana: Page; bo: Page }> {
  if (!relay) throw new Error("start the relay first");
  const secret = randomRoomSecret();
  const [anaBrowser, boBrowser] = await Promise.all([browserIn(from), browserIn(to)]);
  const context = (browser: Browser) => (extra.recordCandidates ? candidateRecordingContext(browser) : Promise.resolve(undefined));
  const ana = await joinRoom(anaBrowser, relay.origin, secret, "ana", { camera_enabled: "true", ...extra.ana }, await context(anaBrowser));
  const bo = await joinRoom(boBrowser, relay.origin, secret, "bo", { optional_video_default_enable: "true", ...extra.bo }, await context(boBrowser));
  return { ana, bo };
}

describe("across NATs", () => {
  it("cone ↔ cone: the built-in STUN server gets the camera through both NATs", async () => {
    relay = await startLabRelay(lab);
    const { ana, bo } = await meet("coneA", "coneB");
    const frame = await nextVideoFrame(peerTile(bo, "ana"), 45_000);
    expect(frame.width).toBeGreaterThan(0);
    expect(await pathText(peerTile(bo, "ana"))).toMatch(/^Direct, through the NATs \(STUN\) · round trip \d+ ms$/);
    expect(await pathText(peerTile(ana, "bo"))).toMatch(/through the NATs \(STUN\)/);
    expect(pageErrors(ana)).toEqual([]);
    expect(pageErrors(bo)).toEqual([]);
  }, 90_000);

  it("symmetric ↔ symmetric: coturn relays, with credentials the relay minted", async () => {
    relay = await startLabRelay(lab, turnToml());
    const { ana, bo } = await meet("symA", "symB");
    const started = performance.now();
    expect((await nextVideoFrame(peerTile(bo, "ana"))).width).toBeGreaterThan(0);
    const firstFrameMs = performance.now() - started;
    expect(await pathText(peerTile(bo, "ana"))).toMatch(new RegExp(`^Relayed by TURN ${coturn.address.replaceAll(".", "\\.")}( on their side)? · round trip \\d+ ms$`));
    // Not after an ICE timeout: TURN candidates are gathered and tried at once.
    expect(firstFrameMs).toBeLessThan(10_000);
    expect(pageErrors(ana)).toEqual([]);
    expect(pageErrors(bo)).toEqual([]);
  }, 90_000);

  it("UDP blocked ↔ cone: TURN over TCP gets through, and stays up", async () => {
    relay = await startLabRelay(lab, turnToml());
    const { ana, bo } = await meet("blocked", "coneA");
    expect((await nextVideoFrame(peerTile(bo, "ana"))).width).toBeGreaterThan(0);
    const turn = coturn.address.replaceAll(".", "\\.");
    expect(await pathText(peerTile(ana, "bo"))).toMatch(new RegExp(`^Relayed by TURN ${turn} over TCP · round trip \\d+ ms$`));
    // The cone side may relay too, when ICE pairs one of its own relay candidates (UDP or TCP)
    // with Ana's; each of those is right.
    expect(await pathText(peerTile(bo, "ana"))).toMatch(new RegExp(`^Relayed by TURN ${turn}( over TCP)?( on their side)? · round trip \\d+ ms$`));
    // Video keeps coming well past the first second of traffic through the relay (an allocation
    // that coturn drops shows as a frozen picture and "Connection interrupted").
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect((await nextVideoFrame(peerTile(bo, "ana"), 5_000)).width).toBeGreaterThan(0);
    await expect.poll(() => peerTile(ana, "bo").textContent()).not.toContain("interrupted");
    expect(pageErrors(ana)).toEqual([]);
    expect(pageErrors(bo)).toEqual([]);
  }, 90_000);

  it("a wrong TURN secret: the tile says the TURN server refused the credentials", async () => {
    relay = await startLabRelay(lab, turnToml("not-the-coturn-secret-42"));
    const { ana, bo } = await meet("symA", "symB");
    for (const [page, other] of [[ana, "bo"], [bo, "ana"]] as const) {
      const failure = peerTile(page, other).locator(".failure");
      await failure.waitFor({ timeout: 60_000 });
      expect(await failure.getAttribute("data-cause")).toBe("turn-refused");
      expect(await failure.textContent()).toContain("The TURN server refused the credentials");
    }
    expect(pageErrors(ana)).toEqual([]);
    expect(pageErrors(bo)).toEqual([]);
  }, 90_000);

  it("expired static TURN credentials: the same plain failure message", async () => {
    // What keks-meet-style static credentials become once the time in their username has passed.
    const expired = mintTurnCredential(TURN_SECRET, -3600);
    relay = await startLabRelay(
      lab,
      `[webrtc]\nturn = ["${coturn.urls.udp}", "${coturn.urls.tcp}"]\nturn_user = "${expired.username}"\nturn_cred = "${expired.credential}"\n`,
    );
    const { ana, bo } = await meet("symA", "symB");
    const failure = peerTile(bo, "ana").locator(".failure");
    await failure.waitFor({ timeout: 60_000 });
    expect(await failure.getAttribute("data-cause")).toBe("turn-refused");
    expect(pageErrors(ana)).toEqual([]);
    expect(pageErrors(bo)).toEqual([]);
  }, 90_000);

  it("relay_only: only relay candidates leave the browser, and the call still works", async () => {
    relay = await startLabRelay(lab, turnToml());
    const { ana, bo } = await meet("coneA", "coneB", { ana: { relay_only: "true" }, recordCandidates: true });
    expect((await nextVideoFrame(peerTile(bo, "ana"))).width).toBeGreaterThan(0);
    expect(await pathText(peerTile(ana, "bo"))).toMatch(/^Relayed by TURN /);
    const home = lab.home("coneA").address;
    const sent = (await recordedCandidates(ana)).local;
    const received = (await recordedCandidates(bo)).remote;
    expect(sent.length).toBeGreaterThan(0);
    expect(received.length).toBeGreaterThan(0);
    for (const candidate of [...sent, ...received]) {
      expect(candidate).toMatch(/ typ relay( |$)/);
      expect(candidate).not.toContain(home);
    }
    // Bo is not relay_only: his own candidates still include his host address.
    expect((await recordedCandidates(bo)).local.some((candidate) => / typ host /.test(candidate))).toBe(true);
    expect(pageErrors(ana)).toEqual([]);
    expect(pageErrors(bo)).toEqual([]);
  }, 90_000);

  it("keks-meet's web client, reading our /config.json as it does, gets through its NAT with the built-in STUN", async () => {
    relay = await startLabRelay(lab);
    const page = await openPage(await browserIn("coneA"), `${relay.origin}/`);
    // keks-meet 1.0.4 builds one RTCConfiguration: a pool of 10 and a single ICE server entry of
    // [webrtc.stun] plus webrtc.turn when set, sharing turn_user/turn_cred. A null or missing stun
    // makes the constructor throw, so this is where an incompatible /config.json shows.
    const srflx = await page.evaluate(async () => {
      const config = (await (await fetch("/config.json")).json()) as {
        webrtc: { stun: string; turn: string | null; turn_user: string | null; turn_cred: string | null };
      };
      const { stun, turn, turn_user, turn_cred } = config.webrtc;
      const pc = new RTCPeerConnection({
        iceCandidatePoolSize: 10,
        iceServers: [{ urls: turn ? [stun, turn] : [stun], username: turn_user ?? undefined, credential: turn_cred ?? undefined }],
      });
      pc.createDataChannel("probe");
      const found = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no server-reflexive candidate in 10 s")), 10_000);
        pc.addEventListener("icecandidate", (event) => {
          const line = event.candidate?.candidate ?? "";
          if (/ typ srflx /.test(line)) {
            clearTimeout(timer);
            resolve(line);
          }
        });
      });
      await pc.setLocalDescription();
      try {
        return { stun, line: await found };
      } finally {
        pc.close();
      }
    });
    expect(srflx.stun).toBe(`stun:${lab.publicAddresses.relay}:3478`);
    // The address the built-in STUN server saw: the cone router's WAN side.
    expect(srflx.line).toContain(` ${lab.home("coneA").routerPublicAddress} `);
    expect(pageErrors(page)).toEqual([]);
  }, 60_000);

  it("over plain http:// from another machine, the room says why it cannot open instead of hanging", async () => {
    relay = await startLabRelay(lab);
    // No insecure-origin flag: the page is what a person gets from http://<server address>.
    const browser = await launchBrowser({ executablePath: lab.home("coneA").chromiumExecutable });
    const page = await openPage(browser, `${relay.origin}/room#${randomRoomSecret()}?username=ana`);
    const alert = page.getByRole("alert");
    await alert.waitFor({ timeout: 10_000 });
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Cannot open this meeting");
    expect(await alert.textContent()).toContain(`opened over plain http:// from ${lab.publicAddresses.relay}`);
    expect(await alert.textContent()).toContain("https://");
    expect(await page.getByRole("link", { name: "Start or join a meeting" }).getAttribute("href")).toBe("/");
  }, 60_000);
});
