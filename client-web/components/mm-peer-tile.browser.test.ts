/// <reference types="mocha" />
import { aTimeout, expect, fixture, html, oneEvent, waitUntil } from "@open-wc/testing";
import { emulateMedia, resetMouse, sendMouse } from "@web/test-runner-commands";
import type { PeerKey, PeerView, RemoteResource } from "../../common/engine/room.js";
import type { ProvideInfo } from "../../common/wire/packets.js";
import { formatBytes, ResourceDisableEvent, ResourceEnableEvent, UNPROTECTED_WORDS, type MmPeerTile } from "./mm-peer-tile.js";
import "./mm-peer-tile.js";

// A real (if tiny) WebP, as a peer would send it.
const PREVIEW = "data:image/webp;base64,UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==";
const CAMERA: ProvideInfo = { id: "cam-1", kind: "track", trackKind: "video", label: "Camera" };
const MIC: ProvideInfo = { id: "mic-1", kind: "track", trackKind: "audio", label: "Microphone" };

function resource(info: ProvideInfo, state: RemoteResource["state"] = "available", extra: Partial<RemoteResource> = {}): RemoteResource {
  return { info, state, stream: undefined, preview: undefined, ...extra };
}

function peer(overrides: Partial<PeerView> = {}, resources: RemoteResource[] = []): PeerView {
  return {
    key: "p1" as PeerKey,
    clientId: 7,
    name: "Alice",
    presence: "present",
    connectionState: "connected",
    resources: new Map(resources.map((r) => [r.info.id, r])),
    ...overrides,
  };
}

async function tile(view: PeerView, debug = false, debugText = ""): Promise<MmPeerTile> {
  return fixture<MmPeerTile>(html`<mm-peer-tile .peer=${view} .webrtcDebug=${debug} .debugText=${debugText}></mm-peer-tile>`);
}

function shadow(el: MmPeerTile): ShadowRoot {
  if (!el.shadowRoot) throw new Error("no shadow root");
  return el.shadowRoot;
}

function buttons(el: MmPeerTile): HTMLButtonElement[] {
  return [...shadow(el).querySelectorAll("button")];
}

function button(el: MmPeerTile, name: string): HTMLButtonElement {
  const found = buttons(el).find((b) => b.textContent?.replace(/\s+/g, " ").trim() === name);
  if (!found) throw new Error(`no button "${name}" in [${buttons(el).map((b) => b.textContent?.trim()).join(", ")}]`);
  return found;
}

function text(el: MmPeerTile): string {
  return (shadow(el).textContent ?? "").replace(/\s+/g, " ");
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

describe("mm-peer-tile", () => {
  const streams: MediaStream[] = [];
  afterEach(() => {
    for (const stream of streams.splice(0)) for (const track of stream.getTracks()) track.stop();
  });

  it("is a group labelled by the participant's name, with the state in words as its description", async () => {
    const el = await tile(peer());
    const group = shadow(el).querySelector('[role="group"]');
    expect(group?.getAttribute("aria-label")).to.equal("Alice");
    const status = shadow(el).getElementById(group?.getAttribute("aria-describedby") ?? "");
    expect(status?.textContent?.trim()).to.equal("Connected");
  });

  it("calls an unnamed participant Guest plus their id", async () => {
    const el = await tile(peer({ name: undefined }));
    expect(shadow(el).querySelector('[role="group"]')?.getAttribute("aria-label")).to.equal("Guest 7");
    expect(text(el)).to.contain("Guest 7");
  });

  it("words every connection state", async () => {
    const words: Record<PeerView["connectionState"], string> = {
      none: "Not connected yet",
      new: "Connecting…",
      connecting: "Connecting…",
      connected: "Connected",
      disconnected: "Connection interrupted",
      failed: "Connection failed",
      closed: "Closed",
    };
    const el = await tile(peer());
    for (const [state, expected] of Object.entries(words)) {
      el.peer = peer({ connectionState: state as PeerView["connectionState"] });
      await el.updateComplete;
      expect(shadow(el).getElementById("status")?.textContent?.trim(), state).to.equal(expected);
    }
  });

  it("says how the connection goes, and why it failed while ICE retries; both in the tile's description", async () => {
    const el = await tile(peer({ path: { kind: "turn", turnHost: "turn.example.org", turnProtocol: "tcp", relayedBy: "us", protocol: "udp", rttMs: 42 } }));
    const group = () => shadow(el).querySelector('[role="group"]');
    expect(shadow(el).querySelector(".path")?.textContent?.trim()).to.equal("Relayed by TURN turn.example.org over TCP · round trip 42 ms");
    expect(group()?.getAttribute("aria-describedby")).to.equal("status path");
    for (const state of ["failed", "connecting"] as const) {
      el.peer = peer({ connectionState: state, failure: "turn-refused" });
      await el.updateComplete;
      const failure = shadow(el).querySelector(".failure");
      expect(failure?.textContent, state).to.contain("The TURN server refused the credentials");
      expect(failure?.getAttribute("data-cause")).to.equal("turn-refused");
      expect(group()?.getAttribute("aria-describedby")).to.equal("status failure");
      expect(shadow(el).querySelector(".path"), state).to.equal(null);
    }
    el.peer = peer({ connectionState: "connected", failure: "turn-refused" });
    await el.updateComplete;
    expect(shadow(el).querySelector(".failure")).to.equal(null);
  });

  it("says when a participant's client does not protect its messages against replay", async () => {
    const el = await tile(peer());
    expect(shadow(el).querySelector(".trust")).to.equal(null);
    el.peer = peer({ unprotected: true });
    await el.updateComplete;
    expect(shadow(el).querySelector(".trust")?.textContent).to.equal(UNPROTECTED_WORDS);
    expect(shadow(el).querySelector('[role="group"]')?.getAttribute("aria-describedby")).to.equal("status trust");
  });

  it("shows a Reconnecting… badge while the participant is away", async () => {
    const el = await tile(peer({ presence: "away" }));
    expect(text(el)).to.contain("Reconnecting…");
    expect(shadow(el).querySelector('[role="group"]')?.getAttribute("aria-describedby")).to.equal("status away");
    el.peer = peer();
    await el.updateComplete;
    expect(text(el)).not.to.contain("Reconnecting…");
  });

  it("shows Speaking on the tile while their audio is above the threshold", async () => {
    const el = await tile(peer());
    expect(text(el)).not.to.contain("Speaking");
    el.speaking = true;
    await el.updateComplete;
    expect(text(el)).to.contain("Speaking");
    expect(shadow(el).querySelector(".tile")?.classList.contains("speaking")).to.equal(true);
  });

  it("offers Show for available video and Play for available audio, each firing resource-enable with key and id", async () => {
    const el = await tile(peer({}, [resource(CAMERA), resource(MIC)]));
    expect(text(el)).to.contain("Camera video");
    expect(text(el)).to.contain("Microphone audio");
    setTimeout(() => button(el, "Show Camera").click());
    const shown = await oneEvent<ResourceEnableEvent>(el, "resource-enable");
    expect(shown).to.be.instanceOf(ResourceEnableEvent);
    expect([shown.key, shown.id, shown.bubbles, shown.composed]).to.deep.equal(["p1", "cam-1", true, true]);
    setTimeout(() => button(el, "Play Microphone").click());
    const played = await oneEvent<ResourceEnableEvent>(el, "resource-enable");
    expect([played.key, played.id]).to.deep.equal(["p1", "mic-1"]);
  });

  it("offers Hide/Mute for active and requested resources, firing resource-disable", async () => {
    const el = await tile(peer({}, [resource(CAMERA, "requested"), resource(MIC, "active")]));
    expect(text(el)).to.contain("Starting…");
    setTimeout(() => button(el, "Hide Camera").click());
    const hidden = await oneEvent<ResourceDisableEvent>(el, "resource-disable");
    expect(hidden).to.be.instanceOf(ResourceDisableEvent);
    expect([hidden.key, hidden.id]).to.deep.equal(["p1", "cam-1"]);
    setTimeout(() => button(el, "Mute Microphone").click());
    const muted = await oneEvent<ResourceDisableEvent>(el, "resource-disable");
    expect(muted.id).to.equal("mic-1");
  });

  it("plays an active video stream", async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true });
    streams.push(stream);
    const el = await tile(peer({}, [resource(CAMERA, "active", { stream, preview: PREVIEW })]));
    const view = shadow(el).querySelector("mm-stream-view");
    expect(view?.label).to.equal("Camera from Alice");
    await view?.updateComplete;
    const video = view?.shadowRoot?.querySelector("video");
    if (!video) throw new Error("no video element");
    expect(video.srcObject).to.equal(stream);
    expect(video.getAttribute("aria-label")).to.equal("Camera from Alice");
    await waitUntil(() => !video.paused && video.videoWidth > 0, "video does not play", { timeout: 5000 });
    expect(shadow(el).querySelector("img"), "no preview over a playing stream").to.equal(null);
  });

  it("resumes a video the browser paused, but leaves a pause the user made", async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true });
    streams.push(stream);
    const el = await tile(peer({}, [resource(CAMERA, "active", { stream })]));
    const view = shadow(el).querySelector("mm-stream-view");
    await view?.updateComplete;
    const video = view?.shadowRoot?.querySelector("video");
    if (!video) throw new Error("no video element");
    await waitUntil(() => !video.paused, "video does not play", { timeout: 5000 });
    video.pause(); // no user activation: as when the browser pauses it
    await waitUntil(() => !video.paused, "not resumed", { timeout: 2000 });
    // A real click gives the page transient user activation, as a user's pause would have.
    await sendMouse({ type: "click", position: [2, 2] });
    await resetMouse();
    expect(navigator.userActivation.isActive).to.equal(true);
    video.pause();
    await aTimeout(300);
    expect(video.paused).to.equal(true);
  });

  it("fits a 320 px wide screen with long names and labels", async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true });
    streams.push(stream);
    const long = "Bartholomew-Maximilian_von_Longname-Überschrift-".repeat(3);
    const wrapper = await fixture<HTMLDivElement>(html`<div style="width: 320px">
      <mm-peer-tile
        .peer=${peer({ name: long, presence: "away" }, [
          resource({ ...CAMERA, label: long }, "active", { stream }),
          resource(MIC, "requested"),
          resource({ id: "f1", kind: "file", label: long, size: 10_000_000 }),
        ])}
        .webrtcDebug=${true}
        .debugText=${"candidate-pair 0123456789abcdef0123456789abcdef0123456789abcdef rtt=12ms"}
      ></mm-peer-tile>
    </div>`);
    const el = wrapper.querySelector("mm-peer-tile");
    if (!el) throw new Error("no tile");
    await el.updateComplete;
    const box = shadow(el).querySelector(".tile");
    expect(el.getBoundingClientRect().width).to.be.at.most(320);
    expect(box?.scrollWidth).to.be.at.most(box?.clientWidth ?? 0);
    for (const b of buttons(el)) {
      const rect = b.getBoundingClientRect();
      expect(rect.right, b.textContent ?? "").to.be.at.most(el.getBoundingClientRect().right + 0.5);
      expect(Math.min(rect.width, rect.height)).to.be.at.least(24);
    }
  });

  it("keeps the same player when the tile re-renders with a fresh snapshot", async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true });
    streams.push(stream);
    const el = await tile(peer({}, [resource(CAMERA, "active", { stream })]));
    const before = shadow(el).querySelector("mm-stream-view");
    el.peer = peer({ connectionState: "connected" }, [resource(MIC), resource(CAMERA, "active", { stream })]);
    await el.updateComplete;
    expect(shadow(el).querySelector("mm-stream-view")).to.equal(before);
  });

  it("switches an audio-only stream to an Audio placeholder with a playing, hidden audio element", async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    streams.push(stream);
    const el = await tile(peer({}, [resource(MIC, "active", { stream })]));
    const view = shadow(el).querySelector("mm-stream-view");
    await view?.updateComplete;
    const audio = view?.shadowRoot?.querySelector("audio");
    if (!audio) throw new Error("no audio element");
    expect(audio.hasAttribute("controls")).to.equal(false);
    expect(audio.muted).to.equal(false);
    expect(view?.shadowRoot?.textContent).to.contain("Audio");
    await waitUntil(() => !audio.paused, "audio does not play", { timeout: 5000 });
  });

  it("shows a safe preview with alt text while the video is not active", async () => {
    const el = await tile(peer({}, [resource(CAMERA, "available", { preview: PREVIEW })]));
    const img = shadow(el).querySelector("img");
    expect(img?.getAttribute("src")).to.equal(PREVIEW);
    expect(img?.alt).to.equal("Preview of Camera from Alice");
  });

  it("never renders an unsafe preview", async () => {
    for (const preview of [
      "https://tracker.example/pixel.png",
      "data:image/svg+xml;base64,PHN2Zy8+",
      'data:image/png;base64,AAAA" onerror="alert(1)',
      "javascript:alert(1)",
    ]) {
      const el = await tile(peer({}, [resource(CAMERA, "available", { preview })]));
      expect(shadow(el).querySelector("img"), preview).to.equal(null);
    }
  });

  it("renders peer-supplied strings as text, never markup", async () => {
    const hostile = '<img src=x onerror="window.__pwned=1"><b>bold</b>';
    const el = await tile(
      peer({ name: hostile }, [resource({ ...CAMERA, label: hostile }), resource({ id: "f", kind: "file", label: hostile, size: 1 })]),
    );
    expect(shadow(el).querySelector("b")).to.equal(null);
    expect(shadow(el).querySelectorAll("img")).to.have.length(0);
    expect(text(el)).to.contain(hostile);
    expect(shadow(el).querySelector('[role="group"]')?.getAttribute("aria-label")).to.equal(hostile);
  });

  it("offers files by safe name, size and type with a Download button; other kinds without actions", async () => {
    const el = await tile(
      peer({}, [
        resource({ id: "f1", kind: "file", label: "report.pdf", size: 1_572_864, mimeType: "application/pdf" }),
        resource({ id: "f2", kind: "file", label: "../notes.txt", size: 10 }),
        resource({ id: "p1", kind: "port", label: "port 8080" }),
      ]),
    );
    expect(text(el)).to.contain("report.pdf 1.5 MiB · application/pdf");
    expect(text(el)).to.contain("notes.txt");
    expect(text(el)).not.to.contain("../");
    expect(text(el)).to.contain("port 8080");
    expect(buttons(el).map((b) => b.getAttribute("aria-label"))).to.deep.equal(["Download report.pdf from Alice", "Download _notes.txt from Alice"]);
    expect(formatBytes(512)).to.equal("512 B");
    expect(formatBytes(2048)).to.equal("2.0 KiB");
  });

  it("shows the connection details only with webrtcDebug", async () => {
    const el = await tile(peer(), false, "candidate pair: host/host");
    expect(shadow(el).querySelector("details")).to.equal(null);
    el.webrtcDebug = true;
    await el.updateComplete;
    expect(shadow(el).querySelector("details summary")?.textContent).to.equal("Connection details");
    expect(shadow(el).querySelector("details pre")?.textContent).to.equal("candidate pair: host/host");
  });

  it("is accessible with realistic data", async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true });
    streams.push(stream);
    const el = await tile(
      peer({ presence: "away" }, [
        resource({ ...CAMERA, id: "screen", label: "Screen" }, "active", { stream }),
        resource(CAMERA, "available", { preview: PREVIEW }),
        resource(MIC, "requested"),
        resource({ id: "f1", kind: "file", label: "report.pdf", size: 123_456 }),
      ]),
      true,
      "rtt 12 ms",
    );
    await expect(el).to.be.accessible();
    const unnamed = await tile(peer({ name: undefined, connectionState: "none" }));
    await expect(unnamed).to.be.accessible();
  });

  for (const scheme of ["light", "dark"] as const) {
    it(`is accessible with the app's ${scheme} colours`, async () => {
      await withAppStyles(scheme, async () => {
        const el = await tile(
          peer({ connectionState: "failed" }, [
            resource(CAMERA, "requested", { preview: PREVIEW }),
            resource(MIC, "active"),
            resource({ id: "f1", kind: "file", label: "report.pdf", size: 123_456 }),
          ]),
          true,
          "rtt 12 ms",
        );
        const background = getComputedStyle(shadow(el).querySelector(".tile") ?? el).backgroundColor;
        expect(background, "the tokens reach the shadow DOM").to.equal(scheme === "dark" ? "rgb(27, 32, 39)" : "rgb(255, 255, 255)");
        await expect(el).to.be.accessible();
      });
    });
  }
});
