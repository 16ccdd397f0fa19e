// One RTCPeerConnection to one other member, negotiated with the W3C "perfect negotiation"
// pattern, and the streams we send on it. Written against the standard API only, so it runs in
// browsers and, through werift, in Node. Knows nothing of rooms, names or the relay: signaling
// goes out through `send` and comes in through `handleSignal`.
//
// Three browser-harmless workarounds make it behave the same on werift
// (as werift needs it in Node): outgoing ICE candidates are held until the description they
// belong to has been sent; `negotiationneeded` is coalesced (and replayed once stable, because
// werift neither re-fires it after a rollback nor fires it only when stable); and every wire
// object is built field by field, never passed through from the library.
//
// Polite/impolite: the side with the larger client id is polite (rolls back on an offer
// collision); keks-meet peers have no such role, and browsers' implicit rollback covers them.

import { Emitter } from "../events.js";
import { dtlsFingerprints, sameFingerprints } from "../wire/dtls-fingerprints.js";
import type { IceCandidateInfo, RelayMessage } from "../wire/packets.js";
import { connectionPathFromStats, pathChanged, type ConnectionPath, type StatsLike } from "./connection-path.js";
import { IceDiagnosis, type IceFailureCause, type IceServerSummary } from "./ice-diagnosis.js";
import type { MilestoneSink } from "./milestones.js";
import { silentLogger, type Logger } from "./platform.js";

export type SignalMessage = Extract<RelayMessage, { type: "offer" | "answer" | "ice_candidate" }>;

export interface PeerSessionEvents extends Record<string, unknown> {
  /** connectionState changed; read `connectionState` for the value. */
  "connection-state": RTCPeerConnectionState;
  /**
   * A remote track arrived in a stream whose id is the resource id. May repeat for a
   * track already announced (werift repeats it on every renegotiation): listeners must be idempotent.
   */
  track: {
    readonly streamId: string;
    readonly stream: MediaStream;
    readonly track: MediaStreamTrack;
    readonly transceiver: RTCRtpTransceiver;
  };
  /** The remote side opened a data channel; its label is the resource id. */
  "data-channel": RTCDataChannel;
  /** A negotiation step failed; the session stays usable and retries on the next change. */
  "negotiation-failed": { readonly step: string; readonly error: string };
  /** The path (direct, STUN, TURN) or its round-trip time changed noticeably; read `path`. */
  path: ConnectionPath | undefined;
  /** The connection failed; read `failure` for the likely cause. Cleared (undefined) once connected. */
  failure: IceFailureCause | undefined;
  /** The DTLS fingerprints of either side's description changed; read `fingerprints`. */
  fingerprints: DescribedFingerprints;
}

/** The DTLS certificate fingerprints each side's description announces; undefined before it is set. */
export interface DescribedFingerprints {
  readonly local: readonly string[] | undefined;
  readonly remote: readonly string[] | undefined;
}

/**
 * ICE recovery timings. A connection "disconnected" this long has lost its path (a Wi-Fi
 * switch, a NAT that forgot the mapping); one still "connecting" this long is stuck, typically
 * two NATs whose first packets crossed so that each dropped the other's (Linux conntrack then
 * keeps a wrong mapping for 30 s). A restart gathers on new ports, which gets past both; the
 * waits double after every restart that did not help, up to the last one.
 */
/** Failure causes that rest on an error a server sent, not on what was missing. */
const EVIDENT_CAUSES: ReadonlySet<IceFailureCause> = new Set(["relay-only-without-turn", "turn-refused", "turn-unreachable", "udp-blocked"]);

export const ICE_RECOVERY = {
  disconnectedMs: 4_000,
  stuckConnectingMs: 6_000,
  retryDelaysMs: [0, 2_000, 5_000, 10_000, 30_000],
} as const;

/** How often the path's statistics are read while connected. */
export const PATH_SAMPLE_MS = 3_000;

export interface PeerSessionOptions {
  readonly polite: boolean;
  readonly createPeerConnection: () => RTCPeerConnection;
  /** Sends a signaling message to this peer (sealed and targeted by the caller). */
  readonly send: (message: SignalMessage) => Promise<void>;
  /** Which ICE servers the connection has, for naming the cause of a failure. */
  readonly iceServers?: () => IceServerSummary;
  /** Told when offers and answers go out and come in (see milestones.ts). */
  readonly milestone?: MilestoneSink;
  readonly logger?: Logger;
}

/** Incoming ICE candidates kept while no remote description is set; more is a misbehaving peer. */
const MAX_PENDING_REMOTE_CANDIDATES = 256;

export class PeerSession {
  readonly events: Emitter<PeerSessionEvents>;
  private readonly pc: RTCPeerConnection;
  private readonly polite: boolean;
  private readonly send: PeerSessionOptions["send"];
  private readonly milestone: MilestoneSink;
  private readonly log: (level: Parameters<Logger>[0], message: string, fields?: Record<string, unknown>) => void;
  /** Incoming signaling and our own offers run one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  private ignoreOffer = false;
  private negotiationWanted = false;
  private holdingCandidates = true;
  private readonly heldCandidates: IceCandidateInfo[] = [];
  private readonly pendingRemoteCandidates: IceCandidateInfo[] = [];
  private readonly sendersByStream = new Map<string, RTCRtpSender[]>();
  /** Transceivers we sent on and then stopped: candidates for reuse by the next stream. */
  private readonly usedTransceivers = new WeakSet<RTCRtpTransceiver>();
  private closed = false;
  private readonly diagnosis = new IceDiagnosis();
  private readonly describeIceServers: () => IceServerSummary;
  private pathValue: ConnectionPath | undefined;
  private failureValue: IceFailureCause | undefined;
  private pathTimer: ReturnType<typeof setInterval> | undefined;
  private recoveryTimer: ReturnType<typeof setTimeout> | undefined;
  /** ICE restarts since the connection last worked; indexes ICE_RECOVERY.retryDelaysMs. */
  private restartsWithoutSuccess = 0;
  private fingerprintsValue: DescribedFingerprints = { local: undefined, remote: undefined };

  constructor(options: PeerSessionOptions) {
    this.polite = options.polite;
    this.send = options.send;
    this.milestone = options.milestone ?? (() => {});
    this.describeIceServers = options.iceServers ?? (() => ({ hasStun: false, hasTurn: false, relayOnly: false }));
    const logger = options.logger ?? silentLogger;
    this.log = (level, message, fields) => logger(level, "peer", message, fields);
    this.events = new Emitter((error) => this.log("error", "event listener failed", { error: String(error) }));
    const pc = options.createPeerConnection();
    this.pc = pc;
    pc.onnegotiationneeded = () => this.requestNegotiation();
    pc.onicecandidate = (event) => this.handleLocalCandidate(event.candidate);
    pc.onsignalingstatechange = () => {
      if (pc.signalingState === "stable" && this.negotiationWanted) this.requestNegotiation();
    };
    pc.onconnectionstatechange = () => {
      this.handleConnectionState(pc.connectionState);
      this.events.emit("connection-state", pc.connectionState);
    };
    pc.addEventListener?.("icecandidateerror", (event) => {
      const error = event as Event & { readonly url?: string; readonly errorCode?: number };
      if (typeof error.errorCode === "number") this.diagnosis.noteCandidateError(error.url, error.errorCode);
    });
    pc.ontrack = (event) => {
      const stream = event.streams[0];
      if (!stream) {
        this.log("warn", "stopped a remote track that came without a stream");
        stopTransceiver(event.transceiver);
        return;
      }
      this.events.emit("track", { streamId: stream.id, stream, track: event.track, transceiver: event.transceiver });
    };
    pc.ondatachannel = (event) => this.events.emit("data-channel", event.channel);
  }

  get connectionState(): RTCPeerConnectionState {
    return this.pc.connectionState;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** How the media travels, while connected (see connection-path.ts). */
  get path(): ConnectionPath | undefined {
    return this.pathValue;
  }

  /** Why the connection failed, while it is failed. */
  get fingerprints(): DescribedFingerprints {
    return this.fingerprintsValue;
  }

  get failure(): IceFailureCause | undefined {
    return this.failureValue;
  }

  /** New ICE servers (e.g. a renewed TURN credential); used from the next gathering on. */
  setConfiguration(configuration: RTCConfiguration): void {
    if (this.closed) return;
    try {
      this.pc.setConfiguration(configuration);
    } catch (error) {
      this.log("warn", "could not update the ICE servers", { error: String(error) });
    }
  }

  /**
   * Gathers again on new ports and renegotiates, keeping every track and channel: for a changed
   * network (the page went online again) or a lost path. Harmless before anything was negotiated.
   */
  restartIce(): void {
    if (this.closed || !this.pc.remoteDescription) return;
    this.log("info", "restarting ICE", { state: this.pc.connectionState, restarts: this.restartsWithoutSuccess });
    this.restartsWithoutSuccess++;
    this.diagnosis.reset();
    this.pc.restartIce();
    // Browsers fire negotiationneeded after restartIce(); werift does not. Requests are coalesced.
    queueMicrotask(() => this.requestNegotiation());
  }

  /** The underlying connection, for stats and data channels; never for negotiation. */
  get connection(): RTCPeerConnection {
    return this.pc;
  }

  /** Whether the stream with this id is being sent on this connection. */
  isSending(streamId: string): boolean {
    return this.sendersByStream.has(streamId);
  }

  /** Starts sending every track of `stream` (stream id = resource id). A repeat is a no-op. */
  sendStream(stream: MediaStream): void {
    if (this.closed || this.sendersByStream.has(stream.id)) return;
    const senders = stream.getTracks().map((track) => this.reuseSender(track, stream) ?? this.pc.addTrack(track, stream));
    this.sendersByStream.set(stream.id, senders);
  }

  /**
   * addTrack after removeTrack adds a new m-section every time, so a camera toggled on and off
   * grows the SDP without bound (keks-meet's stale transceivers). Reuse a
   * transceiver we sent on before and that is now idle: same kind, no track, not stopped.
   */
  private reuseSender(track: MediaStreamTrack, stream: MediaStream): RTCRtpSender | undefined {
    const idle = this.pc.getTransceivers().find(
      (t) =>
        this.usedTransceivers.has(t) &&
        !t.sender.track &&
        t.receiver.track.kind === track.kind &&
        t.currentDirection !== "stopped" &&
        (t.direction === "recvonly" || t.direction === "inactive"),
    );
    // setStreams carries the new stream id (= resource id) into the SDP; without it, reuse would
    // announce the track under the old id.
    if (!idle || typeof idle.sender.setStreams !== "function") return undefined;
    void idle.sender.replaceTrack(track).catch((error: unknown) => this.log("warn", "replaceTrack failed", { error: String(error) }));
    idle.sender.setStreams(stream);
    idle.direction = "sendrecv";
    // Browsers fire negotiationneeded for the direction change; werift does not. Asking
    // ourselves is harmless where it does fire: requests are coalesced.
    queueMicrotask(() => this.requestNegotiation());
    return idle.sender;
  }

  /** Stops sending a stream: its tracks leave the connection (renegotiates). */
  stopStream(streamId: string): void {
    const senders = this.sendersByStream.get(streamId);
    if (!senders) return;
    this.sendersByStream.delete(streamId);
    if (this.closed) return;
    for (const sender of senders) {
      const transceiver = this.pc.getTransceivers().find((t) => t.sender === sender);
      if (transceiver) this.usedTransceivers.add(transceiver);
      this.pc.removeTrack(sender);
    }
  }

  createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
    return this.pc.createDataChannel(label, init);
  }

  /** Applies an offer, answer or ICE candidate from the peer. Never throws. */
  handleSignal(message: SignalMessage): Promise<void> {
    return this.enqueue(`handle ${message.type}`, async () => {
      switch (message.type) {
        case "offer":
        case "answer":
          await this.applyDescription({ type: message.type, sdp: message.sdp });
          return;
        case "ice_candidate":
          await this.applyCandidate(message.candidate);
          return;
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopPathSampling();
    clearTimeout(this.recoveryTimer);
    this.sendersByStream.clear();
    this.pc.close();
    this.events.removeAll();
  }

  private handleConnectionState(state: RTCPeerConnectionState): void {
    clearTimeout(this.recoveryTimer);
    this.recoveryTimer = undefined;
    switch (state) {
      case "connected":
        this.restartsWithoutSuccess = 0;
        this.setFailure(undefined);
        this.startPathSampling();
        return;
      case "failed":
        this.stopPathSampling();
        this.setFailure(this.diagnosis.diagnose(this.describeIceServers()));
        this.scheduleRestart(this.retryDelay());
        return;
      case "disconnected":
        this.scheduleRestart(ICE_RECOVERY.disconnectedMs);
        return;
      case "connecting":
        this.scheduleRestart(ICE_RECOVERY.stuckConnectingMs + this.retryDelay());
        return;
      default:
        this.stopPathSampling();
    }
  }

  private retryDelay(): number {
    const delays = ICE_RECOVERY.retryDelaysMs;
    return delays[Math.min(this.restartsWithoutSuccess, delays.length - 1)] ?? 0;
  }

  private scheduleRestart(delayMs: number): void {
    this.recoveryTimer = setTimeout(() => {
      this.recoveryTimer = undefined;
      const state = this.pc.connectionState;
      if (state === "connecting") this.noteStuck();
      if (state === "failed" || state === "disconnected" || state === "connecting") this.restartIce();
    }, delayMs);
  }

  /**
   * A connection stuck in "connecting" may never reach "failed": each restart starts ICE's checks
   * over. When the servers themselves told us what is wrong (TURN refused our credentials or did
   * not answer, STUN went unanswered), say so now rather than after a failure that may never come.
   * Guesses ("no-turn", "unknown") wait for a real failure: a stuck NAT race often clears on the
   * next restart.
   */
  private noteStuck(): void {
    const cause = this.diagnosis.diagnose(this.describeIceServers());
    if (EVIDENT_CAUSES.has(cause)) this.setFailure(cause);
  }

  private setFailure(failure: IceFailureCause | undefined): void {
    if (this.failureValue === failure) return;
    this.failureValue = failure;
    this.events.emit("failure", failure);
  }

  private startPathSampling(): void {
    if (this.pathTimer !== undefined) return;
    void this.samplePath();
    this.pathTimer = setInterval(() => void this.samplePath(), PATH_SAMPLE_MS);
  }

  private stopPathSampling(): void {
    if (this.pathTimer !== undefined) clearInterval(this.pathTimer);
    this.pathTimer = undefined;
    if (this.pathValue !== undefined) {
      this.pathValue = undefined;
      this.events.emit("path", undefined);
    }
  }

  private async samplePath(): Promise<void> {
    let path: ConnectionPath | undefined;
    try {
      const reports: StatsLike[] = [];
      (await this.pc.getStats()).forEach((report: StatsLike) => reports.push(report));
      path = connectionPathFromStats(reports);
    } catch (error) {
      this.log("debug", "could not read connection statistics", { error: String(error) });
      return;
    }
    if (this.closed || this.pathTimer === undefined || !pathChanged(this.pathValue, path)) return;
    this.pathValue = path;
    this.events.emit("path", path);
  }

  private enqueue(step: string, operation: () => Promise<void>): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.closed) return;
      try {
        await operation();
      } catch (error) {
        if (this.closed) return;
        const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.log("warn", "negotiation step failed", { step, error: text });
        this.events.emit("negotiation-failed", { step, error: text });
      }
    };
    this.chain = this.chain.then(run);
    return this.chain;
  }

  private requestNegotiation(): void {
    // Coalesce: one offer at a time, only from stable. A change made meanwhile is picked up by
    // the replay in onsignalingstatechange.
    this.negotiationWanted = true;
    if (this.pc.signalingState !== "stable") return;
    void this.enqueue("offer", async () => {
      if (!this.negotiationWanted || this.pc.signalingState !== "stable") return;
      this.negotiationWanted = false;
      this.holdingCandidates = true;
      await this.pc.setLocalDescription();
      this.noteFingerprints();
      const description = this.pc.localDescription;
      if (!description || description.type !== "offer") return;
      await this.send({ type: "offer", sdp: description.sdp });
      this.milestone("offer-sent");
      this.releaseCandidates();
    });
  }

  private async applyDescription(description: { type: "offer" | "answer"; sdp: string }): Promise<void> {
    const pc = this.pc;
    if (description.type === "answer") {
      if (pc.signalingState !== "have-local-offer") {
        this.log("debug", "ignored an answer that matches no offer of ours", { state: pc.signalingState });
        return;
      }
      this.milestone("answer-received");
      await pc.setRemoteDescription(description);
      this.noteFingerprints();
      await this.flushRemoteCandidates();
      return;
    }
    this.milestone("offer-received");
    const collision = pc.signalingState !== "stable";
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) {
      this.log("debug", "ignored a colliding offer (impolite side)");
      return;
    }
    if (collision) {
      // Explicit rollback: werift's implicit one leaves duplicate transceivers behind. Our own
      // offer is lost, so negotiate again once the peer's offer is answered.
      await pc.setLocalDescription({ type: "rollback" });
      this.negotiationWanted = true;
    }
    try {
      await pc.setRemoteDescription(description);
      await this.flushRemoteCandidates();
      this.holdingCandidates = true;
      await pc.setLocalDescription();
    } catch (error) {
      // A bad offer must not leave us stuck in have-remote-offer, refusing every later offer.
      if (pc.signalingState === "have-remote-offer") await pc.setRemoteDescription({ type: "rollback" });
      throw error;
    }
    this.noteFingerprints();
    const answer = pc.localDescription;
    if (!answer || answer.type !== "answer") return;
    await this.send({ type: "answer", sdp: answer.sdp });
    this.milestone("answer-sent");
    this.releaseCandidates();
  }

  /**
   * Reads the fingerprints of both current descriptions (a rollback leaves the last ones: the
   * certificates of a connection never change) and says so when they did.
   */
  private noteFingerprints(): void {
    const read = (description: RTCSessionDescription | null, previous: readonly string[] | undefined) => {
      const found = description ? dtlsFingerprints(description.sdp) : [];
      return found.length > 0 ? found : previous;
    };
    const before = this.fingerprintsValue;
    const local = read(this.pc.localDescription, before.local);
    const remote = read(this.pc.remoteDescription, before.remote);
    const same = (a: readonly string[] | undefined, b: readonly string[] | undefined) => (a && b ? sameFingerprints(a, b) : a === b);
    if (same(local, before.local) && same(remote, before.remote)) return;
    this.fingerprintsValue = { local, remote };
    this.events.emit("fingerprints", this.fingerprintsValue);
  }

  private async applyCandidate(candidate: IceCandidateInfo): Promise<void> {
    if (!this.pc.remoteDescription) {
      if (this.pendingRemoteCandidates.length >= MAX_PENDING_REMOTE_CANDIDATES) {
        this.log("warn", "dropped an ICE candidate: too many before any description");
        return;
      }
      this.pendingRemoteCandidates.push(candidate);
      return;
    }
    try {
      await this.pc.addIceCandidate(toCandidateInit(candidate));
    } catch (error) {
      // Candidates of an offer we ignored (impolite side of a collision) are expected to fail.
      if (!this.ignoreOffer) throw error;
    }
  }

  private async flushRemoteCandidates(): Promise<void> {
    const pending = this.pendingRemoteCandidates.splice(0);
    for (const candidate of pending) {
      try {
        await this.pc.addIceCandidate(toCandidateInit(candidate));
      } catch (error) {
        this.log("debug", "a buffered ICE candidate did not apply", { error: String(error) });
      }
    }
  }

  private handleLocalCandidate(candidate: RTCIceCandidate | null): void {
    // End-of-candidates (null) is not sent: keks-meet does not send it either.
    if (!candidate || !candidate.candidate) return;
    this.diagnosis.noteLocalCandidate(candidate.candidate);
    const info: IceCandidateInfo = {
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? null,
      sdpMLineIndex: candidate.sdpMLineIndex ?? null,
      usernameFragment: candidate.usernameFragment ?? null,
    };
    if (this.holdingCandidates) this.heldCandidates.push(info);
    else this.sendCandidate(info);
  }

  private releaseCandidates(): void {
    this.holdingCandidates = false;
    for (const info of this.heldCandidates.splice(0)) this.sendCandidate(info);
  }

  private sendCandidate(candidate: IceCandidateInfo): void {
    this.send({ type: "ice_candidate", candidate }).catch((error: unknown) => {
      this.log("warn", "could not send an ICE candidate", { error: String(error) });
    });
  }
}

function toCandidateInit(candidate: IceCandidateInfo): RTCIceCandidateInit {
  return {
    candidate: candidate.candidate,
    sdpMid: candidate.sdpMid ?? null,
    sdpMLineIndex: candidate.sdpMLineIndex ?? null,
    usernameFragment: candidate.usernameFragment ?? null,
  };
}

function stopTransceiver(transceiver: RTCRtpTransceiver): void {
  // Not every implementation has stop() (older werift); leaving the track unattached is enough there.
  if (typeof transceiver.stop === "function") transceiver.stop();
}
