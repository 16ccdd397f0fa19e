// Chat images from peers are checked before the page shows them. The data URL must be an inline
// raster image (common/engine/safe-image.ts), and its header must name a size the tab can afford
// to decode. A small PNG can claim 30 000 × 30 000 pixels; an <img> would try to decode it to
// 3.6 GB and take the tab down. The size comes from the file's header, read by the `image-size`
// package without decoding a pixel.

import { imageSize } from "image-size";
import { base64ToBytes } from "../../common/crypto/encoding.js";
import { isSafeImageDataUrl } from "../../common/engine/safe-image.js";

/**
 * The most pixels we decode for a chat image. A 50-megapixel phone photo (what a keks-meet
 * user may send unscaled, about 200 MB once decoded) still shows; anything larger is refused.
 * Our own client scales images to at most 1600 × 1600 before sending.
 */
export const MAX_CHAT_IMAGE_PIXELS = 50_000_000;

export type ImageCheck = { readonly ok: true; readonly width: number; readonly height: number } | { readonly ok: false; readonly reason: string };

export function checkChatImage(dataUrl: string): ImageCheck {
  if (!isSafeImageDataUrl(dataUrl)) return { ok: false, reason: "not an inline image" };
  const bytes = base64ToBytes(dataUrl.slice(dataUrl.indexOf(",") + 1));
  if (!bytes) return { ok: false, reason: "not valid base64" };
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = imageSize(bytes));
  } catch {
    // No header image-size knows: nothing we could size safely, so nothing we decode.
    return { ok: false, reason: "not a picture this page can read" };
  }
  if (!width || !height) return { ok: false, reason: "no size in the picture's header" };
  if (width * height > MAX_CHAT_IMAGE_PIXELS) {
    return { ok: false, reason: `${width.toLocaleString("en-US")} × ${height.toLocaleString("en-US")} pixels is too large to show` };
  }
  return { ok: true, width, height };
}
