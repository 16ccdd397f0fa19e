// One connection to the relay: init, join, relay to one or all, room watches, keep-alive.
// Seals what it sends and opens, validates and sender-checks what it receives; everything
// else learns about the relay through the typed events below.
//
// Ordering: opening is asynchronous (WebCrypto), and engines may finish concurrent decrypts out
// of order. Inbound packets and outbound sends therefore each go through one promise chain, so
// per-sender order — which offer/answer/ICE sequences depend on — is kept in both directions.
//
// Lifecycle: connecting → open (after `init`) → closed. `close()` is idempotent and stops the
// keep-alive timer; reconnecting is the caller's decision (a new SignalingClient).

import type { RoomSecrets } from "../crypto/room-crypto.js";
import { bytesToBase64 } from "../crypto/encoding.js";
import { openRelayMessage, sealRelayMessage, type OpenRelayError } from "../crypto/sealed-relay.js";
import { Emitter } from "../events.js";
import { encodeServerbound } from "../wire/encode.js";
import type { ClientboundPacket, ClientId, RelayErrorCode, RelayMessage, RoomHash } from "../wire/packets.js";
import { parseClientbound } from "../wire/parse.js";
import { ReplayGuard } from "./replay-guard.js";
import { globalSocketFactory, silentLogger, SOCKET_OPEN, type Logger, type SocketFactory, type SocketLike } from "./platform.js";

/**
 * A message, or one built when its turn to go comes, for the id we then speak under (an
 * identify signs it). Built in the send order, so it never overtakes what was sent after it.
 */
export type OutgoingMessage = RelayMessage | ((ownId: ClientId) => Promise<RelayMessage>);

/** keks-meet's client keep-alive period; the relay's idle timeout is sized against it. */
export const PING_INTERVAL_MS = 30_000;

export type DropReason = OpenRelayError | { readonly code: "unknown_sender" | "replayed" | "misdirected"; readonly message: string };

export interface SignalingEvents extends Record<string, unknown> {
  /** `init` arrived; `ownId` is now set. */
  connected: { readonly ownId: ClientId; readonly serverVersion: string };
  /** Our own `client_join` arrived: we are in the room; `members` is empty until others' joins. */
  "room-joined": { readonly hash: RoomHash };
  /** Another client is in (or entered) our room; already in `members`. */
  "peer-joined": { readonly id: ClientId };
  /** A member left; already removed from `members`. `clean`: see the client_leave packet. */
  "peer-left": { readonly id: ClientId; readonly clean: boolean | undefined };
  /** A validated, sender-checked message from a member. One event per key of the envelope. */
  message: {
    readonly sender: ClientId;
    readonly message: RelayMessage;
    /** Stamped against replay and re-targeting (a meshmeet sender); false from keks-meet. */
    readonly stamped: boolean;
  };
  /** A relayed packet that was not delivered upward, and why. */
  dropped: { readonly sender: ClientId; readonly reason: DropReason };
  "room-info": { readonly hash: RoomHash; readonly userCount: number };
  /** A TURN server and a credential for it, minted for this socket (meshmeet relays only). */
  "turn-credentials": { readonly server: RTCIceServer; readonly expiresAt: number };
  /** The relay refused something we sent (meshmeet relays only). */
  "relay-error": { readonly code: RelayErrorCode; readonly message: string };
  /** The socket is gone (by us or by the far end). */
  disconnected: { readonly code: number; readonly reason: string; readonly byUs: boolean };
}

export interface SignalingOptions {
  /** ws(s)://host/signaling */
  readonly url: string;
  readonly createSocket?: SocketFactory;
  readonly logger?: Logger;
  readonly pingIntervalMs?: number;
  /** Shared across the sockets of one RelayLink, so replays across a reconnect are caught too. */
  readonly replayGuard?: ReplayGuard;
}

export class SignalingClient {
  readonly events = new Emitter<SignalingEvents>((error) => this.log("error", "event listener failed", { error: String(error) }));
  private readonly socket: SocketLike;
  private readonly log: (level: Parameters<Logger>[0], message: string, fields?: Record<string, unknown>) => void;
  private ownIdValue: ClientId | undefined;
  private secrets: RoomSecrets | null = null;
  /** Hash of the room we asked to join; own `client_join` confirms it. */
  private pendingHash: RoomHash | null = null;
  private joinedHash: RoomHash | null = null;
  private readonly memberIds = new Set<ClientId>();
  private inbound: Promise<void> = Promise.resolve();
  private outbound: Promise<void> = Promise.resolve();
  /** Our replay stamp's stream: new for every socket, so counters never repeat under one. */
  private readonly stream = bytesToBase64(crypto.getRandomValues(new Uint8Array(12)));
  private sentSeq = 0;
  private readonly replayGuard: ReplayGuard;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private closedByUs = false;
  private isClosed = false;
  private readonly ready: Promise<ClientId>;

  constructor(options: SignalingOptions) {
    const logger = options.logger ?? silentLogger;
    this.log = (level, message, fields) => logger(level, "signaling", message, fields);
    this.replayGuard = options.replayGuard ?? new ReplayGuard();
    this.socket = (options.createSocket ?? globalSocketFactory())(options.url);
    this.ready = new Promise((resolve, reject) => {
      const offConnected = this.events.on("connected", ({ ownId }) => {
        offDisconnected();
        resolve(ownId);
      });
      const offDisconnected = this.events.on("disconnected", ({ code, reason }) => {
        offConnected();
        reject(new Error(`relay connection closed before init (${code} ${reason})`));
      });
    });
    // Nobody may be awaiting `ready` yet; a rejection is also delivered as `disconnected`.
    this.ready.catch(() => {});
    this.socket.addEventListener("open", () => {
      const period = options.pingIntervalMs ?? PING_INTERVAL_MS;
      this.pingTimer = setInterval(() => this.sendRaw(encodeServerbound({ type: "ping" })), period);
    });
    this.socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        this.log("warn", "ignored a non-text frame from the relay");
        return;
      }
      const text = event.data;
      this.inbound = this.inbound.then(() => this.handlePacket(text));
    });
    this.socket.addEventListener("close", ({ code, reason }) => this.handleClose(code, reason));
    // `error` is always followed by `close`, which carries the code; nothing to add here.
    this.socket.addEventListener("error", () => this.log("warn", "relay socket error"));
  }

  /** Resolves with our id once `init` arrives; rejects if the socket closes first. */
  connected(): Promise<ClientId> {
    return this.ready;
  }

  get ownId(): ClientId | undefined {
    return this.ownIdValue;
  }

  /** Ids of the other members of the room we are in. */
  get members(): ReadonlySet<ClientId> {
    return this.memberIds;
  }

  get roomHash(): RoomHash | null {
    return this.joinedHash;
  }

  get isOpen(): boolean {
    return !this.isClosed && this.socket.readyState === SOCKET_OPEN;
  }

  /** Leaves the current room (if any) and joins the one of `secrets`; `null` only leaves. */
  async join(secrets: RoomSecrets | null): Promise<void> {
    await this.ready;
    this.resetRoom();
    this.secrets = secrets;
    this.pendingHash = secrets?.hash ?? null;
    this.sendRaw(encodeServerbound({ type: "join", hash: this.pendingHash }));
  }

  /** Seals and relays one message, in order with every other; `recipient` undefined = every other member. */
  relay(message: OutgoingMessage, recipient?: ClientId): Promise<void> {
    const send = async (): Promise<void> => {
      const ownId = this.ownIdValue;
      const secrets = this.secrets;
      if (ownId === undefined || !secrets) throw new Error("relay before joining a room");
      const built = typeof message === "function" ? await message(ownId) : message;
      const order = { stream: this.stream, seq: ++this.sentSeq, to: recipient ?? null };
      const sealed = await sealRelayMessage(secrets.key, ownId, built, order);
      this.sendRaw(encodeServerbound({ type: "relay", recipient: recipient ?? null, message: sealed }));
    };
    const sent = this.outbound.then(send);
    // The chain must survive one failed send; the caller still sees the failure through `sent`.
    this.outbound = sent.catch(() => {});
    return sent;
  }

  watchRooms(hashes: readonly RoomHash[]): void {
    this.sendRaw(encodeServerbound({ type: "watch_rooms", hashes }));
  }

  close(): void {
    if (this.isClosed) return;
    this.closedByUs = true;
    this.socket.close(1000, "client closed");
    this.stopTimers();
  }

  private sendRaw(text: string): void {
    if (this.socket.readyState !== SOCKET_OPEN) {
      this.log("warn", "dropped an outgoing packet: relay socket not open");
      return;
    }
    this.socket.send(text);
  }

  private resetRoom(): void {
    this.memberIds.clear();
    this.joinedHash = null;
  }

  private stopTimers(): void {
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private handleClose(code: number, reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.stopTimers();
    this.resetRoom();
    this.events.emit("disconnected", { code, reason, byUs: this.closedByUs });
  }

  private async handlePacket(text: string): Promise<void> {
    const parsed = parseClientbound(text);
    if (!parsed.ok) {
      // Unknown packet types are expected from newer relays (keks-meet ignores them too).
      if (parsed.error.code !== "unknown_type") this.log("warn", "ignored a malformed packet from the relay", { error: parsed.error.message });
      return;
    }
    await this.handleClientbound(parsed.value);
  }

  private async handleClientbound(packet: ClientboundPacket): Promise<void> {
    switch (packet.type) {
      case "init":
        if (this.ownIdValue !== undefined) {
          this.log("warn", "ignored a second init from the relay");
          return;
        }
        this.ownIdValue = packet.yourId;
        this.events.emit("connected", { ownId: packet.yourId, serverVersion: packet.version });
        return;
      case "client_join":
        if (packet.id === this.ownIdValue) {
          if (this.pendingHash === null) return;
          this.joinedHash = this.pendingHash;
          this.events.emit("room-joined", { hash: this.pendingHash });
          return;
        }
        // Own join always comes first; a join before it belongs to no room of ours.
        if (this.joinedHash === null || this.memberIds.has(packet.id)) return;
        this.memberIds.add(packet.id);
        this.events.emit("peer-joined", { id: packet.id });
        return;
      case "client_leave":
        // keks-meet relays send the leave twice and to the leaver itself; both are harmless here.
        if (!this.memberIds.delete(packet.id)) return;
        this.events.emit("peer-left", { id: packet.id, clean: packet.clean });
        return;
      case "message":
        await this.handleMessage(packet.sender, packet.message);
        return;
      case "room_info":
        this.events.emit("room-info", { hash: packet.hash, userCount: packet.userCount });
        return;
      case "error":
        this.log("warn", "relay refused a packet", { code: packet.code, message: packet.message });
        this.events.emit("relay-error", { code: packet.code, message: packet.message });
        return;
      case "turn_credentials":
        this.events.emit("turn-credentials", {
          server: { urls: [...packet.urls], username: packet.username, credential: packet.credential },
          expiresAt: packet.expiresAt,
        });
        return;
    }
  }

  private async handleMessage(sender: ClientId, sealed: string): Promise<void> {
    const secrets = this.secrets;
    if (!secrets || !this.memberIds.has(sender)) {
      this.drop(sender, { code: "unknown_sender", message: "message from a client that is not a member of our room" });
      return;
    }
    const opened = await openRelayMessage(secrets.key, sender, sealed);
    if (!opened.ok) {
      this.drop(sender, opened.error);
      return;
    }
    // The room may have changed while we were decrypting.
    if (this.secrets !== secrets || !this.memberIds.has(sender)) return;
    const { order } = opened.value;
    if (order) {
      const verdict = this.replayGuard.admit(order, this.ownIdValue);
      if (verdict !== "fresh") {
        const message =
          verdict === "replayed"
            ? `message ${order.seq} of stream ${order.stream} came again or out of order`
            : `message meant for client ${order.to} was delivered to us`;
        this.drop(sender, { code: verdict, message });
        return;
      }
    }
    if (opened.value.unknownKeys.length > 0) {
      this.log("debug", "ignored unknown relay message keys", { sender, keys: opened.value.unknownKeys.length });
    }
    for (const message of opened.value.messages) this.events.emit("message", { sender, message, stamped: order !== undefined });
  }

  private drop(sender: ClientId, reason: DropReason): void {
    this.log("warn", "dropped a relayed message", { sender, code: reason.code, reason: reason.message });
    this.events.emit("dropped", { sender, reason });
  }
}
