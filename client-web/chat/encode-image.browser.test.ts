/// <reference types="mocha" />
import { expect } from "@open-wc/testing";
import { base64ToBytes } from "../../common/crypto/encoding.js";
import { isSafeImageDataUrl } from "../../common/engine/safe-image.js";
import { DEFAULT_MAX_DATA_URL_BYTES, MAX_INPUT_BYTES, describeImageEncodeError, encodeChatImage } from "./encode-image.js";

/** Incompressible pixels (xorshift32, opaque): the worst case for any encoder. */
async function noisePng(width: number, height: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d");
  if (!context) throw new Error("no 2D context");
  const image = context.createImageData(width, height);
  const pixels = new Uint32Array(image.data.buffer);
  let state = 0x9e3779b9;
  for (let i = 0; i < pixels.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    pixels[i] = (state | 0xff000000) >>> 0;
  }
  context.putImageData(image, 0, 0);
  return canvas.convertToBlob({ type: "image/png" });
}

async function solidPng(width: number, height: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d");
  if (!context) throw new Error("no 2D context");
  context.fillStyle = "#c03";
  context.fillRect(0, 0, width, height);
  return canvas.convertToBlob({ type: "image/png" });
}

async function dimensionsOf(dataUrl: string): Promise<{ width: number; height: number }> {
  const bytes = base64ToBytes(dataUrl.slice(dataUrl.indexOf(",") + 1));
  if (!bytes) throw new Error("not base64");
  const bitmap = await createImageBitmap(new Blob([bytes]));
  const size = { width: bitmap.width, height: bitmap.height };
  bitmap.close();
  return size;
}

describe("encodeChatImage", () => {
  it("shrinks a 4000×3000 noise PNG to a safe WebP data URL within the byte and size limits", async function () {
    this.timeout(90_000);
    const png = await noisePng(4000, 3000);
    expect(png.size).to.be.greaterThan(DEFAULT_MAX_DATA_URL_BYTES * 10);
    const result = await encodeChatImage(png);
    if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.error)}`);
    expect(result.value.length).to.be.at.most(DEFAULT_MAX_DATA_URL_BYTES);
    expect(result.value.startsWith("data:image/webp;base64,")).to.equal(true);
    expect(isSafeImageDataUrl(result.value)).to.equal(true);
    const { width, height } = await dimensionsOf(result.value);
    expect(Math.max(width, height)).to.be.at.most(1600);
    // The aspect ratio survives (4:3, give or take rounding).
    expect(width / height).to.be.closeTo(4 / 3, 0.02);
  });

  it("honours smaller maxBytes and maxDimension by lowering quality and then size", async function () {
    this.timeout(30_000);
    const result = await encodeChatImage(await noisePng(1200, 600), { maxDimension: 800, maxBytes: 40_000 });
    if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.error)}`);
    expect(result.value.length).to.be.at.most(40_000);
    expect(isSafeImageDataUrl(result.value)).to.equal(true);
    const { width, height } = await dimensionsOf(result.value);
    expect(width).to.be.at.most(800);
    expect(width / height).to.be.closeTo(2, 0.05);
  });

  it("keeps a tiny image tiny and never upscales it", async () => {
    const result = await encodeChatImage(await solidPng(8, 6));
    if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.error)}`);
    expect(isSafeImageDataUrl(result.value)).to.equal(true);
    expect(result.value.length).to.be.below(1_000);
    expect(await dimensionsOf(result.value)).to.deep.equal({ width: 8, height: 6 });
  });

  it("accepts a GIF (as a still image)", async () => {
    const gif = base64ToBytes("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==");
    if (!gif) throw new Error("fixture");
    const result = await encodeChatImage(new Blob([gif], { type: "image/gif" }));
    expect(result.ok && isSafeImageDataUrl(result.value)).to.equal(true);
  });

  it("refuses a text file by its type, without decoding", async () => {
    const result = await encodeChatImage(new File(["<img src=x onerror=alert(1)>"], "note.txt", { type: "text/plain" }));
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.error).to.include({ kind: "not-an-image", mimeType: "text/plain" });
  });

  it("refuses untyped bytes the decoder cannot read", async () => {
    const result = await encodeChatImage(new Blob(["just some text"]));
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.error).to.include({ kind: "not-an-image", mimeType: "" });
  });

  it("refuses inputs over the size cap before decoding them", async () => {
    const huge = new Blob([new Uint8Array(MAX_INPUT_BYTES + 1)], { type: "image/png" });
    const result = await encodeChatImage(huge);
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.error).to.deep.equal({ kind: "input-too-large", bytes: MAX_INPUT_BYTES + 1, limitBytes: MAX_INPUT_BYTES });
  });

  it("reports when nothing fits the budget", async () => {
    const result = await encodeChatImage(await noisePng(200, 200), { maxBytes: 60 });
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.error).to.deep.equal({ kind: "cannot-fit", limitBytes: 60 });
  });

  it("words every error for the user", () => {
    expect(describeImageEncodeError({ kind: "input-too-large", bytes: 80 * 1024 * 1024, limitBytes: MAX_INPUT_BYTES })).to.equal(
      "the file is 80 MiB; images up to 50 MiB can be sent",
    );
    for (const error of [
      { kind: "not-an-image", mimeType: "text/plain", detail: "x" },
      { kind: "cannot-fit", limitBytes: 1 },
      { kind: "encode-failed", detail: "x" },
    ] as const) {
      expect(describeImageEncodeError(error)).to.match(/^[a-z].+[a-z]$/);
    }
  });
});
