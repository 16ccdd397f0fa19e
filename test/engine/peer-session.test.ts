// PeerSession negotiation in Node through werift: two sessions in one process, joined by an
// ordered in-memory signaling link with random delay and a JSON round trip, like the relay.

import { afterEach, describe, expect, it } from "vitest";
import { PeerSession, type SignalMessage } from "../../common/engine/peer-session.js";
import { createWeriftAudioStream, createWeriftPeerConnection } from "./werift-platform.js";

interface Pair {
  readonly polite: PeerSession;
  readonly impolite: PeerSession;
  readonly failures: string[];
}

const sessions: PeerSession[] = [];

afterEach(() => {
  for (const session of sessions.splice(0)) session.close();
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Two sessions wired together. Messages keep their order per direction (as the relay keeps
 * per-sender order) but each is delayed 0–`jitterMs`; `reorderCandidates` delivers ICE
 * candidates before the description they belong to, as a racing network path could.
 */
function makePair(options: { jitterMs?: number } = {}): Pair {
  const failures: string[] = [];
  const jitter = options.jitterMs ?? 15;
  let polite!: PeerSession;
  let impolite!: PeerSession;
  const link = (target: () => PeerSession) => {
    let queue = Promise.resolve();
    return (message: SignalMessage): Promise<void> => {
      const wire = JSON.parse(JSON.stringify(message)) as SignalMessage;
      if (process.env.ENGINE_DEBUG) console.log(target() === polite ? "→ polite" : "→ impolite", wire.type);
      queue = queue.then(async () => {
        await delay(Math.random() * jitter);
        await target().handleSignal(wire);
      });
      return Promise.resolve();
    };
  };
  const logger = process.env.ENGINE_DEBUG
    ? (level: string, scope: string, message: string, fields?: object) => console.log(level, scope, message, JSON.stringify(fields))
    : undefined;
  polite = new PeerSession({ polite: true, createPeerConnection: createWeriftPeerConnection, send: link(() => impolite), logger });
  impolite = new PeerSession({ polite: false, createPeerConnection: createWeriftPeerConnection, send: link(() => polite), logger });
  for (const [name, session] of [["polite", polite], ["impolite", impolite]] as const) {
    session.events.on("negotiation-failed", ({ step, error }) => failures.push(`${name} ${step}: ${error}`));
    sessions.push(session);
  }
  return { polite, impolite, failures };
}

function channelOpen(channel: RTCDataChannel): Promise<void> {
  if (channel.readyState === "open") return Promise.resolve();
  return new Promise((resolve) => channel.addEventListener("open", () => resolve(), { once: true }));
}

function nextMessage(channel: RTCDataChannel): Promise<string> {
  return new Promise((resolve) => {
    channel.onmessage = (event: MessageEvent) => resolve(String(event.data));
  });
}

function remoteChannel(session: PeerSession, label: string): Promise<RTCDataChannel> {
  return new Promise((resolve) => {
    const off = session.events.on("data-channel", (channel) => {
      if (channel.label === label) {
        off();
        resolve(channel);
      }
    });
  });
}

async function settled(pair: Pair): Promise<void> {
  // Both sides back in stable with nothing queued.
  for (let i = 0; i < 200; i++) {
    const a = pair.polite.connection.signalingState;
    const b = pair.impolite.connection.signalingState;
    if (a === "stable" && b === "stable") {
      await delay(50);
      if (pair.polite.connection.signalingState === "stable" && pair.impolite.connection.signalingState === "stable") return;
    }
    await delay(20);
  }
  throw new Error("negotiation did not settle");
}

describe("PeerSession on werift", () => {
  it("opens a data channel and carries messages both ways", async () => {
    const pair = makePair();
    const incoming = remoteChannel(pair.impolite, "chan-1");
    const outgoing = pair.polite.createDataChannel("chan-1");
    const remote = await incoming;
    await Promise.all([channelOpen(outgoing), channelOpen(remote)]);
    const fromPolite = nextMessage(remote);
    outgoing.send("hello");
    expect(await fromPolite).toBe("hello");
    const fromImpolite = nextMessage(outgoing);
    remote.send("hi back");
    expect(await fromImpolite).toBe("hi back");
    expect(pair.failures).toEqual([]);
  });

  it("survives glare: both sides open channels at once, all open on both sides", async () => {
    for (let run = 0; run < 3; run++) {
      const pair = makePair();
      const atImpolite = remoteChannel(pair.impolite, "from-polite");
      const atPolite = remoteChannel(pair.polite, "from-impolite");
      const a = pair.polite.createDataChannel("from-polite");
      const b = pair.impolite.createDataChannel("from-impolite");
      const [ra, rb] = await Promise.all([atImpolite, atPolite]);
      await Promise.all([channelOpen(a), channelOpen(b), channelOpen(ra), channelOpen(rb)]);
      await settled(pair);
      expect(pair.failures).toEqual([]);
    }
  });

  it("survives glare with a track and a channel on both sides: one track each, right stream ids", async () => {
    const pair = makePair();
    const tracks = { polite: [] as string[], impolite: [] as string[] };
    // Repeats of an announced track are allowed (listeners are idempotent); count distinct ones.
    const add = (list: string[], id: string) => list.includes(id) || list.push(id);
    pair.polite.events.on("track", ({ streamId }) => add(tracks.polite, streamId));
    pair.impolite.events.on("track", ({ streamId }) => add(tracks.impolite, streamId));
    const atImpolite = remoteChannel(pair.impolite, "c-polite");
    const atPolite = remoteChannel(pair.polite, "c-impolite");
    pair.polite.createDataChannel("c-polite");
    pair.impolite.createDataChannel("c-impolite");
    pair.polite.sendStream(createWeriftAudioStream("mic-polite"));
    pair.impolite.sendStream(createWeriftAudioStream("mic-impolite"));
    await Promise.all([atImpolite, atPolite]);
    await settled(pair);
    for (let i = 0; i < 50 && (tracks.polite.length === 0 || tracks.impolite.length === 0); i++) await delay(20);
    expect(tracks.impolite).toEqual(["mic-polite"]);
    expect(tracks.polite).toEqual(["mic-impolite"]);
    expect(pair.failures).toEqual([]);
  });

  it("adds and removes streams in cycles; a repeated send is harmless", async () => {
    const pair = makePair();
    const seen: string[] = [];
    pair.impolite.events.on("track", ({ streamId }) => seen.includes(streamId) || seen.push(streamId));
    // A control channel first: werift cannot open the first channel after media (node-webrtc.md).
    const control = remoteChannel(pair.impolite, "control");
    pair.polite.createDataChannel("control");
    await control;
    for (let cycle = 0; cycle < 3; cycle++) {
      const stream = createWeriftAudioStream(`cam-${cycle}`);
      pair.polite.sendStream(stream);
      pair.polite.sendStream(stream); // second request for an active stream
      for (let i = 0; i < 100 && seen.length <= cycle; i++) await delay(20);
      expect(pair.polite.isSending(`cam-${cycle}`)).toBe(true);
      await settled(pair);
      const sendersBefore = pair.polite.connection.getSenders().filter((s) => s.track).length;
      pair.polite.stopStream(`cam-${cycle}`);
      await settled(pair);
      expect(pair.polite.isSending(`cam-${cycle}`)).toBe(false);
      expect(pair.polite.connection.getSenders().filter((s) => s.track).length).toBe(sendersBefore - 1);
    }
    // Idle transceivers are reused: three cycles leave one audio m-section, not three.
    expect(pair.polite.connection.getTransceivers()).toHaveLength(1);
    expect(seen).toEqual(["cam-0", "cam-1", "cam-2"]);
    expect(pair.failures).toEqual([]);
  });

  it("shrugs off hostile signaling and keeps working", async () => {
    // Garbage SDP is covered in Chromium: werift half-parses it instead of refusing it.
    const pair = makePair();
    await pair.impolite.handleSignal({ type: "answer", sdp: "v=0" }); // no offer pending: ignored
    await pair.impolite.handleSignal({
      type: "ice_candidate",
      candidate: { candidate: "candidate:garbage", sdpMid: "7", sdpMLineIndex: 9, usernameFragment: null },
    });
    expect(pair.impolite.connection.signalingState).toBe("stable");
    const incoming = remoteChannel(pair.impolite, "after");
    const channel = pair.polite.createDataChannel("after");
    await Promise.all([channelOpen(channel), incoming.then(channelOpen)]);
    await settled(pair);
  });

  it("buffers ICE candidates that arrive before the description", async () => {
    // Hold back everything the polite side sends, then deliver candidates first.
    const held: SignalMessage[] = [];
    const impolite = new PeerSession({ polite: false, createPeerConnection: createWeriftPeerConnection, send: async () => {} });
    const polite = new PeerSession({
      polite: true,
      createPeerConnection: createWeriftPeerConnection,
      send: async (message) => {
        held.push(JSON.parse(JSON.stringify(message)) as SignalMessage);
      },
    });
    sessions.push(polite, impolite);
    const failures: string[] = [];
    impolite.events.on("negotiation-failed", ({ error }) => failures.push(error));
    polite.createDataChannel("early");
    for (let i = 0; i < 100 && !held.some((m) => m.type === "ice_candidate"); i++) await delay(20);
    const candidates = held.filter((m) => m.type === "ice_candidate");
    const offer = held.find((m) => m.type === "offer");
    expect(candidates.length).toBeGreaterThan(0);
    expect(offer).toBeDefined();
    // The offer is sent before its candidates (they are held until the description is out).
    expect(held[0]?.type).toBe("offer");
    for (const candidate of candidates) await impolite.handleSignal(candidate);
    expect(impolite.connection.remoteDescription).toBeNull();
    if (offer) await impolite.handleSignal(offer);
    expect(impolite.connection.remoteDescription?.type).toBe("offer");
    expect(failures).toEqual([]);
  });
});
