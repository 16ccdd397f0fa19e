/// <reference types="mocha" />
import { expect, fixture, html, oneEvent } from "@open-wc/testing";
import type { MmStreamView, VideoFirstFrameEvent } from "./mm-stream-view.js";
import "./mm-stream-view.js";

/** A video stream drawn on a canvas, a new frame every 30 ms. */
function canvasStream(): { stream: MediaStream; stop: () => void } {
  const canvas = document.createElement("canvas");
  canvas.width = 64;
  canvas.height = 48;
  const context = canvas.getContext("2d");
  let hue = 0;
  const timer = setInterval(() => {
    if (!context) return;
    context.fillStyle = `hsl(${(hue += 40)} 80% 50%)`;
    context.fillRect(0, 0, 64, 48);
  }, 30);
  const stream = canvas.captureStream(30);
  return { stream, stop: () => (clearInterval(timer), stream.getTracks().forEach((track) => track.stop())) };
}

describe("mm-stream-view", () => {
  it("tells, once per stream and across shadow roots, when its first frame was on screen", async () => {
    const source = canvasStream();
    try {
      const host = await fixture<HTMLDivElement>(html`<div></div>`);
      const shadow = host.attachShadow({ mode: "open" });
      const view = document.createElement("mm-stream-view") as MmStreamView;
      const seen: number[] = [];
      host.addEventListener("video-first-frame", (e) => seen.push((e as VideoFirstFrameEvent).presentedAt));
      const before = performance.now();
      const first = oneEvent(host, "video-first-frame");
      view.stream = source.stream;
      view.muted = true;
      shadow.append(view);
      const event = (await first) as unknown as VideoFirstFrameEvent;
      expect(event.presentedAt).to.be.greaterThan(before);
      expect(event.presentedAt).to.be.at.most(performance.now());
      await new Promise((resolve) => setTimeout(resolve, 300)); // more frames: still one event
      expect(seen).to.have.length(1);
    } finally {
      source.stop();
    }
  });
});
