// Capturing camera, microphone and screen with keks-meet's constraints, and releasing them.
// Returns MediaStreams plus the `provide` info for them; knows nothing of peers or rooms
// (the layering rule: client-web may use common, never the reverse). Failures are results with a code the UI words, never thrown.

import { err, ok, type Result } from "../../common/result.js";
import type { PrefValues } from "../../common/prefs/schema.js";
import type { ProvideInfo } from "../../common/wire/packets.js";

export interface CapturedMedia {
  /** The stream to share; its id is the resource id (the SDP carries it). */
  readonly stream: MediaStream;
  readonly info: ProvideInfo;
}

export type CaptureErrorCode = "denied" | "not_found" | "in_use" | "unsupported" | "aborted" | "failed";

export interface CaptureError {
  readonly code: CaptureErrorCode;
  /** The browser's own message, for logs; not meant for users (the UI words the code). */
  readonly message: string;
}

export type CameraPrefs = Pick<PrefValues, "video_fps" | "video_resolution" | "camera_facing_mode">;
export type ScreenPrefs = Pick<PrefValues, "video_fps" | "video_resolution" | "screencast_audio">;
export type MicrophonePrefs = Pick<
  PrefValues,
  "rnnoise" | "native_noise_suppression" | "echo_cancellation" | "auto_gain_control" | "microphone_gain"
>;

// ---- constraints: only `ideal`, and only for prefs that are set --------------------

/** Optional prefs left unset add no constraint at all, so the browser keeps its own default. */
function videoConstraints(prefs: Pick<PrefValues, "video_fps" | "video_resolution">): MediaTrackConstraints {
  const video: MediaTrackConstraints = {};
  if (prefs.video_fps !== undefined) video.frameRate = { ideal: prefs.video_fps };
  if (prefs.video_resolution !== undefined) video.width = { ideal: prefs.video_resolution };
  return video;
}

export function cameraConstraints(prefs: CameraPrefs): MediaStreamConstraints {
  const video = videoConstraints(prefs);
  if (prefs.camera_facing_mode !== undefined) video.facingMode = { ideal: prefs.camera_facing_mode };
  return { video };
}

export function microphoneConstraints(prefs: MicrophonePrefs): MediaStreamConstraints {
  const audio: MediaTrackConstraints = { channelCount: { ideal: 1 } };
  // RNNoise does the suppressing when on; the browser's own pass would only degrade its input.
  const noiseSuppression = prefs.rnnoise === true ? false : prefs.native_noise_suppression;
  if (noiseSuppression !== undefined) audio.noiseSuppression = { ideal: noiseSuppression };
  if (prefs.echo_cancellation !== undefined) audio.echoCancellation = { ideal: prefs.echo_cancellation };
  if (prefs.auto_gain_control !== undefined) audio.autoGainControl = { ideal: prefs.auto_gain_control };
  return { audio };
}

export function screenConstraints(prefs: ScreenPrefs): DisplayMediaStreamOptions {
  return { video: videoConstraints(prefs), audio: prefs.screencast_audio === true };
}

// ---- errors ---------------------------------------------------------------------------------

/** getUserMedia/getDisplayMedia reject with DOMExceptions named by cause; older Chrome names too. */
const ERROR_CODES: Readonly<Record<string, CaptureErrorCode>> = {
  NotAllowedError: "denied",
  PermissionDeniedError: "denied",
  SecurityError: "denied",
  NotFoundError: "not_found",
  DevicesNotFoundError: "not_found",
  // Only `ideal` constraints are used, so this means no device at all rather than a bad setting.
  OverconstrainedError: "not_found",
  NotReadableError: "in_use",
  TrackStartError: "in_use",
  AbortError: "aborted",
  NotSupportedError: "unsupported",
  // What the browser throws when the constraints dictionary has no usable member for it.
  TypeError: "unsupported",
};

export function captureError(error: unknown): CaptureError {
  if (error instanceof Error) {
    return { code: ERROR_CODES[error.name] ?? "failed", message: `${error.name}: ${error.message}` };
  }
  return { code: "failed", message: String(error) };
}

function mediaDevices(method: "getUserMedia" | "getDisplayMedia"): Result<MediaDevices, CaptureError> {
  // Missing outside secure contexts (plain http) and in some embedded browsers.
  const devices = globalThis.navigator?.mediaDevices as MediaDevices | undefined;
  if (!devices || typeof devices[method] !== "function") {
    return err({ code: "unsupported", message: `navigator.mediaDevices.${method} is not available` });
  }
  return ok(devices);
}

async function getUserMedia(constraints: MediaStreamConstraints): Promise<Result<MediaStream, CaptureError>> {
  const devices = mediaDevices("getUserMedia");
  if (!devices.ok) return devices;
  try {
    return ok(await devices.value.getUserMedia(constraints));
  } catch (error) {
    return err(captureError(error));
  }
}

// ---- capture --------------------------------------------------------------------------------

export async function captureCamera(prefs: CameraPrefs): Promise<Result<CapturedMedia, CaptureError>> {
  const stream = await getUserMedia(cameraConstraints(prefs));
  if (!stream.ok) return stream;
  return ok(captured(stream.value, "Camera", "video"));
}

export async function captureScreen(prefs: ScreenPrefs): Promise<Result<CapturedMedia, CaptureError>> {
  const devices = mediaDevices("getDisplayMedia");
  if (!devices.ok) return devices;
  try {
    const stream = await devices.value.getDisplayMedia(screenConstraints(prefs));
    // "video" even when the screen also carries audio: that is what keks-meet announces.
    return ok(captured(stream, "Screen", "video"));
  } catch (error) {
    return err(captureError(error));
  }
}

/**
 * The microphone as the device gives it, with the constraints of the prefs. Not what peers get:
 * client-web/audio/microphone.ts puts it through the audio graph first.
 */
export async function captureRawMicrophone(prefs: MicrophonePrefs): Promise<Result<MediaStream, CaptureError>> {
  return getUserMedia(microphoneConstraints(prefs));
}

export function captured(stream: MediaStream, label: string, trackKind: "audio" | "video"): CapturedMedia {
  return { stream, info: { id: stream.id, kind: "track", trackKind, label } };
}

// ---- releasing ------------------------------------------------------------------------------

/**
 * Stops every track, so the browser's recording indicator goes off. Idempotent.
 *
 * `track.stop()` does not fire `ended` (the event is only for ends the page did not cause), so a
 * synthetic `ended` is dispatched on each track that was still live: whoever watches the stream
 * (`watchEnded`, the preview sender, meters) then sees one event whoever stopped it.
 */
export function stopMedia(stream: MediaStream): void {
  for (const track of stream.getTracks()) {
    if (track.readyState === "ended") continue;
    track.stop();
    track.dispatchEvent(new Event("ended"));
  }
}

/**
 * Calls `onEnded` once, when every track of `stream` has ended: the user clicked the browser's
 * "Stop sharing" bar, unplugged the camera, revoked permission, or `stopMedia` ran. If they have
 * all ended already, it is called on the next microtask. Returns an unsubscribe function.
 */
export function watchEnded(stream: MediaStream, onEnded: () => void): () => void {
  const tracks = stream.getTracks();
  // Tracks that said `ended`; a synthetic event on a still-live track counts as an end too.
  const ended = new Set<MediaStreamTrack>(tracks.filter((track) => track.readyState === "ended"));
  let done = false;
  const finish = (): void => {
    if (done) return;
    unsubscribe();
    onEnded();
  };
  const onTrackEnded = (event: Event): void => {
    if (event.target instanceof MediaStreamTrack) ended.add(event.target);
    if (tracks.every((track) => ended.has(track) || track.readyState === "ended")) finish();
  };
  const unsubscribe = (): void => {
    done = true;
    for (const track of tracks) track.removeEventListener("ended", onTrackEnded);
  };
  for (const track of tracks) track.addEventListener("ended", onTrackEnded);
  if (ended.size === tracks.length) queueMicrotask(finish);
  return unsubscribe;
}
