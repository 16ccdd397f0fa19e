// The sharer's clock in Node: a stand-in <video> (only what SyncLeader touches) and the
// file-transfer fake channel pair as a viewer's control channel, driven from the viewer's end.

import { afterEach, describe, expect, it, vi } from "vitest";
import { createChannelPair, type FakeChannel } from "../../common/engine/file-transfer/fakes.js";
import { encodeSyncMessage, parseSyncMessage, type SyncMessage } from "../../common/watch-together/sync-protocol.js";
import { SyncLeader, type LeaderOptions } from "./sync-leader.js";

/** What SyncLeader uses of an HTMLVideoElement; play/pause fire their events like a browser. */
class StandInVideo extends EventTarget {
  paused = false;
  currentTime = 5;
  playbackRate = 1;
  duration = 30;
  play(): Promise<void> {
    this.paused = false;
    this.dispatchEvent(new Event("play"));
    return Promise.resolve();
  }
  pause(): void {
    this.paused = true;
    this.dispatchEvent(new Event("pause"));
  }
}

const leaders: SyncLeader[] = [];
afterEach(() => {
  for (const leader of leaders.splice(0)) leader.close();
});

function setup(options: Partial<LeaderOptions> = {}) {
  const video = new StandInVideo();
  const leader = new SyncLeader(video as unknown as HTMLVideoElement, { share: "s", title: "Film", durationS: 30, master: "jfp2p://s-1/0" }, {
    allowViewerControl: () => false,
    waitForViewers: () => true,
    onViewersChange: () => undefined,
    onNextRequested: () => undefined,
    ...options,
  });
  leaders.push(leader);
  const [sharerEnd, viewerEnd] = createChannelPair({ label: "s" });
  const received: SyncMessage[] = [];
  viewerEnd.addEventListener("message", ({ data }) => {
    const parsed = parseSyncMessage(String(data));
    if (parsed.ok) received.push(parsed.value);
  });
  leader.addViewer("viewer-1", sharerEnd as unknown as RTCDataChannel);
  const say = (message: SyncMessage) => (viewerEnd as FakeChannel).send(encodeSyncMessage(message));
  return { video, leader, received, say, viewerEnd };
}

describe("SyncLeader", () => {
  it("greets a viewer with the description, then the state; answers pings with its clock", async () => {
    const { received, say } = setup();
    await vi.waitFor(() => expect(received.map((m) => m.t)).toEqual(["meta", "state"]));
    expect(received[0]).toMatchObject({ t: "meta", title: "Film", master: "jfp2p://s-1/0", epoch: 1 });
    expect(received[1]).toMatchObject({ t: "state", playing: true, pos: 5, control: false, waiting: 0 });
    say({ t: "ping", t0: 123 });
    await vi.waitFor(() => expect(received.at(-1)).toMatchObject({ t: "pong", t0: 123 }));
  });

  it("obeys a viewer's pause, seek and next only when the sharer allows control", async () => {
    let allowed = false;
    const next = vi.fn();
    const { video, say, received } = setup({ allowViewerControl: () => allowed, onNextRequested: next });
    await vi.waitFor(() => expect(received.length).toBeGreaterThan(1));
    say({ t: "req", action: "pause" });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(video.paused).toBe(false);
    allowed = true;
    say({ t: "req", action: "pause" });
    await vi.waitFor(() => expect(video.paused).toBe(true));
    say({ t: "req", action: "seek", pos: 12 });
    await vi.waitFor(() => expect(video.currentTime).toBe(12));
    say({ t: "req", action: "next" });
    await vi.waitFor(() => expect(next).toHaveBeenCalledOnce());
  });

  it("pauses for a viewer stalled over 2 s, tells everyone, and plays again once it has caught up", async () => {
    const { video, leader, say, received } = setup();
    say({ t: "vstate", epoch: 1, pos: 5, ahead: 0, stalled: true });
    await vi.waitFor(() => expect(received.some((m) => m.t === "state" && m.waiting === 1)).toBe(true));
    expect(video.paused, "not at once: a short stall is normal").toBe(false);
    await vi.waitFor(() => expect(leader.holding).toBe(true), { timeout: 4000 });
    expect(video.paused).toBe(true);
    await vi.waitFor(() => expect(received.at(-1)).toMatchObject({ t: "state", playing: false }));
    // Caught up, but with too little buffered: still waiting.
    say({ t: "vstate", epoch: 1, pos: 5, ahead: 1, stalled: false });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(leader.holding).toBe(true);
    say({ t: "vstate", epoch: 1, pos: 5, ahead: 5, stalled: false });
    await vi.waitFor(() => expect(leader.holding).toBe(false));
    expect(video.paused).toBe(false);
  });

  it("a sharer who presses play during a hold ends it: no resume against their next pause", async () => {
    const { video, leader, say } = setup();
    say({ t: "vstate", epoch: 1, pos: 5, ahead: 0, stalled: true });
    await vi.waitFor(() => expect(leader.holding).toBe(true), { timeout: 4000 });
    await video.play();
    expect(leader.holding).toBe(false);
    video.pause();
    say({ t: "vstate", epoch: 1, pos: 5, ahead: 5, stalled: false });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(video.paused, "the sharer's own pause stands").toBe(true);
  });

  it("does not wait when the sharer turned waiting off", async () => {
    const { video, leader, say } = setup({ waitForViewers: () => false });
    say({ t: "vstate", epoch: 1, pos: 5, ahead: 0, stalled: true });
    await new Promise((resolve) => setTimeout(resolve, 3200));
    expect(leader.holding).toBe(false);
    expect(video.paused).toBe(false);
  });

  it("closes the channel of a viewer that sends garbage", async () => {
    const { viewerEnd } = setup();
    viewerEnd.send("{not json");
    await vi.waitFor(() => expect(viewerEnd.readyState).toBe("closed"));
  });
});
