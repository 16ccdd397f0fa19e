// Turns an image the user picked, pasted or dropped into a chat-sized `data:` URL: decoded,
// downscaled, re-encoded (WebP, JPEG where the browser cannot write WebP) until it fits. keks-meet
// sends the raw clipboard PNG, which for a screenshot can exceed what one sealed relay
// message carries; re-encoding also drops metadata such as EXIF location. Owns no UI.

import { bytesToBase64 } from "../../common/crypto/encoding.js";
import { err, ok, type Result } from "../../common/result.js";

/** Longest side of a chat image by default: readable screenshots, modest size. */
export const DEFAULT_MAX_DIMENSION = 1600;
/**
 * Default budget for the data URL text. A chat message is sealed as base64 of its JSON (×4/3,
 * plus framing), and the relay's frame limit is 8 MiB; 1 MiB leaves ample room and keeps every
 * peer's memory and rendering cost small.
 */
export const DEFAULT_MAX_DATA_URL_BYTES = 1024 * 1024;
/**
 * Refused before decoding: decoding allocates width × height × 4 bytes, far more than the file,
 * and happens on the page's thread. The largest camera photos and 8K screenshots stay well below
 * this; anything bigger is not something to drop into a chat.
 */
export const MAX_INPUT_BYTES = 50 * 1024 * 1024;
/** Below this longest side a picture is no longer worth sending; give up instead. */
const MIN_DIMENSION = 32;
/** Tried in turn at each size, best first. */
const QUALITIES = [0.82, 0.66, 0.5, 0.36] as const;
/** Bounds the work for pathological inputs (each attempt is one encode). */
const MAX_ATTEMPTS = 24;

export type ImageEncodeError =
  /** The file is larger than MAX_INPUT_BYTES; nothing was decoded. */
  | { readonly kind: "input-too-large"; readonly bytes: number; readonly limitBytes: number }
  /** Not an image we can decode (wrong type, damaged, or a format the browser does not know). */
  | { readonly kind: "not-an-image"; readonly mimeType: string; readonly detail: string }
  /** Even the smallest size and quality we try is larger than the budget. */
  | { readonly kind: "cannot-fit"; readonly limitBytes: number }
  /** The browser could not encode (e.g. out of memory for the canvas). */
  | { readonly kind: "encode-failed"; readonly detail: string };

/** A sentence for the user (the app prefixes it, e.g. "Could not send the image: …"). */
export function describeImageEncodeError(error: ImageEncodeError): string {
  switch (error.kind) {
    case "input-too-large":
      return `the file is ${toMiB(error.bytes)} MiB; images up to ${toMiB(error.limitBytes)} MiB can be sent`;
    case "not-an-image":
      return "the file is not an image this browser can read";
    case "cannot-fit":
      return "it could not be made small enough to send";
    case "encode-failed":
      return "the browser could not convert it";
  }
}

function toMiB(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0);
}

export interface EncodeChatImageOptions {
  /** Longest side in pixels after downscaling (never upscaled). Default 1600. */
  readonly maxDimension?: number;
  /** Maximum length of the returned data URL, in bytes (= characters). Default 1 MiB. */
  readonly maxBytes?: number;
}

type OutputType = "image/webp" | "image/jpeg";

/**
 * Decodes `blob` and re-encodes it as a `data:image/webp;base64,…` (or `image/jpeg`) URL no longer
 * than `maxBytes`, with neither side over `maxDimension`. Animated images (GIF, animated WebP)
 * become a still of their first frame: a chat line holds a picture, not a player. Transparent
 * areas stay transparent in WebP and become white in the JPEG fallback, which has no alpha.
 */
export async function encodeChatImage(blob: Blob, options: EncodeChatImageOptions = {}): Promise<Result<string, ImageEncodeError>> {
  const maxDimension = options.maxDimension ?? DEFAULT_MAX_DIMENSION;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DATA_URL_BYTES;
  if (!Number.isInteger(maxDimension) || maxDimension < 1) throw new RangeError(`encodeChatImage: bad maxDimension ${maxDimension}`);
  if (!Number.isFinite(maxBytes) || maxBytes < 1) throw new RangeError(`encodeChatImage: bad maxBytes ${maxBytes}`);

  if (blob.size > MAX_INPUT_BYTES) return err({ kind: "input-too-large", bytes: blob.size, limitBytes: MAX_INPUT_BYTES });
  // An empty type is common for pasted or dragged data; the decoder decides then.
  if (blob.type !== "" && !blob.type.startsWith("image/")) {
    return err({ kind: "not-an-image", mimeType: blob.type, detail: "the file type is not an image type" });
  }

  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: "from-image" });
  } catch (error) {
    // Recoverable by design: the decoder rejects non-images and damaged files with a DOMException.
    return err({ kind: "not-an-image", mimeType: blob.type, detail: describe(error) });
  }
  try {
    return await fitBitmap(bitmap, Math.min(maxDimension, Math.max(bitmap.width, bitmap.height)), maxBytes);
  } finally {
    bitmap.close();
  }
}

async function fitBitmap(bitmap: ImageBitmap, firstLongSide: number, maxBytes: number): Promise<Result<string, ImageEncodeError>> {
  let longSide = firstLongSide;
  let type: OutputType = "image/webp";
  let attempts = 0;
  while (attempts < MAX_ATTEMPTS) {
    const scale = longSide / Math.max(bitmap.width, bitmap.height);
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    let surface: Surface | undefined;
    let smallest = Infinity;
    try {
      surface = drawSurface(bitmap, width, height, type === "image/jpeg");
      for (const quality of QUALITIES) {
        if (attempts >= MAX_ATTEMPTS) break;
        attempts++;
        let encoded = await surface.encode(type, quality);
        if (type === "image/webp" && encoded.type !== "image/webp") {
          // The browser cannot write WebP (it fell back to PNG, e.g. Safari): use JPEG from now
          // on, redrawn over white because JPEG has no alpha.
          type = "image/jpeg";
          surface.release();
          surface = drawSurface(bitmap, width, height, true);
          encoded = await surface.encode(type, quality);
        }
        const size = dataUrlLength(type, encoded.size);
        if (size <= maxBytes) return ok(`data:${type};base64,${bytesToBase64(new Uint8Array(await encoded.arrayBuffer()))}`);
        smallest = Math.min(smallest, size);
      }
    } catch (error) {
      return err({ kind: "encode-failed", detail: describe(error) });
    } finally {
      surface?.release();
    }
    if (longSide <= MIN_DIMENSION) break;
    // Bytes grow roughly with area, so shrink the side by the square root of the overshoot,
    // a little more to avoid a near miss, and by at least 15% so the loop always progresses.
    const factor = Math.min(0.85, Math.max(0.25, Math.sqrt(maxBytes / smallest) * 0.9));
    longSide = Math.max(MIN_DIMENSION, Math.floor(longSide * factor));
  }
  return err({ kind: "cannot-fit", limitBytes: maxBytes });
}

function dataUrlLength(type: OutputType, bytes: number): number {
  return `data:${type};base64,`.length + 4 * Math.ceil(bytes / 3);
}

interface Surface {
  encode(type: OutputType, quality: number): Promise<Blob>;
  /** Frees the pixel buffer now instead of at garbage collection; large canvases are costly. */
  release(): void;
}

function drawSurface(bitmap: ImageBitmap, width: number, height: number, opaque: boolean): Surface {
  if (typeof OffscreenCanvas === "function") {
    const canvas = new OffscreenCanvas(width, height);
    paint(canvas.getContext("2d"), bitmap, width, height, opaque);
    return {
      encode: (type, quality) => canvas.convertToBlob({ type, quality }),
      release: () => {
        canvas.width = 0;
        canvas.height = 0;
      },
    };
  }
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  paint(canvas.getContext("2d"), bitmap, width, height, opaque);
  return {
    encode: (type, quality) =>
      new Promise((resolve, reject) =>
        canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("canvas.toBlob produced nothing"))), type, quality),
      ),
    release: () => {
      canvas.width = 0;
      canvas.height = 0;
    },
  };
}

function paint(
  context: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null,
  bitmap: ImageBitmap,
  width: number,
  height: number,
  opaque: boolean,
): void {
  if (!context) throw new Error("encodeChatImage: no 2D canvas context");
  if (opaque) {
    context.fillStyle = "#fff";
    context.fillRect(0, 0, width, height);
  }
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = "high";
  context.drawImage(bitmap, 0, 0, width, height);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
