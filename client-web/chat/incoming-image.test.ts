import { describe, expect, it } from "vitest";
import { checkChatImage, MAX_CHAT_IMAGE_PIXELS } from "./incoming-image.js";

/** A PNG signature and IHDR claiming `width` × `height`: all a header reader sees. */
function pngClaiming(width: number, height: number): string {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(bytes);
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  return `data:image/png;base64,${bytes.toString("base64")}`;
}

describe("checkChatImage", () => {
  it("passes a picture of a size the page can decode, with its size", () => {
    expect(checkChatImage(pngClaiming(1600, 1200))).toEqual({ ok: true, width: 1600, height: 1200 });
    expect(checkChatImage(pngClaiming(8000, 6000))).toMatchObject({ ok: true }); // 48 MP, a phone photo
  });

  it("refuses, by its header alone, a picture past the pixel limit", () => {
    expect(30_000 * 30_000).toBeGreaterThan(MAX_CHAT_IMAGE_PIXELS);
    expect(checkChatImage(pngClaiming(30_000, 30_000))).toEqual({ ok: false, reason: "30,000 × 30,000 pixels is too large to show" });
  });

  it("refuses what is not an inline picture with a readable header", () => {
    expect(checkChatImage("https://tracker.invalid/x.png")).toMatchObject({ ok: false, reason: "not an inline image" });
    expect(checkChatImage("data:image/png;base64,AAAA")).toMatchObject({ ok: false, reason: "not a picture this page can read" });
    expect(checkChatImage("data:image/png;base64,A")).toMatchObject({ ok: false });
  });
});
