// meshmeet itself in the NAT lab (nat-lab.ts): the built relay (dist/server/main.js) as a real
// process in the public namespace, optionally coturn next to it, and a Chromium per home that
// opens the room as a person would. Shared by the NAT end-to-end tests and the `nat` benchmark.

import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { launchBrowser, openPage } from "./browser.js";
import { insecureOriginAsSecureFlag, type NatLab } from "./nat-lab.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RELAY_MAIN = path.join(REPO_ROOT, "dist/server/main.js");
/** Prefs that start a capture; from a link they wait for the "Join with …" button. */
const CAPTURE_PREFS = ["camera_enabled", "microphone_enabled", "screencast_enabled"] as const;
/** The relay's HTTP port in the lab; its STUN server follows server.bind's host on 3478. */
export const LAB_RELAY_PORT = 8080;

export interface LabRelay {
  /** http://<relay address>:8080 — not a secure context, hence the Chromium flag below. */
  readonly origin: string;
  /** The relay's JSON log lines so far (for failure messages). */
  readonly log: readonly string[];
  stop(): Promise<void>;
}

/**
 * Starts the relay in the lab's public namespace with `toml` laid over the default config
 * (server.bind is set here). Resolves once it logs `listening`.
 */
export async function startLabRelay(lab: NatLab, toml = ""): Promise<LabRelay> {
  const address = lab.publicAddresses.relay;
  const configFile = path.join(lab.dir, `relay-${Date.now()}-${Math.random().toString(36).slice(2)}.toml`);
  await writeFile(configFile, `${toml}\n`);
  const child = lab.spawnPublic(process.execPath, [RELAY_MAIN, configFile], {
    cwd: REPO_ROOT,
    env: { ...process.env, BIND: `${address}:${LAB_RELAY_PORT}` },
  });
  const log: string[] = [];
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`relay did not start in 10 s; log: ${log.join("\n")} ${stderr}`)), 10_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        log.push(line);
        if (line.includes('"event":"listening"')) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited (${code}): ${log.join("\n")} ${stderr}`));
    });
  });
  return {
    origin: `http://${address}:${LAB_RELAY_PORT}`,
    log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** A Chromium running inside `home`, for which the relay's http:// origin counts as secure. */
export function launchInHome(lab: NatLab, home: string, origin: string): Promise<Browser> {
  return launchBrowser({ executablePath: lab.home(home).chromiumExecutable, extraArgs: [insecureOriginAsSecureFlag(origin)] });
}

/**
 * Opens the room as `username` (prefs after the secret, e.g. `camera_enabled=true`) in a new
 * context, or in `context` (e.g. one from candidateRecordingContext); resolves once in the room.
 */
export async function joinRoom(
  browser: Browser,
  origin: string,
  secret: string,
  username: string,
  prefs: Readonly<Record<string, string>> = {},
  context?: BrowserContext,
): Promise<Page> {
  const query = new URLSearchParams({ username, ...prefs }).toString();
  const page = await openPage(browser, `${origin}/room#${secret}?${query}`, context ? { context } : {});
  await page.getByRole("group", { name: `You (${username})` }).waitFor();
  // Capture asked for by the link waits for one press, as a person would give it.
  if (CAPTURE_PREFS.some((key) => prefs[key] === "true" || prefs[key] === "1")) await page.getByRole("button", { name: /^Join with / }).click();
  return page;
}

/** The tile of the participant called `name`. */
export function peerTile(page: Page, name: string): Locator {
  return page.getByRole("group", { name, exact: true });
}

/** Resolves with the size of the next frame the <video> in `scope` presents. */
export async function nextVideoFrame(scope: Locator, timeoutMs = 30_000): Promise<{ width: number; height: number }> {
  const video = scope.locator("video");
  await video.waitFor({ timeout: timeoutMs });
  return video.evaluate(
    (element, timeout) =>
      new Promise<{ width: number; height: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no video frame")), timeout);
        (element as HTMLVideoElement).requestVideoFrameCallback((_now, meta) => {
          clearTimeout(timer);
          resolve({ width: meta.width, height: meta.height });
        });
      }),
    timeoutMs,
  );
}

/** The tile's words for the connection path ("Direct connection · round trip 3 ms", …), once shown. */
export async function pathText(tile: Locator, timeoutMs = 15_000): Promise<string> {
  const line = tile.locator(".path");
  await line.waitFor({ timeout: timeoutMs });
  return (await line.textContent()) ?? "";
}

/** ICE candidates a page's peer connections produced (local) and were given (remote), as candidate lines. */
export interface RecordedCandidates {
  readonly local: readonly string[];
  readonly remote: readonly string[];
}

/**
 * A browser context whose pages record every ICE candidate that leaves or reaches their peer
 * connections: the local and remote descriptions' a=candidate lines and each trickled candidate.
 * The wire carries them sealed, so the browser's side of the seal is the place to look. Read
 * them with recordedCandidates(page).
 */
export async function candidateRecordingContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    const recorded = { local: [] as string[], remote: [] as string[] };
    (window as unknown as { __labCandidates: typeof recorded }).__labCandidates = recorded;
    const fromSdp = (sdp: string | undefined, into: string[]): void => {
      for (const line of (sdp ?? "").split(/\r?\n/)) if (line.startsWith("a=candidate:")) into.push(line.slice(2));
    };
    const Native = window.RTCPeerConnection;
    class Recording extends Native {
      constructor(configuration?: RTCConfiguration) {
        super(configuration);
        this.addEventListener("icecandidate", (event) => {
          if (event.candidate?.candidate) recorded.local.push(event.candidate.candidate);
        });
      }
      override async setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void> {
        await super.setLocalDescription(description);
        fromSdp(this.localDescription?.sdp, recorded.local);
      }
      override async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
        fromSdp(description.sdp, recorded.remote);
        await super.setRemoteDescription(description);
      }
      override async addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
        if (candidate?.candidate) recorded.remote.push(candidate.candidate);
        await super.addIceCandidate(candidate ?? undefined);
      }
    }
    window.RTCPeerConnection = Recording;
  });
  return context;
}

/** What a page opened in a candidateRecordingContext recorded so far. */
export function recordedCandidates(page: Page): Promise<RecordedCandidates> {
  return page.evaluate(() => {
    const recorded = (window as unknown as { __labCandidates?: RecordedCandidates }).__labCandidates;
    if (!recorded) throw new Error("this page was not opened in a candidateRecordingContext");
    return { local: [...recorded.local], remote: [...recorded.remote] };
  });
}
