// The engine's public face: one meeting. Owns the relay link, one RemotePeer per other member
// (each with a lazily created PeerSession), and our local resources. Callers use intent methods
// (provide, request, sendChat…) and read state through `snapshot()`; state is updated *before*
// the matching event fires, so listeners can read it. Produces no user-facing text: problems
// are codes, the UI words them.
//
// Peers are keyed by a local PeerKey, not by relay id: after a relay reconnect a peer returns
// under a new id, and the session claim in its identify (an extension keks-meet ignores: a key
// only that page holds, signed for the new id; common/crypto/session-claim.ts) ties it back to
// the peer we know, with its running connection and streams. A claim that does not hold for
// its sender makes no one anyone else: that member is simply new. Ids we have not heard
// from yet are "pending" until their first message says who they are (or a short timeout).

import { deriveRoomSecrets, type RoomSecrets } from "../crypto/room-crypto.js";
import { Emitter } from "../events.js";
import { createIdentityPair, identityFromPair, verifyIdentityProof, type IdentityKey } from "../crypto/identity-key.js";
import { safetyCode } from "../crypto/safety-code.js";
import { createSessionClaim, verifySessionClaim, type SessionClaim } from "../crypto/session-claim.js";
import { sameFingerprints } from "../wire/dtls-fingerprints.js";
import { MAX_DISPLAY_PIXELS, MIN_DISPLAY_PIXELS, type ChatContent, type ClientId, type IdentityFields, type ProvideInfo, type RelayMessage, type SessionClaimFields } from "../wire/packets.js";
import { MAX_FILE_BYTES } from "./file-transfer/protocol.js";
import type { ConnectionPath } from "./connection-path.js";
import { summarizeIceServers, type IceFailureCause, type IceServerSummary } from "./ice-diagnosis.js";
import { LinkFitter } from "./link-fitter.js";
import type { PixelSize } from "./link-fit.js";
import { firstOfEach, type MilestoneSink } from "./milestones.js";
import { PeerSession, type SignalMessage } from "./peer-session.js";
import { silentLogger, type Logger, type SocketFactory } from "./platform.js";
import { isSafeImageDataUrl } from "./safe-image.js";
import { RelayLink, type ReconnectPolicy, type RelayStatus } from "./relay-link.js";
import type { OutgoingMessage } from "./signaling.js";

export { isSafeImageDataUrl };

export type PeerKey = string & { readonly __peerKey: true };

export type RemoteResourceState = "available" | "requested" | "active";

export interface RemoteResource {
  readonly info: ProvideInfo;
  readonly state: RemoteResourceState;
  /** Set while active (tracks). */
  readonly stream: MediaStream | undefined;
  /** Latest `data:image/…` preview the provider sent. */
  readonly preview: string | undefined;
}

export interface PeerView {
  readonly key: PeerKey;
  readonly clientId: ClientId;
  /** Undefined until the peer identifies. */
  readonly name: string | undefined;
  /** `away`: the relay lost them; their peer connection may still carry media. */
  readonly presence: "present" | "away";
  readonly connectionState: RTCPeerConnectionState | "none";
  /** How the connection goes (direct, STUN, TURN) and its round-trip time, while connected. */
  readonly path?: ConnectionPath | undefined;
  /** The likely cause, while the connection is failed. */
  readonly failure?: IceFailureCause | undefined;
  /**
   * True once they sent a message without meshmeet's replay stamp: another client (keks-meet),
   * whose messages a hostile relay could replay or re-target unnoticed.
   */
  readonly unprotected?: boolean;
  /** Their identity key and whether it is bound to our connection; undefined while they sent none. */
  readonly identity?: PeerIdentity | undefined;
  readonly resources: ReadonlyMap<string, RemoteResource>;
}

/**
 * A peer's long-lived identity key as it reached us, and what our connection with them says of
 * it (common/crypto/identity-key.ts):
 * - `pending`: no connection yet, or its descriptions are still being exchanged;
 * - `bound`: they signed the very certificates our connection's remote description names, so
 *   the far end of the connection holds this key; `safetyCode` is what both sides show;
 * - `mismatch`: the signature does not hold, or covers other certificates than the connection
 *   has: something between us rewrote the signaling. No code is shown for such a connection.
 */
export interface PeerIdentity {
  readonly key: string;
  readonly binding: "pending" | "bound" | "mismatch";
  readonly safetyCode: string | undefined;
}

/** Something we offer. Tracks: the MediaStream id is the resource id. Channels: see `openChannel`. */
export interface LocalResource {
  readonly info: ProvideInfo;
  readonly stream?: MediaStream;
  /**
   * For channel resources (files, shares): called with a fresh channel labelled `info.id` on each
   * request. `openAnother` opens a further channel with the same label, told apart by its
   * `protocol` (e.g. a share's control channel, so that control never waits behind media).
   */
  readonly openChannel?: (
    channel: RTCDataChannel,
    peer: PeerKey,
    request: Extract<RelayMessage, { type: "request" }>,
    openAnother: (protocol: string) => RTCDataChannel,
  ) => void;
}

export type RoomProblemCode = "relay-refused" | "send-failed" | "negotiation-failed" | "message-dropped" | "bad-offer" | "bad-claim" | "chat-too-large" | "request-refused" | "identity-mismatch";

export interface RoomEvents extends Record<string, unknown> {
  /** Anything in the snapshot changed. */
  changed: void;
  "relay-status": RelayStatus;
  "peer-joined": { readonly key: PeerKey };
  "peer-left": { readonly key: PeerKey; readonly name: string | undefined };
  "peer-away": { readonly key: PeerKey };
  "peer-back": { readonly key: PeerKey };
  "peer-renamed": { readonly key: PeerKey; readonly name: string; readonly previous: string | undefined };
  chat: { readonly from: PeerKey | "self"; readonly content: ChatContent; readonly at: number };
  "resource-provided": { readonly key: PeerKey; readonly id: string };
  "resource-withdrawn": { readonly key: PeerKey; readonly id: string };
  "stream-started": { readonly key: PeerKey; readonly id: string; readonly stream: MediaStream };
  "stream-stopped": { readonly key: PeerKey; readonly id: string };
  /** A peer asked for (or stopped asking for) one of our resources. */
  "local-requested": { readonly key: PeerKey; readonly id: string; readonly active: boolean };
  /** A data channel for a resource we requested from `key` arrived. */
  channel: { readonly key: PeerKey; readonly id: string; readonly channel: RTCDataChannel };
  problem: { readonly code: RoomProblemCode; readonly detail: string };
  /** The connection to `key` failed (it keeps retrying); `cause` is the likely reason. */
  "connection-failed": { readonly key: PeerKey; readonly cause: IceFailureCause };
}

export interface RoomOptions {
  readonly secret: string;
  /** ws(s)://host/signaling */
  readonly signalingUrl: string;
  /**
   * May be a promise (stored preferences still loading): the socket opens at once, and the join
   * waits for it. Joining is what makes others see us, so nothing needs the name before.
   */
  readonly username: string | Promise<string>;
  readonly createPeerConnection: (configuration: RTCConfiguration) => RTCPeerConnection;
  /** May be a promise (the server's /config.json); awaited before joining, like `username`. */
  readonly rtcConfiguration?: RTCConfiguration | Promise<RTCConfiguration>;
  readonly createSocket?: SocketFactory;
  readonly logger?: Logger;
  readonly reconnect?: ReconnectPolicy;
  /** Which provided tracks to request without being asked (the optional_*_default_enable prefs). */
  readonly autoRequest?: (info: ProvideInfo) => boolean;
  /** Pre-derived secrets (e.g. started before the UI loaded). */
  readonly secrets?: Promise<RoomSecrets>;
  /**
   * This browser's long-lived identity (the web client keeps it in IndexedDB). Without one, the
   * Room makes a key for its own lifetime: peers can still compare safety codes, but cannot
   * recognise us in a later meeting.
   */
  readonly identity?: IdentityKey | Promise<IdentityKey>;
  /** Told of the first occurrence of each step of joining (see milestones.ts). */
  readonly milestone?: MilestoneSink;
  /**
   * Whether the video we send is fitted to each receiver's link and tile (link-fitter.ts);
   * asked when a connection is made. Default on.
   */
  readonly fitVideo?: boolean | (() => boolean);
}

/**
 * The label of the data channel `connect()` opens to bring up a connection with nothing to
 * send yet (so that its safety code can be compared). The other side leaves it be, unseen.
 */
export const CONNECT_CHANNEL_LABEL = "meshmeet-connect";

/** How long a peer the relay lost keeps its tile and connection while we wait for it to return. */
export const AWAY_GRACE_MS = 45_000;
/** How long we wait for a new id's first message before treating it as a new peer anyway. */
export const PENDING_ID_TIMEOUT_MS = 3_000;
/** Display names longer than this are cut: a name is a label, not a message. */
export const MAX_NAME_CHARS = 100;
/**
 * Chat text longer than this is dropped: 64 Ki characters is pages of typing; more is a flood,
 * and every member's page keeps and renders each message.
 */
export const MAX_CHAT_TEXT_CHARS = 64 * 1024;
/**
 * Chat images larger than this (as a data URL) are dropped. It is what still fits in the default
 * relay's 8 MiB frame once sealed (sealing in base64 adds a third): a photo of about 4.5 MB, as a
 * keks-meet user may send unscaled (ours scale to 1 MiB). A relay configured with larger frames
 * does not make us hold more per message.
 */
export const MAX_CHAT_IMAGE_CHARS = 6 * 1024 * 1024;
/**
 * Data channels we keep open for one peer's requests of one resource. A file or a share needs
 * one or two per request (a share adds its control channel), and a resume may arrive while the
 * old channel is still closing; more is a peer asking again and again, each request costing us
 * a read of the file (and a hash of everything before its offset).
 */
export const MAX_SERVING_CHANNELS_PER_RESOURCE = 4;
/** Data channels we keep open for all of one peer's requests together. */
export const MAX_SERVING_CHANNELS_PER_PEER = 16;
/** Resource labels are cut here: file names stop at 255 bytes on common file systems. */
export const MAX_LABEL_CHARS = 256;
/**
 * Resources one peer may offer at once: a camera, a microphone, screens and a pile of files fit
 * in 64; more is a flood that every member's page would keep and list.
 */
export const MAX_RESOURCES_PER_PEER = 64;
/** Previews are 256² WebP of a few KiB; far larger ones are not previews. */
export const MAX_PREVIEW_CHARS = 256 * 1024;

interface RemotePeer {
  readonly key: PeerKey;
  clientId: ClientId;
  name: string | undefined;
  /** Their session public key, once a claim of theirs held for the id they spoke under. */
  sessionKey: string | undefined;
  /** It sent something without meshmeet's replay stamp: another client, such as keks-meet. */
  unstamped: boolean;
  /**
   * The identity key they announce and, once they bound it to our connection, the fingerprints
   * they signed and whether that signature held for the id they came under.
   */
  identityClaim: { readonly key: string; readonly fingerprints: readonly string[] | undefined; readonly signed: boolean } | undefined;
  trust: PeerIdentity | undefined;
  /** Bumped on every trust recomputation, so that a slower, older one does not win. */
  trustRound: number;
  /** The local fingerprints we last sent our identity for on this peer's connection. */
  identitySentFor: string | undefined;
  presence: "present" | "away";
  awayTimer: ReturnType<typeof setTimeout> | undefined;
  session: PeerSession | undefined;
  /** Fits the video we send them (RoomOptions.fitVideo), while their connection lasts. */
  fitter: LinkFitter | undefined;
  /** The display size we last told them, per resource of theirs we show ("w×h"). */
  readonly toldSizes: Map<string, string>;
  readonly resources: Map<string, { info: ProvideInfo; state: RemoteResourceState; stream: MediaStream | undefined; preview: string | undefined }>;
  /** Channels we opened for their requests, per resource id, to close on request_stop. */
  readonly servingChannels: Map<string, Set<RTCDataChannel>>;
}

export class Room {
  readonly events: Emitter<RoomEvents>;
  /** Ours for the life of this Room; tells peers it is still us after a reconnect. */
  private readonly claim: Promise<SessionClaim | undefined>;
  /** This browser's identity key (see RoomOptions.identity); undefined where WebCrypto lacks ECDSA. */
  private readonly identityKey: Promise<IdentityKey | undefined>;
  /** The same, once ready: trust is recomputed synchronously where no code needs hashing. */
  private ownIdentity: IdentityKey | undefined;
  /** The room's public hash, once derived: what session claims are signed for. */
  private roomHash: string | undefined;
  private readonly link: RelayLink;
  private readonly peers = new Map<PeerKey, RemotePeer>();
  private readonly byClientId = new Map<ClientId, RemotePeer>();
  private readonly pending = new Map<ClientId, ReturnType<typeof setTimeout>>();
  /** New ids whose first identify carries a claim being checked; what they send meanwhile waits, in order. */
  private readonly verifying = new Map<ClientId, { readonly message: RelayMessage; readonly stamped: boolean }[]>();
  private readonly local = new Map<string, LocalResource>();
  private username = "";
  private rtcConfiguration: RTCConfiguration = {};
  /** The TURN server and credential the relay minted for this socket (renewed before expiry). */
  private mintedTurn: RTCIceServer | undefined;
  private nextKey = 1;
  private closed = false;
  private readonly log: (level: Parameters<Logger>[0], message: string, fields?: Record<string, unknown>) => void;
  private readonly milestone: MilestoneSink;

  constructor(private readonly options: RoomOptions) {
    const logger = options.logger ?? silentLogger;
    this.log = (level, message, fields) => logger(level, "room", message, fields);
    this.milestone = firstOfEach(options.milestone);
    this.events = new Emitter((error) => this.log("error", "event listener failed", { error: String(error) }));
    const secrets = options.secrets ?? deriveRoomSecrets(options.secret);
    this.claim = createSessionClaim().catch((error: unknown) => {
      // Without ECDSA we still meet people; we only cannot be recognised after a reconnect.
      this.log("warn", "no session key: peers will not recognise this page after a reconnect", { error: String(error) });
      return undefined;
    });
    this.identityKey = Promise.resolve(options.identity ?? createIdentityPair().then((pair) => identityFromPair(pair))).catch((error: unknown) => {
      this.log("warn", "no identity key: peers cannot verify this page", { error: String(error) });
      return undefined;
    });
    void this.identityKey.then((identity) => {
      this.ownIdentity = identity;
      for (const peer of this.peers.values()) void this.updateTrust(peer);
    });
    // The socket opens now; the join waits for the secrets, our name and the ICE configuration,
    // all of which are in flight in parallel.
    const readyToJoin = Promise.all([secrets, options.username, options.rtcConfiguration ?? {}]).then(
      ([roomSecrets, username, rtcConfiguration]) => {
        this.roomHash = roomSecrets.hash;
        this.username = username;
        this.rtcConfiguration = rtcConfiguration;
        return roomSecrets;
      },
    );
    this.link = new RelayLink({
      url: options.signalingUrl,
      secrets: readyToJoin,
      ...(options.createSocket ? { createSocket: options.createSocket } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.reconnect ? { reconnect: options.reconnect } : {}),
      milestone: this.milestone,
    });
    this.link.events.on("status", (status) => {
      this.events.emit("relay-status", status);
      this.changed();
    });
    this.link.events.on("joined", () => this.handleJoined());
    this.link.events.on("peer-joined", ({ id }) => this.handlePeerJoined(id));
    this.link.events.on("peer-left", ({ id, clean }) => this.handlePeerLeft(id, clean));
    this.link.events.on("message", ({ sender, message, stamped }) => this.handleMessage(sender, message, stamped));
    this.link.events.on("dropped", ({ sender, reason }) =>
      this.events.emit("problem", { code: "message-dropped", detail: `from ${sender}: ${reason.code}` }),
    );
    this.link.events.on("turn-credentials", ({ server }) => this.handleTurnCredentials(server));
    this.link.events.on("relay-error", ({ code, message }) =>
      this.events.emit("problem", { code: "relay-refused", detail: `${code}: ${message}` }),
    );
  }

  // ---- reading state ------------------------------------------------------------------------

  get relayStatus(): RelayStatus {
    return this.link.status;
  }

  get ownId(): ClientId | undefined {
    return this.link.ownId;
  }

  get name(): string {
    return this.username;
  }

  peerViews(): PeerView[] {
    return [...this.peers.values()].map((peer) => ({
      key: peer.key,
      clientId: peer.clientId,
      name: peer.name,
      presence: peer.presence,
      connectionState: peer.session?.connectionState ?? "none",
      path: peer.session?.path,
      failure: peer.session?.failure,
      unprotected: peer.unstamped,
      identity: peer.trust,
      resources: new Map([...peer.resources].map(([id, r]) => [id, { ...r }])),
    }));
  }

  peer(key: PeerKey): PeerView | undefined {
    return this.peerViews().find((view) => view.key === key);
  }

  localResources(): LocalResource[] {
    return [...this.local.values()];
  }

  /** The ICE configuration new connections get: the page's, plus the relay's TURN credential. */
  get iceConfiguration(): RTCConfiguration {
    const base = this.rtcConfiguration;
    if (!this.mintedTurn) return base;
    return { ...base, iceServers: [...(base.iceServers ?? []), this.mintedTurn] };
  }

  /** What kinds of ICE servers connections have (STUN, TURN, relay only). */
  get iceServers(): IceServerSummary {
    return summarizeIceServers(this.iceConfiguration);
  }

  /**
   * "relay": only TURN candidates, so no peer learns our addresses (the relay_only preference).
   * Applies to running connections too: they gather again under the new policy.
   */
  setIceTransportPolicy(policy: RTCIceTransportPolicy): void {
    if ((this.rtcConfiguration.iceTransportPolicy ?? "all") === policy) return;
    this.rtcConfiguration = { ...this.rtcConfiguration, iceTransportPolicy: policy };
    const configuration = this.iceConfiguration;
    for (const peer of this.peers.values()) {
      peer.session?.setConfiguration(configuration);
      peer.session?.restartIce();
    }
    this.changed();
  }

  /** The network changed (the page came back online): find a new path to everyone. */
  restartIce(): void {
    for (const peer of this.peers.values()) peer.session?.restartIce();
  }

  /** The connection to `key`, for stats (webrtc_debug); undefined before anything was negotiated. */
  connectionOf(key: PeerKey): RTCPeerConnection | undefined {
    return this.peers.get(key)?.session?.connection;
  }

  /** Our identity's public key, once ready: what peers remember us by. */
  async ownIdentityKey(): Promise<string | undefined> {
    return (await this.identityKey)?.publicKey;
  }

  // ---- intents ------------------------------------------------------------------------------

  /**
   * Opens a connection to `key` if there is none (connections otherwise open only when something
   * is requested), so that its safety code can be compared before anything is shared.
   */
  connect(key: PeerKey): void {
    const peer = this.peers.get(key);
    if (!peer || peer.session) return;
    const channel = this.ensureSession(peer).createDataChannel(CONNECT_CHANNEL_LABEL);
    // The channel only makes the connection negotiate; once open it has done its job.
    channel.addEventListener("open", () => channel.close());
  }

  /** Offers a resource to everyone now in the room and everyone who joins later. */
  provide(resource: LocalResource): void {
    this.local.set(resource.info.id, resource);
    this.broadcast({ type: "provide", info: resource.info });
    this.changed();
  }

  /** Withdraws a resource: tells everyone and stops sending it. The caller stops the devices. */
  stopProviding(id: string): void {
    if (!this.local.delete(id)) return;
    this.broadcast({ type: "provide_stop", id });
    for (const peer of this.peers.values()) this.stopServing(peer, id);
    this.changed();
  }

  /**
   * Asks `key` to start sending resource `id`. A track already requested is not asked for
   * twice; a file may be (each request is a new transfer, `offset` resumes one).
   */
  request(key: PeerKey, id: string, options: { readonly offset?: number } = {}): void {
    const peer = this.peers.get(key);
    const resource = peer?.resources.get(id);
    if (!peer || !resource) return;
    if (resource.info.kind === "track" && resource.state !== "available") return;
    resource.state = "requested";
    this.sendTo(peer, options.offset === undefined ? { type: "request", id } : { type: "request", id, offset: options.offset });
    this.changed();
  }

  requestStop(key: PeerKey, id: string): void {
    const peer = this.peers.get(key);
    const resource = peer?.resources.get(id);
    if (!peer || !resource || resource.state === "available") return;
    const wasActive = resource.state === "active";
    resource.state = "available";
    resource.stream = undefined;
    peer.toldSizes.delete(id);
    this.sendTo(peer, { type: "request_stop", id });
    if (wasActive) this.events.emit("stream-stopped", { key, id });
    this.changed();
  }

  /**
   * The UI shows `key`'s stream `id` at this size (device pixels): they may encode it no larger
   * for us. Told only when it changed, and only to meshmeet peers (the extension's key would stop
   * keks-meet's native clients).
   */
  reportDisplaySize(key: PeerKey, id: string, size: PixelSize): void {
    const peer = this.peers.get(key);
    if (!peer || peer.unstamped || peer.resources.get(id)?.state !== "active") return;
    const clamp = (side: number) => Math.min(MAX_DISPLAY_PIXELS, Math.max(MIN_DISPLAY_PIXELS, Math.round(side)));
    const width = clamp(size.width);
    const height = clamp(size.height);
    const told = `${width}x${height}`;
    if (peer.toldSizes.get(id) === told) return;
    peer.toldSizes.set(id, told);
    this.sendTo(peer, { type: "display_size", id, width, height });
  }

  sendChat(content: ChatContent): void {
    this.broadcast({ type: "chat", content });
    this.events.emit("chat", { from: "self", content, at: Date.now() });
  }

  /**
   * Sends a preview of one of our resources to the members whose tile shows it: those not
   * receiving the stream itself (who see it live, and whose tile hides the preview). Each gets
   * it addressed to them alone, so the relay forwards nothing to anyone else.
   */
  sendPreview(id: string, data: string): void {
    if (!this.local.has(id) || this.link.status !== "connected") return;
    for (const peer of this.peers.values()) {
      if (peer.presence !== "present" || peer.session?.isSending(id)) continue;
      this.sendTo(peer, { type: "preview", id, data });
    }
  }

  setName(name: string): void {
    this.username = name;
    this.broadcast(this.identify());
    this.changed();
  }

  watchRooms(hashes: readonly string[]): void {
    this.link.watchRooms(hashes);
  }

  onRoomInfo(listener: (info: { hash: string; userCount: number }) => void): () => void {
    return this.link.events.on("room-info", listener);
  }

  leave(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    this.verifying.clear();
    for (const peer of this.peers.values()) this.dropPeer(peer, false);
    this.link.close();
    this.changed();
  }

  // ---- relay events -------------------------------------------------------------------------

  private handleTurnCredentials(server: RTCIceServer): void {
    this.mintedTurn = server;
    // Running connections keep their allocations; the new credential serves their next gathering.
    const configuration = this.iceConfiguration;
    for (const peer of this.peers.values()) peer.session?.setConfiguration(configuration);
    this.changed();
  }

  private handleJoined(): void {
    // After a reconnect nobody told us who left meanwhile: everyone is away until seen again.
    for (const peer of this.peers.values()) this.markAway(peer);
  }

  private handlePeerJoined(id: ClientId): void {
    // Introduce ourselves first, so a meshmeet peer can match our claim before anything else.
    this.sendToId(id, this.identify());
    for (const resource of this.local.values()) this.sendToId(id, { type: "provide", info: resource.info });
    const known = this.byClientId.get(id);
    if (known) {
      this.markPresent(known);
      return;
    }
    this.pending.set(
      id,
      setTimeout(() => {
        if (this.pending.delete(id)) this.adopt(id, undefined);
      }, PENDING_ID_TIMEOUT_MS),
    );
  }

  private handlePeerLeft(id: ClientId, clean: boolean | undefined): void {
    // Gone before its claim was checked: nothing to adopt (see handleMessage).
    this.verifying.delete(id);
    const timer = this.pending.get(id);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.pending.delete(id);
    }
    const peer = this.byClientId.get(id);
    if (!peer) return;
    // A meshmeet peer with a live connection that did not leave on purpose may only have lost
    // the relay: wait for it. (A keks-meet relay cannot tell us which, hence `!== true`.)
    if (clean !== true && peer.sessionKey && peer.session?.connectionState === "connected") this.markAway(peer);
    else this.dropPeer(peer, true);
  }

  private handleMessage(sender: ClientId, message: RelayMessage, stamped: boolean): void {
    const waiting = this.verifying.get(sender);
    if (waiting) {
      waiting.push({ message, stamped });
      return;
    }
    let peer = this.byClientId.get(sender);
    if (!peer) {
      const timer = this.pending.get(sender);
      if (timer === undefined) return;
      clearTimeout(timer);
      this.pending.delete(sender);
      if (message.type === "identify" && message.claim) {
        // Who this is depends on the claim: hold everything from this id until it is checked.
        const queue = [{ message, stamped }];
        this.verifying.set(sender, queue);
        void this.checkClaim(message.claim, sender).then((key) => {
          if (this.verifying.get(sender) !== queue) return; // left, or we left, meanwhile
          this.verifying.delete(sender);
          const adopted = this.adopt(sender, key);
          for (const held of queue) this.deliver(adopted, held.message, held.stamped);
        });
        return;
      }
      peer = this.adopt(sender, undefined);
    }
    this.deliver(peer, message, stamped);
  }

  private deliver(peer: RemotePeer, message: RelayMessage, stamped: boolean): void {
    if (!stamped && !peer.unstamped) {
      // Only a member can send without the stamp (it needs the room key): another client.
      peer.unstamped = true;
      this.changed();
    }
    this.dispatch(peer, message);
  }

  /** The claim's key if its proof holds for `sender` in this room; else undefined (and a log line). */
  private async checkClaim(claim: SessionClaimFields, sender: ClientId): Promise<string | undefined> {
    const hash = this.roomHash;
    if (hash === undefined) return undefined;
    if (await verifySessionClaim(claim.key, claim.proof, hash, sender)) return claim.key;
    // A copy of someone else's identify, or a broken client: it is a new member, not them.
    this.log("warn", "ignored a session claim that does not hold for its sender", { sender });
    this.events.emit("problem", { code: "bad-claim", detail: `client ${sender} presented a session claim that is not its own` });
    return undefined;
  }

  /** A new id speaks: the peer it is (by a session key whose claim held for this id), or a new one. */
  private adopt(id: ClientId, sessionKey: string | undefined): RemotePeer {
    const returning = sessionKey ? [...this.peers.values()].find((p) => p.sessionKey === sessionKey) : undefined;
    if (returning) {
      this.byClientId.delete(returning.clientId);
      returning.clientId = id;
      this.byClientId.set(id, returning);
      this.markPresent(returning);
      this.log("info", "a peer came back under a new id", { key: returning.key });
      return returning;
    }
    const peer: RemotePeer = {
      key: `p${this.nextKey++}` as PeerKey,
      clientId: id,
      name: undefined,
      sessionKey,
      unstamped: false,
      identityClaim: undefined,
      trust: undefined,
      trustRound: 0,
      identitySentFor: undefined,
      presence: "present",
      awayTimer: undefined,
      session: undefined,
      fitter: undefined,
      toldSizes: new Map(),
      resources: new Map(),
      servingChannels: new Map(),
    };
    this.peers.set(peer.key, peer);
    this.byClientId.set(id, peer);
    this.milestone("first-peer");
    this.events.emit("peer-joined", { key: peer.key });
    this.changed();
    return peer;
  }

  private markAway(peer: RemotePeer): void {
    if (peer.awayTimer !== undefined) clearTimeout(peer.awayTimer);
    peer.awayTimer = setTimeout(() => this.dropPeer(peer, true), AWAY_GRACE_MS);
    if (peer.presence === "away") return;
    peer.presence = "away";
    this.events.emit("peer-away", { key: peer.key });
    this.changed();
  }

  private markPresent(peer: RemotePeer): void {
    if (peer.awayTimer !== undefined) clearTimeout(peer.awayTimer);
    peer.awayTimer = undefined;
    if (peer.presence === "present") return;
    peer.presence = "present";
    this.events.emit("peer-back", { key: peer.key });
    this.changed();
  }

  private dropPeer(peer: RemotePeer, announce: boolean): void {
    if (!this.peers.has(peer.key)) return;
    if (peer.awayTimer !== undefined) clearTimeout(peer.awayTimer);
    this.peers.delete(peer.key);
    if (this.byClientId.get(peer.clientId) === peer) this.byClientId.delete(peer.clientId);
    peer.fitter?.stop();
    peer.session?.close();
    if (!announce) return;
    this.events.emit("peer-left", { key: peer.key, name: peer.name });
    this.changed();
  }

  // ---- peer messages ------------------------------------------------------------------------

  private dispatch(peer: RemotePeer, message: RelayMessage): void {
    switch (message.type) {
      case "identify":
        if (message.identity) this.handleIdentity(peer, message.identity);
        return this.handleIdentify(peer, message.username, message.claim);
      case "chat":
        if ("image" in message.content && !isSafeImageDataUrl(message.content.image)) {
          this.log("warn", "dropped a chat image that is not an inline image", { key: peer.key });
          return;
        }
        if ("text" in message.content ? message.content.text.length > MAX_CHAT_TEXT_CHARS : message.content.image.length > MAX_CHAT_IMAGE_CHARS) {
          const what = "text" in message.content ? "chat message" : "chat image";
          this.log("warn", `dropped a ${what} over the size limit`, { key: peer.key });
          this.events.emit("problem", { code: "chat-too-large", detail: `${peer.name ?? "a member"} sent a ${what} too large to show` });
          return;
        }
        this.events.emit("chat", { from: peer.key, content: message.content, at: Date.now() });
        return;
      case "provide":
        return this.handleProvide(peer, message.info);
      case "provide_stop":
        return this.handleProvideStop(peer, message.id);
      case "request":
        return this.handleRequest(peer, message);
      case "request_stop":
        this.stopServing(peer, message.id);
        return;
      case "offer":
      case "answer":
      case "ice_candidate":
        void this.ensureSession(peer).handleSignal(message);
        return;
      case "display_size":
        // Only for a stream we send them; anything else is stale (we stopped) or noise.
        if (peer.session?.isSending(message.id)) peer.fitter?.setDisplaySize(message.id, message);
        return;
      case "preview": {
        const resource = peer.resources.get(message.id);
        if (!resource || message.data.length > MAX_PREVIEW_CHARS || !isSafeImageDataUrl(message.data)) return;
        resource.preview = message.data;
        this.changed();
        return;
      }
    }
  }

  private handleIdentify(peer: RemotePeer, username: string, claim: SessionClaimFields | undefined): void {
    // A peer met before its first claim (e.g. it spoke first with a provide) can still be
    // recognised later, once a claim of its own holds.
    if (claim && !peer.sessionKey) {
      const clientId = peer.clientId;
      void this.checkClaim(claim, clientId).then((key) => {
        if (key && peer.clientId === clientId && !peer.sessionKey) peer.sessionKey = key;
      });
    }
    const name = username.slice(0, MAX_NAME_CHARS);
    // keks-meet re-sends identify freely: only a real change is news.
    if (name === peer.name) return;
    const previous = peer.name;
    peer.name = name;
    this.events.emit("peer-renamed", { key: peer.key, name, previous });
    this.changed();
  }

  /** Checks their identity signature for the id it came under, then what our connection says. */
  private handleIdentity(peer: RemotePeer, identity: IdentityFields): void {
    const binding = identity.binding;
    if (!binding) {
      // Announced only (every identify carries the key): news only if it is another key, and
      // never over a key already bound to our connection, which is the stronger fact.
      if (peer.identityClaim?.key === identity.key || peer.identityClaim?.signed) return;
      peer.identityClaim = { key: identity.key, fingerprints: undefined, signed: false };
      void this.updateTrust(peer);
      return;
    }
    const roomHash = this.roomHash;
    if (roomHash === undefined) return;
    const clientId = peer.clientId;
    void verifyIdentityProof(identity.key, binding.proof, { roomHash, clientId, fingerprints: binding.fingerprints }).then((signed) => {
      if (!this.peers.has(peer.key)) return;
      if (!signed) this.log("warn", "an identity signature does not hold for its sender", { key: peer.key });
      peer.identityClaim = { key: identity.key, fingerprints: binding.fingerprints, signed };
      void this.updateTrust(peer);
    });
  }

  /**
   * Recomputes what we can say of a peer's identity from their claim and our connection. Only a
   * bound key waits (for its code to be hashed): everything else is settled before this returns
   * its promise, so that a name and the key that came with it reach the snapshot together.
   */
  private async updateTrust(peer: RemotePeer): Promise<void> {
    const round = ++peer.trustRound;
    const claim = peer.identityClaim;
    const described = peer.session?.fingerprints;
    const own = this.ownIdentity;
    let next: PeerIdentity | undefined;
    if (!claim) next = undefined;
    else if (!claim.fingerprints) next = { key: claim.key, binding: "pending", safetyCode: undefined };
    else if (!claim.signed) next = { key: claim.key, binding: "mismatch", safetyCode: undefined };
    else if (!own || !described?.local || !described.remote) next = { key: claim.key, binding: "pending", safetyCode: undefined };
    else if (!sameFingerprints(claim.fingerprints, described.remote)) next = { key: claim.key, binding: "mismatch", safetyCode: undefined };
    else {
      const code = await safetyCode({ identityKey: own.publicKey, fingerprints: described.local }, { identityKey: claim.key, fingerprints: described.remote });
      next = { key: claim.key, binding: "bound", safetyCode: code };
    }
    if (round !== peer.trustRound || !this.peers.has(peer.key)) return; // a newer recomputation runs
    const previous = peer.trust;
    if (previous?.key === next?.key && previous?.binding === next?.binding && previous?.safetyCode === next?.safetyCode) return;
    peer.trust = next;
    if (next?.binding === "mismatch" && previous?.binding !== "mismatch") {
      this.events.emit("problem", {
        code: "identity-mismatch",
        detail: `${peer.name ?? "a member"}: the connection's certificate is not the one their identity key signed`,
      });
    }
    this.changed();
  }

  /** Our connection's certificates changed (it was just described): sign for them, re-check theirs. */
  private handleFingerprints(peer: RemotePeer, local: readonly string[] | undefined): void {
    const sentFor = local?.join("\n");
    if (local && sentFor !== peer.identitySentFor) {
      peer.identitySentFor = sentFor;
      this.sendTo(peer, this.identify(local));
    }
    void this.updateTrust(peer);
  }

  private handleProvide(peer: RemotePeer, offered: ProvideInfo): void {
    const info = offered.label !== undefined && offered.label.length > MAX_LABEL_CHARS ? { ...offered, label: offered.label.slice(0, MAX_LABEL_CHARS) } : offered;
    if (info.kind === "file" && (info.size === undefined || info.size > MAX_FILE_BYTES)) {
      // Without a believable size there is no way to show progress or check completeness.
      this.events.emit("problem", { code: "bad-offer", detail: `${peer.name ?? "a peer"} offered a file with no or an impossible size` });
      return;
    }
    const existing = peer.resources.get(info.id);
    if (existing) {
      // A repeat (e.g. after the provider reconnected) updates the description only.
      existing.info = info;
      this.changed();
      return;
    }
    if (peer.resources.size >= MAX_RESOURCES_PER_PEER) {
      this.log("warn", "ignored an offer past the per-peer limit", { key: peer.key, limit: MAX_RESOURCES_PER_PEER });
      this.events.emit("problem", { code: "bad-offer", detail: `${peer.name ?? "a peer"} offered more than ${MAX_RESOURCES_PER_PEER} things at once` });
      return;
    }
    peer.resources.set(info.id, { info, state: "available", stream: undefined, preview: undefined });
    this.events.emit("resource-provided", { key: peer.key, id: info.id });
    if (info.kind === "track" && this.options.autoRequest?.(info)) this.request(peer.key, info.id);
    this.changed();
  }

  private handleProvideStop(peer: RemotePeer, id: string): void {
    const resource = peer.resources.get(id);
    if (!resource) return;
    peer.resources.delete(id);
    if (resource.state === "active") this.events.emit("stream-stopped", { key: peer.key, id });
    this.events.emit("resource-withdrawn", { key: peer.key, id });
    this.changed();
  }

  private handleRequest(peer: RemotePeer, request: Extract<RelayMessage, { type: "request" }>): void {
    const resource = this.local.get(request.id);
    if (!resource) {
      this.log("info", "a peer requested a resource we do not provide", { key: peer.key });
      return;
    }
    const session = this.ensureSession(peer);
    if (resource.stream) {
      if (session.isSending(resource.stream.id)) return; // a repeated request is harmless
      session.sendStream(resource.stream);
    } else if (resource.openChannel) {
      const serving = [...peer.servingChannels.values()].reduce((sum, channels) => sum + channels.size, 0);
      const forThis = peer.servingChannels.get(request.id)?.size ?? 0;
      if (forThis >= MAX_SERVING_CHANNELS_PER_RESOURCE || serving >= MAX_SERVING_CHANNELS_PER_PEER) {
        this.log("warn", "refused a request: too many transfers to this peer at once", { key: peer.key, id: request.id, forThis, serving });
        this.events.emit("problem", { code: "request-refused", detail: `${peer.name ?? "a member"} asked for too many transfers at once` });
        return;
      }
      const open = peer.servingChannels.get(request.id) ?? new Set();
      peer.servingChannels.set(request.id, open);
      const openTracked = (init?: RTCDataChannelInit): RTCDataChannel => {
        const channel = session.createDataChannel(request.id, init);
        open.add(channel);
        channel.addEventListener("close", () => open.delete(channel));
        return channel;
      };
      resource.openChannel(openTracked(), peer.key, request, (protocol) => openTracked({ protocol }));
    }
    this.events.emit("local-requested", { key: peer.key, id: request.id, active: true });
  }

  private stopServing(peer: RemotePeer, id: string): void {
    const wasSending = peer.session?.isSending(id) ?? false;
    peer.session?.stopStream(id);
    peer.fitter?.forget(id);
    const channels = peer.servingChannels.get(id);
    peer.servingChannels.delete(id);
    for (const channel of channels ?? []) channel.close();
    if (wasSending || (channels?.size ?? 0) > 0) this.events.emit("local-requested", { key: peer.key, id, active: false });
  }

  private ensureSession(peer: RemotePeer): PeerSession {
    if (peer.session) return peer.session;
    const ownId = this.link.ownId ?? 0;
    const session = new PeerSession({
      // Both sides derive opposite roles from the same pair of ids.
      polite: ownId > peer.clientId,
      createPeerConnection: () => this.options.createPeerConnection(this.iceConfiguration),
      send: (message: SignalMessage) => this.link.send(message, peer.clientId),
      iceServers: () => this.iceServers,
      milestone: this.milestone,
      ...(this.options.logger ? { logger: this.options.logger } : {}),
    });
    peer.session = session;
    const fit = this.options.fitVideo ?? true;
    if (typeof fit === "function" ? fit() : fit) {
      peer.fitter = new LinkFitter({
        connection: session.connection,
        streamOf: (track) => [...this.local.values()].find((resource) => resource.stream?.getTracks().includes(track))?.info.id,
        ...(this.options.logger ? { logger: this.options.logger } : {}),
      });
    }
    session.events.on("connection-state", (state) => {
      if (state === "connected") this.milestone("ice-connected");
      // Failed and stuck connections restart ICE by themselves (PeerSession).
      if (peer.presence === "away" && (state === "failed" || state === "closed")) this.dropPeer(peer, true);
      this.changed();
    });
    session.events.on("path", () => this.changed());
    session.events.on("fingerprints", ({ local }) => this.handleFingerprints(peer, local));
    session.events.on("failure", (cause) => {
      if (cause !== undefined) this.events.emit("connection-failed", { key: peer.key, cause });
      this.changed();
    });
    session.events.on("negotiation-failed", ({ step, error }) =>
      this.events.emit("problem", { code: "negotiation-failed", detail: `${step}: ${error}` }),
    );
    session.events.on("track", ({ streamId, stream }) => this.handleTrack(peer, streamId, stream));
    session.events.on("data-channel", (channel) => {
      // It only brought the connection up; its opener closes it (see connect). Closing it here
      // as well races that close, which werift's SCTP answers with an unhandled rejection.
      if (channel.label === CONNECT_CHANNEL_LABEL) return;
      const resource = peer.resources.get(channel.label);
      if (!resource || resource.state === "available") {
        this.log("warn", "closed a data channel that matches no request of ours", { key: peer.key });
        channel.close();
        return;
      }
      this.events.emit("channel", { key: peer.key, id: channel.label, channel });
    });
    return session;
  }

  private handleTrack(peer: RemotePeer, streamId: string, stream: MediaStream): void {
    const resource = peer.resources.get(streamId);
    if (!resource || resource.state === "available") {
      this.log("info", "ignored a track for a stream we did not request", { key: peer.key });
      return;
    }
    if (resource.state === "active" && resource.stream === stream) return;
    resource.state = "active";
    resource.stream = stream;
    this.milestone("first-track");
    this.events.emit("stream-started", { key: peer.key, id: streamId, stream });
    this.changed();
  }

  // ---- sending ------------------------------------------------------------------------------

  private broadcast(message: OutgoingMessage): void {
    if (this.link.status !== "connected") return; // peers learn our state again on rejoin
    this.link.send(message).catch((error: unknown) => this.reportSendFailure(error));
  }

  private sendTo(peer: RemotePeer, message: OutgoingMessage): void {
    this.sendToId(peer.clientId, message);
  }

  /**
   * Our identify, signed at send time for the id we then speak under, with our identity key.
   * With `fingerprints` (our side of one peer's connection; sent to that peer only) the key is
   * also bound to that connection.
   */
  private identify(fingerprints?: readonly string[]): OutgoingMessage {
    const username = this.username;
    return async (ownId) => {
      const [claim, identity] = await Promise.all([this.claim, this.identityKey]);
      const roomHash = this.roomHash;
      if (roomHash === undefined) return { type: "identify", username };
      const [proof, identityProof] = await Promise.all([
        claim?.proofFor(roomHash, ownId),
        identity && fingerprints ? identity.sign({ roomHash, clientId: ownId, fingerprints }) : undefined,
      ]);
      return {
        type: "identify",
        username,
        ...(claim && proof ? { claim: { key: claim.key, proof } } : {}),
        ...(identity
          ? { identity: { key: identity.publicKey, ...(fingerprints && identityProof ? { binding: { fingerprints, proof: identityProof } } : {}) } }
          : {}),
      };
    };
  }

  private sendToId(id: ClientId, message: OutgoingMessage): void {
    this.link.send(message, id).catch((error: unknown) => this.reportSendFailure(error));
  }

  private reportSendFailure(error: unknown): void {
    this.events.emit("problem", { code: "send-failed", detail: String(error) });
  }

  private changed(): void {
    this.events.emit("changed", undefined);
  }
}
