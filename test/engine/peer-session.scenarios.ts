// The PeerSession test scenarios, written once and run twice: in Node on werift
// (peer-session.test.ts, fast) and in Chromium (peer-session.browser.test.ts, the
// reference, plus what werift gets wrong: ICE restart, refusing garbage SDP). Framework-free:
// each scenario throws on failure, so vitest and mocha both run it unchanged. Test code only.
//
// Two sessions in one process are joined by an ordered in-memory signaling link with random
// delay and a JSON round trip per message, like the relay: per-direction order is kept.

import { PeerSession, type SignalMessage } from "../../common/engine/peer-session.js";

export interface ScenarioHost {
  createPeerConnection(): RTCPeerConnection;
  /** A stream with one live audio track. */
  createAudioStream(): MediaStream | Promise<MediaStream>;
}

export interface Scenario {
  readonly name: string;
  /** Needs a real browser (werift cannot do it). */
  readonly browserOnly?: boolean;
  run(host: ScenarioHost, cleanup: (session: PeerSession) => void): Promise<void>;
}

interface Pair {
  readonly polite: PeerSession;
  readonly impolite: PeerSession;
  readonly failures: string[];
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function same(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  check(a === b, `${what}: expected ${b}, got ${a}`);
}

function makePair(host: ScenarioHost, keep: (session: PeerSession) => void, jitterMs = 15): Pair {
  const failures: string[] = [];
  let polite!: PeerSession;
  let impolite!: PeerSession;
  const link = (target: () => PeerSession) => {
    let queue = Promise.resolve();
    return (message: SignalMessage): Promise<void> => {
      const wire = JSON.parse(JSON.stringify(message)) as SignalMessage;
      queue = queue.then(async () => {
        await delay(Math.random() * jitterMs);
        await target().handleSignal(wire);
      });
      return Promise.resolve();
    };
  };
  const create = () => host.createPeerConnection();
  polite = new PeerSession({ polite: true, createPeerConnection: create, send: link(() => impolite) });
  impolite = new PeerSession({ polite: false, createPeerConnection: create, send: link(() => polite) });
  for (const [name, session] of [["polite", polite], ["impolite", impolite]] as const) {
    session.events.on("negotiation-failed", ({ step, error }) => failures.push(`${name} ${step}: ${error}`));
    keep(session);
  }
  return { polite, impolite, failures };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
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
  const stable = () => pair.polite.connection.signalingState === "stable" && pair.impolite.connection.signalingState === "stable";
  for (let i = 0; i < 300; i++) {
    if (stable()) {
      await delay(60);
      if (stable()) return;
    }
    await delay(20);
  }
  throw new Error("negotiation did not settle");
}

/** Distinct stream ids announced by `session`'s track events (repeats are allowed by contract). */
function trackIds(session: PeerSession): string[] {
  const ids: string[] = [];
  session.events.on("track", ({ streamId }) => {
    if (!ids.includes(streamId)) ids.push(streamId);
  });
  return ids;
}

export const PEER_SESSION_SCENARIOS: readonly Scenario[] = [
  {
    name: "opens a data channel and carries messages both ways",
    async run(host, keep) {
      const pair = makePair(host, keep);
      const incoming = remoteChannel(pair.impolite, "chan-1");
      const outgoing = pair.polite.createDataChannel("chan-1");
      const remote = await incoming;
      await Promise.all([channelOpen(outgoing), channelOpen(remote)]);
      const fromPolite = nextMessage(remote);
      outgoing.send("hello");
      same(await fromPolite, "hello", "message to impolite");
      const fromImpolite = nextMessage(outgoing);
      remote.send("hi back");
      same(await fromImpolite, "hi back", "message to polite");
      same(pair.failures, [], "failures");
    },
  },
  {
    name: "survives glare: both sides open channels at once, all open on both sides",
    async run(host, keep) {
      for (let run = 0; run < 3; run++) {
        const pair = makePair(host, keep);
        const atImpolite = remoteChannel(pair.impolite, "from-polite");
        const atPolite = remoteChannel(pair.polite, "from-impolite");
        const a = pair.polite.createDataChannel("from-polite");
        const b = pair.impolite.createDataChannel("from-impolite");
        const [ra, rb] = await Promise.all([atImpolite, atPolite]);
        await Promise.all([channelOpen(a), channelOpen(b), channelOpen(ra), channelOpen(rb)]);
        await settled(pair);
        same(pair.failures, [], "failures");
      }
    },
  },
  {
    name: "survives glare with a track and a channel on both sides: one track each, right stream ids",
    async run(host, keep) {
      const pair = makePair(host, keep);
      const atPolite = trackIds(pair.polite);
      const atImpolite = trackIds(pair.impolite);
      const channels = [remoteChannel(pair.impolite, "c-polite"), remoteChannel(pair.polite, "c-impolite")];
      const [streamP, streamI] = await Promise.all([host.createAudioStream(), host.createAudioStream()]);
      pair.polite.createDataChannel("c-polite");
      pair.impolite.createDataChannel("c-impolite");
      pair.polite.sendStream(streamP);
      pair.impolite.sendStream(streamI);
      await Promise.all(channels);
      await settled(pair);
      await until(() => atPolite.length > 0 && atImpolite.length > 0, "tracks on both sides");
      same(atImpolite, [streamP.id], "tracks at impolite");
      same(atPolite, [streamI.id], "tracks at polite");
      same(pair.failures, [], "failures");
    },
  },
  {
    name: "adds and removes streams in cycles; a repeated send is harmless; idle transceivers are reused",
    async run(host, keep) {
      const pair = makePair(host, keep);
      const seen = trackIds(pair.impolite);
      // A control channel first: werift cannot open the first channel after media.
      const control = remoteChannel(pair.impolite, "control");
      pair.polite.createDataChannel("control");
      await control;
      const ids: string[] = [];
      for (let cycle = 0; cycle < 3; cycle++) {
        const stream = await host.createAudioStream();
        ids.push(stream.id);
        pair.polite.sendStream(stream);
        pair.polite.sendStream(stream); // second request for an active stream
        await until(() => seen.length > cycle, `track of cycle ${cycle}`);
        check(pair.polite.isSending(stream.id), "sending after sendStream");
        await settled(pair);
        const sendersBefore = pair.polite.connection.getSenders().filter((s) => s.track).length;
        pair.polite.stopStream(stream.id);
        await settled(pair);
        check(!pair.polite.isSending(stream.id), "not sending after stopStream");
        same(pair.polite.connection.getSenders().filter((s) => s.track).length, sendersBefore - 1, "senders with a track");
      }
      same(seen, ids, "streams seen by the receiver");
      same(pair.polite.connection.getTransceivers().length, 1, "transceivers after three cycles");
      same(pair.failures, [], "failures");
    },
  },
  {
    name: "shrugs off hostile signaling and keeps working",
    async run(host, keep) {
      const pair = makePair(host, keep);
      await pair.impolite.handleSignal({ type: "answer", sdp: "v=0" }); // no offer pending: ignored
      await pair.impolite.handleSignal({
        type: "ice_candidate",
        candidate: { candidate: "candidate:garbage", sdpMid: "7", sdpMLineIndex: 9, usernameFragment: null },
      });
      same(pair.impolite.connection.signalingState, "stable", "state after hostile input");
      const incoming = remoteChannel(pair.impolite, "after");
      const channel = pair.polite.createDataChannel("after");
      await Promise.all([channelOpen(channel), incoming.then(channelOpen)]);
      await settled(pair);
    },
  },
  {
    name: "refuses a garbage offer without getting stuck",
    browserOnly: true,
    async run(host, keep) {
      const pair = makePair(host, keep);
      await pair.impolite.handleSignal({ type: "offer", sdp: "this is not SDP" });
      check(pair.failures.some((f) => f.startsWith("impolite handle offer")), "the bad offer is reported");
      same(pair.impolite.connection.signalingState, "stable", "state after the bad offer");
      const incoming = remoteChannel(pair.impolite, "after-garbage");
      const channel = pair.polite.createDataChannel("after-garbage");
      await Promise.all([channelOpen(channel), incoming.then(channelOpen)]);
    },
  },
  {
    name: "restarts ICE and keeps the data flowing",
    browserOnly: true,
    async run(host, keep) {
      const pair = makePair(host, keep);
      const incoming = remoteChannel(pair.impolite, "restart");
      const channel = pair.polite.createDataChannel("restart");
      const remote = await incoming;
      await Promise.all([channelOpen(channel), channelOpen(remote)]);
      await settled(pair);
      const ufrag = () => /a=ice-ufrag:(\S+)/.exec(pair.polite.connection.localDescription?.sdp ?? "")?.[1];
      const before = ufrag();
      pair.polite.connection.restartIce();
      await until(() => ufrag() !== before, "a new ICE ufrag");
      await settled(pair);
      const received = nextMessage(remote);
      channel.send("after restart");
      same(await received, "after restart", "message after the restart");
      same(pair.failures, [], "failures");
    },
  },
  {
    name: "buffers ICE candidates that arrive before the description",
    async run(host, keep) {
      const held: SignalMessage[] = [];
      const impolite = new PeerSession({ polite: false, createPeerConnection: () => host.createPeerConnection(), send: async () => {} });
      const polite = new PeerSession({
        polite: true,
        createPeerConnection: () => host.createPeerConnection(),
        send: async (message) => {
          held.push(JSON.parse(JSON.stringify(message)) as SignalMessage);
        },
      });
      keep(polite);
      keep(impolite);
      const failures: string[] = [];
      impolite.events.on("negotiation-failed", ({ error }) => failures.push(error));
      polite.createDataChannel("early");
      await until(() => held.some((m) => m.type === "ice_candidate"), "a local candidate");
      const candidates = held.filter((m) => m.type === "ice_candidate");
      const offer = held.find((m) => m.type === "offer");
      check(offer !== undefined, "an offer was sent");
      // The offer goes out before its candidates (they are held until the description is sent).
      same(held[0]?.type, "offer", "first message");
      for (const candidate of candidates) await impolite.handleSignal(candidate);
      check(impolite.connection.remoteDescription === null, "no remote description yet");
      if (offer) await impolite.handleSignal(offer);
      same(impolite.connection.remoteDescription?.type, "offer", "remote description");
      same(failures, [], "failures");
    },
  },
];
