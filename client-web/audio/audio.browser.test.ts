/// <reference types="mocha" />
// The audio pipeline's parts in a real Chromium with its fake microphone (a beep): the shared
// AudioContext's life, RNNoise loading and its failure, the microphone's mute / device release /
// reopen without a new track, and the speaking meter.
import { expect, waitUntil } from "@open-wc/testing";
import { AudioActivity } from "./audio-activity.js";
import { Microphone } from "./microphone.js";
import { RnnoiseLoadError, RnnoiseLoader, type RnnoiseUrls } from "./rnnoise.js";
import { SharedAudioContext } from "./shared-audio-context.js";

const PACKAGE = "/node_modules/@sapphi-red/web-noise-suppressor/dist/";
const GOOD_URLS: RnnoiseUrls = {
  wasm: `${PACKAGE}rnnoise.wasm`,
  simdWasm: `${PACKAGE}rnnoise_simd.wasm`,
  worklet: `${PACKAGE}rnnoise/workletProcessor.js`,
};
const MISSING_WASM: RnnoiseUrls = { ...GOOD_URLS, wasm: "/no-such/rnnoise.wasm", simdWasm: "/no-such/rnnoise_simd.wasm" };

const PREFS = { rnnoise: false, native_noise_suppression: false, echo_cancellation: false, auto_gain_control: false, microphone_gain: 1 };

describe("SharedAudioContext", () => {
  it("one context for every lease, closed after the last release, a new one after that", async () => {
    const audio = new SharedAudioContext();
    const a = audio.acquire();
    const b = audio.acquire();
    expect(a.context).to.equal(b.context);
    expect(a.context.sampleRate).to.equal(48_000);
    a.release();
    a.release(); // twice counts once
    expect(b.context.state).to.not.equal("closed");
    b.release();
    await waitUntil(() => b.context.state === "closed");
    const c = audio.acquire();
    expect(c.context).to.not.equal(a.context);
    c.release();
  });

  it("adds a worklet module once per context", async () => {
    const audio = new SharedAudioContext();
    const lease = audio.acquire();
    let calls = 0;
    const original = lease.context.audioWorklet.addModule.bind(lease.context.audioWorklet);
    lease.context.audioWorklet.addModule = (url: string | URL) => {
      calls++;
      return original(url);
    };
    await Promise.all([audio.addModule(lease.context, GOOD_URLS.worklet), audio.addModule(lease.context, GOOD_URLS.worklet)]);
    await audio.addModule(lease.context, GOOD_URLS.worklet);
    expect(calls).to.equal(1);
    lease.release();
  });
});

describe("RnnoiseLoader", () => {
  it("makes a working node from the package's files", async () => {
    const audio = new SharedAudioContext();
    const lease = audio.acquire();
    const node = await new RnnoiseLoader(audio, GOOD_URLS).createNode(lease.context);
    expect(node).to.be.instanceOf(AudioWorkletNode);
    node.destroy();
    lease.release();
  });

  it("turns a missing WASM (an error page) into an error, every time, instead of a silent node", async () => {
    const audio = new SharedAudioContext();
    const lease = audio.acquire();
    const loader = new RnnoiseLoader(audio, MISSING_WASM);
    for (let attempt = 0; attempt < 2; attempt++) {
      let error: unknown;
      await loader.createNode(lease.context).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(RnnoiseLoadError);
    }
    lease.release();
  });
});

describe("Microphone", () => {
  it("mutes, closes the device after a while, reopens it on unmute: one shared track throughout", async () => {
    const audio = new SharedAudioContext();
    let lost = 0;
    const opened = await Microphone.open(PREFS, { audio, rnnoise: new RnnoiseLoader(audio, GOOD_URLS), releaseAfterMs: 100, onDeviceLost: () => lost++ });
    if (!opened.ok) throw new Error(opened.error.message);
    const microphone = opened.value;
    const [track] = microphone.stream.getAudioTracks();
    expect(track?.readyState).to.equal("live");
    expect(microphone.suppressing).to.equal(false);

    await microphone.setMuted(true);
    expect(microphone.muted).to.equal(true);
    expect(microphone.deviceOpen, "a short mute keeps the device").to.equal(true);
    await waitUntil(() => !microphone.deviceOpen, "device closed after releaseAfterMs", { timeout: 2000 });
    expect(track?.readyState, "the shared track outlives the device").to.equal("live");

    expect((await microphone.setMuted(false)).ok).to.equal(true);
    expect(microphone.deviceOpen).to.equal(true);
    expect(microphone.muted).to.equal(false);
    expect(microphone.stream.getAudioTracks()[0]).to.equal(track);
    expect(lost, "closing the device ourselves is not a lost device").to.equal(0);

    microphone.stop();
    expect(track?.readyState).to.equal("ended");
    await waitUntil(() => audio.current === undefined);
  });

  it("runs RNNoise when asked, and without it (saying why) when its WASM is missing", async () => {
    const audio = new SharedAudioContext();
    const withIt = await Microphone.open({ ...PREFS, rnnoise: true }, { audio, rnnoise: new RnnoiseLoader(audio, GOOD_URLS), onDeviceLost: () => {} });
    if (!withIt.ok) throw new Error(withIt.error.message);
    expect(withIt.value.suppressing).to.equal(true);
    expect(withIt.value.suppressionError).to.equal(undefined);
    await withIt.value.updatePrefs({ ...PREFS, rnnoise: false });
    expect(withIt.value.suppressing, "switched off live").to.equal(false);
    withIt.value.stop();

    const without = await Microphone.open({ ...PREFS, rnnoise: true }, { audio, rnnoise: new RnnoiseLoader(audio, MISSING_WASM), onDeviceLost: () => {} });
    if (!without.ok) throw new Error(without.error.message);
    expect(without.value.suppressing).to.equal(false);
    expect(without.value.suppressionError).to.match(/noise suppression/);
    expect(without.value.stream.getAudioTracks()[0]?.readyState).to.equal("live");
    without.value.stop();
  });
});

describe("Microphone with a noise suppressor that is slow to load", () => {
  it("starts without it instead of hanging, and puts it in when it arrives", async () => {
    const audio = new SharedAudioContext();
    const real = new RnnoiseLoader(audio, GOOD_URLS);
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = { createNode: (context: AudioContext) => gate.then(() => real.createNode(context)) };
    let changes = 0;
    const started = performance.now();
    const opened = await Microphone.open({ ...PREFS, rnnoise: true }, {
      audio,
      rnnoise: slow,
      suppressorWaitMs: 200,
      onDeviceLost: () => {},
      onSuppressionChange: () => changes++,
    });
    if (!opened.ok) throw new Error(opened.error.message);
    const microphone = opened.value;
    expect(performance.now() - started).to.be.below(2000);
    expect(microphone.suppressing).to.equal(false);
    expect(microphone.stream.getAudioTracks()[0]?.readyState).to.equal("live");
    release();
    await waitUntil(() => microphone.suppressing, "RNNoise joins once loaded", { timeout: 3000 });
    expect(changes).to.equal(1);
    expect(microphone.suppressionError).to.equal(undefined);
    microphone.stop();
  });
});

describe("AudioActivity", () => {
  it("marks a loud stream as speaking, not above a threshold it cannot reach, and lets go of the context", async () => {
    const device = await navigator.mediaDevices.getUserMedia({ audio: true });
    const audio = new SharedAudioContext();
    let threshold: number | undefined = 0.001;
    const changes: string[][] = [];
    const activity = new AudioActivity(audio, () => threshold, (speaking) => changes.push([...speaking]));
    activity.sync(new Map([["beep", device]]));
    await waitUntil(() => activity.current.has("beep"), "the fake microphone's beep counts as speaking", { timeout: 3000 });

    threshold = 1; // full scale: nothing real gets there
    await waitUntil(() => !activity.current.has("beep"), "quiet again after the hold time", { timeout: 3000 });

    threshold = undefined; // the pref unset switches the meters off
    activity.sync(new Map([["beep", device]]));
    expect(audio.current, "no meter, no context").to.equal(undefined);
    expect(changes.at(-1)).to.deep.equal([]);
    for (const track of device.getTracks()) track.stop();
  });
});
