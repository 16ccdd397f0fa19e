// Small still previews of a video stream: every `rate` seconds the current frame,
// letterboxed into a `resolution`² square, as a `data:image/webp;base64,…` URL. Who receives them
// is the caller's business; this module knows nothing of peers.
//
// Unlike keks-meet, previews end with their stream: the returned stop function, or
// the video track ending, clears the timer and releases the video element.

export interface PreviewOptions {
  /** Edge of the square image in pixels (`preview_resolution`). */
  readonly resolution: number;
  /** Seconds between previews (`preview_rate`). */
  readonly rate: number;
  /** Encoder quality in percent, 10–100 (`preview_encoding_quality`). */
  readonly quality: number;
}

/** The frame sits centred on this; the receiver shows it as bars around a non-square picture. */
const LETTERBOX_COLOUR = "#000";

/**
 * Starts sending previews of `stream`'s video through `send`; the first one as soon as the video
 * has a frame. Returns a stop function (idempotent). A stream without a live video track sends
 * nothing. Throws RangeError on options no preference could produce (a caller bug).
 */
export function startPreviews(stream: MediaStream, options: PreviewOptions, send: (dataUrl: string) => void): () => void {
  const { resolution, rate, quality } = options;
  if (!(Number.isInteger(resolution) && resolution > 0)) throw new RangeError(`preview resolution ${resolution}`);
  if (!(Number.isFinite(rate) && rate > 0)) throw new RangeError(`preview rate ${rate}`);
  if (!(Number.isFinite(quality) && quality > 0 && quality <= 100)) throw new RangeError(`preview quality ${quality}`);

  const tracks = stream.getVideoTracks().filter((track) => track.readyState === "live");
  if (tracks.length === 0) return () => undefined;

  // A detached, muted element: it decodes frames for drawImage without ever being shown or heard.
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream(tracks);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = resolution;

  let stopped = false;
  let timer: ReturnType<typeof setInterval> | undefined;

  const capture = (): void => {
    const dataUrl = encodeFrame(video, canvas, quality / 100);
    if (dataUrl !== undefined) send(dataUrl);
  };
  const onFirstFrame = (): void => {
    if (stopped || timer !== undefined) return;
    capture();
    timer = setInterval(capture, rate * 1000);
  };
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    video.removeEventListener("loadeddata", onFirstFrame);
    for (const track of tracks) track.removeEventListener("ended", stop);
    video.pause();
    video.srcObject = null;
    // Drops the canvas's backing store now rather than whenever the closure is collected.
    canvas.width = canvas.height = 0;
  };

  // `loadeddata`: the first frame is decoded, so the first preview is a picture, not black.
  video.addEventListener("loadeddata", onFirstFrame);
  for (const track of tracks) track.addEventListener("ended", stop);
  video.play().catch(() => {
    // A muted element may always autoplay, so a rejection means we stopped first (which aborts
    // play()) or the stream is unusable. Either way there is nothing to preview: stop cleanly.
    stop();
  });
  return stop;
}

/** Draws the current frame letterboxed into the square canvas and encodes it; undefined without a frame. */
function encodeFrame(video: HTMLVideoElement, canvas: HTMLCanvasElement, quality: number): string | undefined {
  const { videoWidth: width, videoHeight: height } = video;
  const context = canvas.getContext("2d");
  if (!context || width === 0 || height === 0 || video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) return undefined;
  const size = canvas.width;
  const scale = Math.min(size / width, size / height);
  const drawWidth = Math.round(width * scale);
  const drawHeight = Math.round(height * scale);
  context.fillStyle = LETTERBOX_COLOUR;
  context.fillRect(0, 0, size, size);
  context.drawImage(video, Math.floor((size - drawWidth) / 2), Math.floor((size - drawHeight) / 2), drawWidth, drawHeight);
  // toDataURL answers PNG when it cannot encode the asked type; PNG previews would be ~10× larger.
  const webp = canvas.toDataURL("image/webp", quality);
  if (webp.startsWith("data:image/webp;")) return webp;
  const jpeg = canvas.toDataURL("image/jpeg", quality);
  return jpeg.startsWith("data:image/jpeg;") ? jpeg : undefined;
}
