/// <reference types="mocha" />
import { aTimeout, expect, waitUntil } from "@open-wc/testing";
import { MAX_PREVIEW_CHARS } from "../../common/engine/room.js";
import { isSafeImageDataUrl } from "../../common/engine/safe-image.js";
import { stopMedia } from "./capture.js";
import { startPreviews } from "./preview-sender.js";

/** Chromium's fake camera: 640×480 unless asked otherwise. */
async function fakeCamera(): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
}

async function decode(dataUrl: string): Promise<HTMLImageElement> {
  const image = new Image();
  image.src = dataUrl;
  await image.decode();
  return image;
}

function pixel(image: HTMLImageElement, x: number, y: number): [number, number, number] {
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d");
  if (!context) throw new Error("no 2d context");
  context.drawImage(image, 0, 0);
  const [r = 0, g = 0, b = 0] = context.getImageData(x, y, 1, 1).data;
  return [r, g, b];
}

describe("startPreviews", () => {
  let stream: MediaStream;
  beforeEach(async () => {
    stream = await fakeCamera();
  });
  afterEach(() => stopMedia(stream));

  it("sends safe WebP data URLs of a plausible size, the first soon after start", async () => {
    const sent: string[] = [];
    const started = performance.now();
    const stop = startPreviews(stream, { resolution: 128, rate: 60, quality: 80 }, (url) => sent.push(url));
    await waitUntil(() => sent.length > 0, "no preview", { timeout: 3000 });
    stop();
    expect(performance.now() - started, "the first preview does not wait for the rate").to.be.below(3000);
    const [url = ""] = sent;
    expect(url.startsWith("data:image/webp;base64,")).to.equal(true);
    expect(isSafeImageDataUrl(url)).to.equal(true);
    expect(url.length).to.be.within(200, MAX_PREVIEW_CHARS);
  });

  it("repeats every `rate` seconds and stops sending once stopped", async function () {
    this.timeout(8000);
    const sent: string[] = [];
    const stop = startPreviews(stream, { resolution: 64, rate: 1, quality: 50 }, (url) => sent.push(url));
    await waitUntil(() => sent.length >= 2, "fewer than two previews", { timeout: 4000 });
    stop();
    stop();
    const count = sent.length;
    await aTimeout(1500);
    expect(sent.length).to.equal(count);
  });

  it("letterboxes a 4:3 frame into the square instead of stretching it", async () => {
    const sent: string[] = [];
    const stop = startPreviews(stream, { resolution: 256, rate: 60, quality: 100 }, (url) => sent.push(url));
    await waitUntil(() => sent.length > 0, "no preview", { timeout: 3000 });
    stop();
    const image = await decode(sent[0] ?? "");
    expect([image.naturalWidth, image.naturalHeight]).to.deep.equal([256, 256]);
    // 640×480 → 256×192, so 32 px bars above and below.
    const bar = pixel(image, 128, 8);
    expect(Math.max(...bar), `bar pixel ${bar.join(",")}`).to.be.below(24);
    const picture = pixel(image, 128, 128);
    expect(Math.max(...picture), `picture pixel ${picture.join(",")}`).to.be.above(24);
  });

  it("stops by itself when the video track ends", async function () {
    this.timeout(8000);
    const sent: string[] = [];
    startPreviews(stream, { resolution: 64, rate: 1, quality: 50 }, (url) => sent.push(url));
    await waitUntil(() => sent.length > 0, "no preview", { timeout: 3000 });
    stopMedia(stream);
    const count = sent.length;
    await aTimeout(1500);
    expect(sent.length).to.equal(count);
  });

  it("sends nothing for a stream without video", async () => {
    const sent: string[] = [];
    const stop = startPreviews(new MediaStream(), { resolution: 64, rate: 1, quality: 50 }, (url) => sent.push(url));
    await aTimeout(300);
    stop();
    expect(sent).to.deep.equal([]);
  });

  it("refuses options no preference could produce", () => {
    const send = (): void => undefined;
    expect(() => startPreviews(stream, { resolution: 0, rate: 1, quality: 50 }, send)).to.throw(RangeError);
    expect(() => startPreviews(stream, { resolution: 64, rate: 0, quality: 50 }, send)).to.throw(RangeError);
    expect(() => startPreviews(stream, { resolution: 64, rate: 1, quality: 101 }, send)).to.throw(RangeError);
  });
});
