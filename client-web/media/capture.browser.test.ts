/// <reference types="mocha" />
// Chromium's fake devices stand in for a camera, a microphone and a screen (flags in
// web-test-runner.config.mjs), so these are the real capture calls.
import { expect, waitUntil } from "@open-wc/testing";
import { defaultPrefs } from "../../common/prefs/schema.js";
import {
  cameraConstraints,
  captureCamera,
  captureError,
  captureRawMicrophone,
  captureScreen,
  microphoneConstraints,
  screenConstraints,
  stopMedia,
  watchEnded,
  type CapturedMedia,
} from "./capture.js";

describe("media capture", () => {
  const opened: MediaStream[] = [];
  afterEach(() => {
    for (const stream of opened.splice(0)) stopMedia(stream);
  });

  async function expectCaptured(promise: Promise<Awaited<ReturnType<typeof captureCamera>>>): Promise<CapturedMedia> {
    const result = await promise;
    if (!result.ok) throw new Error(`capture failed: ${result.error.code} ${result.error.message}`);
    opened.push(result.value.stream);
    return result.value;
  }

  async function expectRaw(promise: ReturnType<typeof captureRawMicrophone>): Promise<MediaStream> {
    const result = await promise;
    if (!result.ok) throw new Error(`capture failed: ${result.error.code} ${result.error.message}`);
    opened.push(result.value);
    return result.value;
  }

  describe("constraints", () => {
    it("sets no video constraint for unset optional prefs", () => {
      expect(cameraConstraints(defaultPrefs())).to.deep.equal({ video: {} });
      expect(screenConstraints(defaultPrefs())).to.deep.equal({ video: {}, audio: false });
    });

    it("sets ideal values for the prefs that are set", () => {
      const prefs = { ...defaultPrefs(), video_fps: 24, video_resolution: 1280, camera_facing_mode: "environment", screencast_audio: true };
      expect(cameraConstraints(prefs)).to.deep.equal({
        video: { frameRate: { ideal: 24 }, width: { ideal: 1280 }, facingMode: { ideal: "environment" } },
      });
      expect(screenConstraints(prefs)).to.deep.equal({ video: { frameRate: { ideal: 24 }, width: { ideal: 1280 } }, audio: true });
    });

    it("turns the browser's noise suppression off while RNNoise is on", () => {
      expect(microphoneConstraints(defaultPrefs())).to.deep.equal({
        audio: { channelCount: { ideal: 1 }, noiseSuppression: { ideal: false } },
      });
      const native = { ...defaultPrefs(), rnnoise: false, native_noise_suppression: true, echo_cancellation: false, auto_gain_control: true };
      expect(microphoneConstraints(native)).to.deep.equal({
        audio: {
          channelCount: { ideal: 1 },
          noiseSuppression: { ideal: true },
          echoCancellation: { ideal: false },
          autoGainControl: { ideal: true },
        },
      });
    });
  });

  it("maps DOMException names to codes and keeps the message", () => {
    expect(captureError(new DOMException("Permission denied", "NotAllowedError"))).to.deep.equal({
      code: "denied",
      message: "NotAllowedError: Permission denied",
    });
    expect(captureError(new DOMException("x", "NotFoundError")).code).to.equal("not_found");
    expect(captureError(new DOMException("x", "NotReadableError")).code).to.equal("in_use");
    expect(captureError(new DOMException("x", "AbortError")).code).to.equal("aborted");
    expect(captureError(new DOMException("x", "NotSupportedError")).code).to.equal("unsupported");
    expect(captureError(new DOMException("x", "SomethingNewError")).code).to.equal("failed");
    expect(captureError("weird").code).to.equal("failed");
  });

  it("captures the camera as a live video track whose stream id is the resource id", async () => {
    const { stream, info } = await expectCaptured(captureCamera(defaultPrefs()));
    const [track] = stream.getVideoTracks();
    expect(track?.readyState).to.equal("live");
    expect(info).to.deep.equal({ id: stream.id, kind: "track", trackKind: "video", label: "Camera" });
  });

  it("honours video_resolution as the ideal width", async () => {
    const { stream } = await expectCaptured(captureCamera({ ...defaultPrefs(), video_resolution: 320 }));
    const width = stream.getVideoTracks()[0]?.getSettings().width ?? 0;
    expect(width).to.be.within(300, 340);
  });

  it("captures the raw microphone as one audio track", async () => {
    const stream = await expectRaw(captureRawMicrophone(defaultPrefs()));
    expect(stream.getAudioTracks()).to.have.length(1);
    expect(stream.getVideoTracks()).to.have.length(0);
  });

  it("captures the screen", async () => {
    const { stream, info } = await expectCaptured(captureScreen(defaultPrefs()));
    expect(stream.getVideoTracks()[0]?.readyState).to.equal("live");
    expect(info).to.deep.equal({ id: stream.id, kind: "track", trackKind: "video", label: "Screen" });
  });

  it("stopMedia ends every track and may be called again", async () => {
    const camera = await expectCaptured(captureCamera(defaultPrefs()));
    const mic = await expectRaw(captureRawMicrophone(defaultPrefs()));
    const both = new MediaStream([...camera.stream.getTracks(), ...mic.getTracks()]);
    stopMedia(both);
    stopMedia(both);
    expect(both.getTracks().map((track) => track.readyState)).to.deep.equal(["ended", "ended"]);
  });

  it("watchEnded calls back once when every track has ended", async () => {
    const camera = await expectCaptured(captureCamera(defaultPrefs()));
    const mic = await expectRaw(captureRawMicrophone(defaultPrefs()));
    const [video] = camera.stream.getTracks();
    const [audio] = mic.getTracks();
    if (!video || !audio) throw new Error("no tracks");
    const both = new MediaStream([video, audio]);
    let calls = 0;
    watchEnded(both, () => calls++);
    stopMedia(new MediaStream([video]));
    await Promise.resolve();
    expect(calls, "one track still live").to.equal(0);
    stopMedia(new MediaStream([audio]));
    await waitUntil(() => calls > 0);
    stopMedia(both);
    await Promise.resolve();
    expect(calls).to.equal(1);
  });

  it("watchEnded sees an end the browser caused (an `ended` event on a live track)", async () => {
    const { stream } = await expectCaptured(captureScreen(defaultPrefs()));
    let calls = 0;
    watchEnded(stream, () => calls++);
    // What the "Stop sharing" bar does: the browser ends the track and fires `ended`.
    for (const track of stream.getTracks()) track.dispatchEvent(new Event("ended"));
    expect(calls).to.equal(1);
  });

  it("watchEnded stays silent after unsubscribing, and fires at once for an ended stream", async () => {
    const { stream } = await expectCaptured(captureCamera(defaultPrefs()));
    let calls = 0;
    const unsubscribe = watchEnded(stream, () => calls++);
    unsubscribe();
    stopMedia(stream);
    await Promise.resolve();
    expect(calls).to.equal(0);
    watchEnded(stream, () => calls++);
    await waitUntil(() => calls === 1);
  });
});
