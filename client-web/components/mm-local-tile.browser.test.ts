/// <reference types="mocha" />
import { expect, fixture, html, oneEvent, waitUntil } from "@open-wc/testing";
import { emulateMedia } from "@web/test-runner-commands";
import type { LocalResource } from "../../common/engine/room.js";
import { LocalMuteEvent, LocalStopAllEvent, LocalStopEvent, type MmLocalTile } from "./mm-local-tile.js";
import "./mm-local-tile.js";

function shadow(el: MmLocalTile): ShadowRoot {
  if (!el.shadowRoot) throw new Error("no shadow root");
  return el.shadowRoot;
}

function buttonNames(el: MmLocalTile): string[] {
  return [...shadow(el).querySelectorAll("button")].map((b) => (b.textContent ?? "").replace(/\s+/g, " ").trim());
}

function button(el: MmLocalTile, name: string): HTMLButtonElement {
  const found = [...shadow(el).querySelectorAll("button")].find((b) => (b.textContent ?? "").replace(/\s+/g, " ").trim() === name);
  if (!found) throw new Error(`no button "${name}" in [${buttonNames(el).join(", ")}]`);
  return found;
}


/** The app's own design tokens (light and dark), so contrast is checked against real colours. */
async function withAppStyles<T>(scheme: "light" | "dark", run: () => Promise<T>): Promise<T> {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/assets/style.css";
  const loaded = new Promise((resolve, reject) => {
    link.onload = resolve;
    link.onerror = reject;
  });
  document.head.append(link);
  await loaded;
  await emulateMedia({ colorScheme: scheme });
  try {
    return await run();
  } finally {
    await emulateMedia({ colorScheme: "light" });
    link.remove();
  }
}

describe("mm-local-tile", () => {
  let camera: MediaStream;
  let mic: MediaStream;
  let resources: LocalResource[];
  before(async () => {
    camera = await navigator.mediaDevices.getUserMedia({ video: true });
    mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    resources = [
      { info: { id: camera.id, kind: "track", trackKind: "video", label: "Camera" }, stream: camera },
      { info: { id: mic.id, kind: "track", trackKind: "audio", label: "Microphone" }, stream: mic },
    ];
  });
  after(() => {
    for (const track of [...camera.getTracks(), ...mic.getTracks()]) track.stop();
  });

  async function tile(name: string, list: readonly LocalResource[]): Promise<MmLocalTile> {
    return fixture<MmLocalTile>(html`<mm-local-tile .name=${name} .resources=${list}></mm-local-tile>`);
  }

  it("is a group labelled You (<name>)", async () => {
    const el = await tile("Alice", []);
    expect(shadow(el).querySelector('[role="group"]')?.getAttribute("aria-label")).to.equal("You (Alice)");
    expect(shadow(el).textContent).to.contain("You (Alice)");
    expect(shadow(el).textContent).to.contain("Not sharing anything");
    expect(buttonNames(el)).to.deep.equal([]);
  });

  it("shows a muted, playing self-view for video and a Microphone on row for audio", async () => {
    const el = await tile("Alice", resources);
    const views = shadow(el).querySelectorAll("mm-stream-view");
    expect(views, "no self-monitoring of the microphone").to.have.length(1);
    const view = views[0];
    await view?.updateComplete;
    const video = view?.shadowRoot?.querySelector("video");
    if (!video) throw new Error("no self-view");
    expect(video.muted).to.equal(true);
    expect(video.getAttribute("aria-label")).to.equal("Your Camera");
    await waitUntil(() => !video.paused && video.videoWidth > 0, "self-view does not play", { timeout: 5000 });
    expect(shadow(el).textContent).to.contain("Microphone on");
    expect(buttonNames(el)).to.deep.equal(["Stop all", "Stop Camera", "Stop Microphone"]);
  });

  it("dispatches local-stop with the resource id", async () => {
    const el = await tile("Alice", resources);
    setTimeout(() => button(el, "Stop Microphone").click());
    const event = await oneEvent<LocalStopEvent>(el, "local-stop");
    expect(event).to.be.instanceOf(LocalStopEvent);
    expect([event.id, event.bubbles, event.composed]).to.deep.equal([mic.id, true, true]);
  });

  it("offers Stop all only for more than one resource, dispatching local-stop-all", async () => {
    const single = await tile("Alice", resources.slice(0, 1));
    expect(buttonNames(single)).to.deep.equal(["Stop Camera"]);
    const el = await tile("Alice", resources);
    setTimeout(() => button(el, "Stop all").click());
    const event = await oneEvent<LocalStopAllEvent>(el, "local-stop-all");
    expect(event).to.be.instanceOf(LocalStopAllEvent);
    expect(event.composed).to.equal(true);
  });

  it("lists a shared file with its size", async () => {
    const el = await tile("Alice", [{ info: { id: "f1", kind: "file", label: "slides.pdf", size: 2048 } }]);
    expect(shadow(el).textContent?.replace(/\s+/g, " ")).to.contain("slides.pdf (2.0 KiB)");
    expect(buttonNames(el)).to.deep.equal(["Stop sharing slides.pdf"]);
  });

  it("says a microphone's state in words and offers Mute / Unmute, firing local-mute", async () => {
    const el = await tile("Alice", resources);
    el.microphones = new Map([[mic.id, { muted: false, deviceOpen: true, suppressing: true }]]);
    await el.updateComplete;
    expect(shadow(el).textContent).to.contain("Microphone on, noise suppressed");
    expect(buttonNames(el)).to.deep.equal(["Stop all", "Stop Camera", "Mute microphone", "Stop Microphone"]);
    setTimeout(() => button(el, "Mute microphone").click());
    const event = await oneEvent<LocalMuteEvent>(el, "local-mute");
    expect([event.id, event.composed]).to.deep.equal([mic.id, true]);
    el.microphones = new Map([[mic.id, { muted: true, deviceOpen: false, suppressing: true }]]);
    await el.updateComplete;
    expect(shadow(el).textContent).to.contain("Microphone muted and closed");
    expect(buttonNames(el)).to.include("Unmute microphone");
  });

  it("shows Speaking as a word on the tile, outside any live region", async () => {
    const el = await tile("Alice", resources);
    expect(shadow(el).textContent).not.to.contain("Speaking");
    el.speaking = true;
    await el.updateComplete;
    const badge = shadow(el).querySelector(".speaking-badge");
    expect(badge?.textContent).to.equal("Speaking");
    expect(badge?.closest("[aria-live], [role=status], [role=log], [role=alert]")).to.equal(null);
    expect(shadow(el).querySelector(".tile")?.classList.contains("speaking")).to.equal(true);
    await expect(el).to.be.accessible();
  });

  it("is accessible with realistic data", async () => {
    await expect(await tile("Alice", resources)).to.be.accessible();
    await expect(await tile("", [])).to.be.accessible();
  });

  for (const scheme of ["light", "dark"] as const) {
    it(`is accessible with the app's ${scheme} colours`, async () => {
      await withAppStyles(scheme, async () => {
        await expect(await tile("Alice", resources)).to.be.accessible();
      });
    });
  }
});
