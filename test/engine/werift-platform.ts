// werift 0.24.4 as the engine's RTCPeerConnection in Node: the
// engine is typed against lib.dom, so the one cast to the DOM constructor type lives here.
//
// werift's ICE agent falls back to stun:stun.l.google.com:19302 when no STUN server is set, even
// with `iceServers: []`: a DNS lookup and a ~5 s gathering stall on this offline machine, and
// packets to Google where DNS works. A falsy, non-undefined `stunServer` disables the fallback.
// Candidates are limited to loopback so test traffic never leaves the machine.

import * as werift from "werift";

(werift.defaultOptions as { stunServer?: unknown }).stunServer = false;

// werift writes port 0 for every inactive m-section, which rejects it: after a removeTrack round
// the answerer drops the transceiver while the offerer keeps it, and the next offer fails with
// "Transceiver with mid=N not found". Browsers answer such a section with port 9 and keep it
// (RFC 8829 §5.3.1 reserves port 0 for stopped transceivers). Undo werift's rewrite.
type MediaLike = { direction?: string; port?: number; msids?: unknown[] };
const sdpManagerProto = (werift as unknown as { SDPManager: { prototype: Record<string, unknown> } }).SDPManager.prototype;
const addTransportDescription = sdpManagerProto.addTransportDescription as (this: unknown, media: MediaLike, dtls: unknown) => unknown;
sdpManagerProto.addTransportDescription = function (this: unknown, media: MediaLike, dtls: unknown) {
  const result = addTransportDescription.call(this, media, dtls);
  if (media.direction === "inactive" && media.port === 0) media.port = 9;
  return result;
};

// werift also recycles any `inactive` transceiver for a new m-section, even one whose m-section
// is still in the offer (inactive after a removeTrack round, not stopped). The mids then no
// longer match the offer ("Transceiver with mid=N not found"). JSEP only recycles m-sections of
// stopped transceivers, so hide inactive ones from werift's reuse check while it adds one.
type TransceiverLike = { currentDirection?: string; usedForSender?: boolean };
const transceiverManagerProto = (werift as unknown as { TransceiverManager: { prototype: Record<string, unknown> } }).TransceiverManager
  .prototype;
const addTransceiver = transceiverManagerProto.addTransceiver as (this: { transceivers: TransceiverLike[] }, ...args: unknown[]) => unknown;
transceiverManagerProto.addTransceiver = function (this: { transceivers: TransceiverLike[] }, ...args: unknown[]) {
  const hidden = this.transceivers.filter((t) => t.currentDirection === "inactive" && !t.usedForSender);
  for (const t of hidden) t.usedForSender = true;
  try {
    return addTransceiver.apply(this, args);
  } finally {
    for (const t of hidden) t.usedForSender = false;
  }
};

const CONFIG = {
  iceServers: [],
  iceUseIpv6: false,
  iceAdditionalHostAddresses: ["127.0.0.1"],
  iceFilterCandidatePair: (pair: { remoteCandidate: { host: string } }) => String(pair.remoteCandidate.host).startsWith("127."),
  // Only loopback host candidates are gathered on purpose; werift skips loopback interfaces
  // unless told otherwise, and we filter pairs to 127.x so nothing else is ever tried.
  iceFilterStunResponse: undefined,
};

// W3C `sender.setStreams(...streams)` is variadic; werift's takes one array.
const senderProto = (werift as unknown as { RTCRtpSender: { prototype: Record<string, unknown> } }).RTCRtpSender.prototype;
const setStreams = senderProto.setStreams as (this: unknown, streams: unknown[]) => void;
senderProto.setStreams = function (this: unknown, ...streams: unknown[]) {
  setStreams.call(this, streams.length === 1 && Array.isArray(streams[0]) ? (streams[0] as unknown[]) : streams);
};

export function createWeriftPeerConnection(): RTCPeerConnection {
  const pc = new werift.RTCPeerConnection(CONFIG as unknown as ConstructorParameters<typeof werift.RTCPeerConnection>[0]);
  return pc as unknown as RTCPeerConnection;
}

/** An audio stream with one RTP-fed track, shaped like a browser MediaStream for the engine. */
export function createWeriftAudioStream(id: string): MediaStream {
  const track = new werift.MediaStreamTrack({ kind: "audio" });
  const stream = new werift.MediaStream({ id, tracks: [track] });
  return stream as unknown as MediaStream;
}

export { werift };
