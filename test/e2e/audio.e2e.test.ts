// The microphone pipeline end to end. Chromium's fake microphone plays a WAV this test makes with
// ffmpeg: in every 4 s, 2 s of white noise alone, then 2 s of a voice-like sound (a 140 Hz buzz
// with harmonics, opening and closing four times a second like syllables) over the same noise.
// Senders share it with different prefs; one listener measures what arrives, per sender, as the
// level over time: its quiet part (20th percentile) is the noise-only part, its loud part (90th)
// the voice.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomRoomSecret } from "../../common/prefs/fragment.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { closeAll, launchBrowser, openPage, pageErrors } from "../harness/browser.js";

const STATIC_ROOT = fileURLToPath(new URL("../../dist/public/", import.meta.url));

let relay: Relay;
let origin: string;
let browser: Browser;
let dir: string;

/** 8 s at 48 kHz mono, 16 bit; Chromium loops it. */
function makeNoisyVoice(file: string): void {
  const gate = "gt(mod(t,4),2)";
  const syllables = "(0.55+0.45*sin(2*PI*4*t))";
  const voice = "(sin(2*PI*140*t)+0.7*sin(2*PI*280*t)+0.5*sin(2*PI*420*t)+0.35*sin(2*PI*700*t)+0.25*sin(2*PI*1120*t))/2.8";
  const noise = "0.06*(2*random(0)-1)";
  // Commas inside a filter's option must be escaped from the filter graph's own syntax.
  const expression = `0.45*${gate}*${syllables}*${voice}+${noise}`.replaceAll(",", "\\,");
  execFileSync("ffmpeg", [
    "-hide_banner", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", `aevalsrc=exprs=${expression}:s=48000:d=8`,
    "-ac", "1", "-c:a", "pcm_s16le", file,
  ]);
}

beforeAll(async () => {
  if (!existsSync(`${STATIC_ROOT}room.html`)) throw new Error("dist/public is missing: run `make build` first");
  dir = await mkdtemp(path.join(os.tmpdir(), "meshmeet-audio-"));
  const wav = path.join(dir, "noisy-voice.wav");
  makeNoisyVoice(wav);
  relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: STATIC_ROOT });
  origin = `http://127.0.0.1:${(await relay.listen()).port}`;
  browser = await launchBrowser({ extraArgs: [`--use-file-for-fake-audio-capture=${wav}`] });
});

afterAll(async () => {
  await closeAll();
  await relay?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The browser's own processing off, so that only our pipeline differs between senders. */
const PLAIN = "echo_cancellation=false&auto_gain_control=false&native_noise_suppression=false";

async function join(secret: string, username: string, prefs: string): Promise<Page> {
  const page = await openPage(browser, `${origin}/room#${secret}?username=${username}&${PLAIN}${prefs ? `&${prefs}` : ""}`);
  await page.getByRole("group", { name: `You (${username})` }).waitFor();
  return page;
}

async function shareMicrophone(page: Page): Promise<void> {
  await page.getByRole("toolbar", { name: "Meeting controls" }).getByRole("button", { name: "Microphone", exact: true }).click();
  await page.getByText(/^Microphone (on|on, noise suppressed)$/).waitFor();
}

interface Levels {
  /** dBFS of the quiet part (noise alone). */
  readonly quiet: number;
  /** dBFS of the loud part (voice over noise). */
  readonly loud: number;
}

/** Levels of `from`'s microphone as `listener` receives it, over two cycles of the test sound. */
async function levelsAt(listener: Page, from: string, ms = 8_000): Promise<Levels> {
  await listener.getByRole("group", { name: from, exact: true }).locator("audio").waitFor({ state: "attached" });
  const db = await listener.evaluate(
    async ({ from, ms }) => {
      const { room } = (window as unknown as { meshmeet: { room: import("../../common/engine/room.js").Room } }).meshmeet;
      const peer = room.peerViews().find((p) => p.name === from);
      const stream = [...(peer?.resources.values() ?? [])].find((r) => r.info.kind === "track" && r.info.trackKind === "audio")?.stream;
      if (!stream) throw new Error(`no audio from ${from}`);
      const context = new AudioContext();
      const analyser = context.createAnalyser();
      analyser.fftSize = 2048;
      context.createMediaStreamSource(stream).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      const levels: number[] = [];
      const started = performance.now();
      while (performance.now() - started < ms) {
        await new Promise((resolve) => setTimeout(resolve, 40));
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const s of samples) sum += s * s;
        levels.push(10 * Math.log10(sum / samples.length + 1e-12));
      }
      await context.close();
      return levels;
    },
    { from, ms },
  );
  const sorted = [...db].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.floor(q * (sorted.length - 1))] ?? -120;
  return { quiet: at(0.2), loud: at(0.9) };
}

describe("microphone audio", () => {
  it("RNNoise takes the noise down by at least 20 dB and keeps the voice; gain, mute and push-to-talk act on what arrives", async () => {
    const secret = randomRoomSecret();
    const listener = await join(secret, "lee", "");
    const plain = await join(secret, "plain", "rnnoise=false");
    const clean = await join(secret, "clean", "rnnoise=true");
    await shareMicrophone(plain);
    await shareMicrophone(clean);
    await clean.getByText("Microphone on, noise suppressed").waitFor();

    const [off, on] = await Promise.all([levelsAt(listener, "plain"), levelsAt(listener, "clean")]);
    console.log(`audio: RNNoise off quiet ${off.quiet.toFixed(1)} dB loud ${off.loud.toFixed(1)} dB; on quiet ${on.quiet.toFixed(1)} dB loud ${on.loud.toFixed(1)} dB`);
    expect(off.loud - off.quiet, "the test sound has a voice part above its noise").toBeGreaterThan(6);
    expect(off.quiet - on.quiet, "noise-only part, RNNoise off minus on").toBeGreaterThanOrEqual(20);
    expect(on.loud - on.quiet, "the voice stands out of what is left").toBeGreaterThanOrEqual(20);
    expect(on.loud, "the voice stays audible").toBeGreaterThan(-40);

    // Gain 0.25 is -12 dB, live, without renegotiation.
    await plain.evaluate(() => (window as unknown as { change_pref: (k: string, v: unknown) => void }).change_pref("microphone_gain", 0.25));
    const quieter = await levelsAt(listener, "plain", 4_000);
    expect(off.loud - quieter.loud).toBeGreaterThan(8);
    expect(off.loud - quieter.loud).toBeLessThan(16);

    // Mute by the keybind: silence arrives; the tile says so.
    await plain.keyboard.press("Shift+U");
    await plain.getByText("Microphone muted", { exact: true }).waitFor();
    const muted = await levelsAt(listener, "plain", 2_000);
    expect(muted.loud).toBeLessThan(-80);
    // Push-to-talk: sound only while Shift+Space is held.
    await plain.keyboard.down("Shift");
    await plain.keyboard.down("Space");
    await plain.getByText("Microphone on", { exact: true }).waitFor();
    const held = await levelsAt(listener, "plain", 2_000);
    await plain.keyboard.up("Space");
    await plain.keyboard.up("Shift");
    await plain.getByText("Microphone muted", { exact: true }).waitFor();
    expect(held.loud).toBeGreaterThan(muted.loud + 40);
    expect((await levelsAt(listener, "plain", 1_500)).loud).toBeLessThan(-80);
    await plain.keyboard.press("Shift+U");
    await plain.getByText("Microphone on", { exact: true }).waitFor();
    expect((await levelsAt(listener, "plain", 2_000)).loud).toBeGreaterThan(muted.loud + 40);

    for (const page of [listener, plain, clean]) expect(pageErrors(page)).toEqual([]);
    // The build put the files where the loader looks, and the relay labels them right.
    for (const [file, type] of [["rnnoise.wasm", "application/wasm"], ["rnnoise_simd.wasm", "application/wasm"], ["worklet.js", "text/javascript"]]) {
      const response = await listener.request.get(`${origin}/assets/rnnoise/${file}`);
      expect(response.status(), file).toBe(200);
      expect(response.headers()["content-type"], file).toContain(type);
    }
  });

  it("shows who is speaking on the tiles, on both sides, as state rather than announcements", async () => {
    const secret = randomRoomSecret();
    const listener = await join(secret, "lee", "");
    const talker = await join(secret, "tia", "rnnoise=false");
    await shareMicrophone(talker);
    const remote = listener.getByRole("group", { name: "tia", exact: true });
    await remote.getByText("Speaking", { exact: true }).waitFor();
    await talker.getByRole("group", { name: "You (tia)" }).getByText("Speaking", { exact: true }).waitFor();
    const announced = await listener.locator("mm-announcer").evaluate((el) => el.shadowRoot?.textContent ?? "");
    expect(announced).not.toContain("peaking");
    // Muted, we say nothing: our own indicator goes off.
    await talker.keyboard.press("Shift+U");
    await talker.getByRole("group", { name: "You (tia)" }).getByText("Speaking", { exact: true }).waitFor({ state: "detached" });
  });

  it("without the WASM (404) the microphone still reaches the others, unprocessed, and the user is told", async () => {
    const secret = randomRoomSecret();
    const listener = await join(secret, "lee", "");
    const sender = await openPage(browser, `${origin}/room#${secret}?username=sam&${PLAIN}`, { ignoreConsole: [/404/] });
    await sender.getByRole("group", { name: "You (sam)" }).waitFor();
    await sender.route("**/rnnoise/*.wasm", (route) => route.fulfill({ status: 404, contentType: "text/plain", body: "not here" }));
    await sender.getByRole("toolbar", { name: "Meeting controls" }).getByRole("button", { name: "Microphone", exact: true }).click();
    await sender.getByText("Microphone on", { exact: true }).waitFor();
    await sender.getByText("Noise suppression could not start, so your microphone is sent without it.").waitFor({ state: "attached" });
    const levels = await levelsAt(listener, "sam", 4_000);
    expect(levels.loud).toBeGreaterThan(-40);
  });
});
