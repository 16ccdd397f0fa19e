// One signaling socket: charges each frame against the socket's rates, parses it, hands it to the
// rooms, and turns every refusal into an `error` packet paid from an error budget. It owns the
// socket's timers and its bounded outbox. It never touches another socket: fan-out goes through
// the rooms' deliver callback (relay.ts), closing is always this socket's own.

import type { RawData, WebSocket } from "ws";
import type { ClientboundPacket, ClientId, RelayErrorCode, ServerboundPacket } from "../common/wire/packets.js";
import { encodeClientbound } from "../common/wire/encode.js";
import { parseServerbound } from "../common/wire/parse.js";
import { CloseCode, CloseReason } from "./close-codes.js";
import type { LimitsConfig } from "./config.js";
import { SocketAllowance } from "./limits.js";
import type { Logger, Tagger } from "./log.js";
import { Outbox, type Corkable, type OutboxPolicy } from "./outbox.js";
import type { RoomError, Rooms } from "./rooms.js";
import { mintTurnCredential, TURN_RENEW_BEFORE_EXPIRY_S, type TurnMinter } from "./turn-credentials.js";

/**
 * How long a socket we close may take to finish the closing handshake before it is cut off.
 * A slow reader may never read our close frame, and ws would wait 30 s.
 */
export const CLOSE_GRACE_MS = 2000;

/** What a connection needs from the relay that owns it. */
export interface ConnectionHost {
  readonly limits: LimitsConfig;
  readonly rooms: Rooms;
  readonly log: Logger;
  readonly tag: Tagger;
  readonly version: string;
  /** Mints TURN credentials for sockets in a room; null when [turn] is not configured. */
  readonly turn: TurnMinter | null;
  /** Send buffer limit and write coalescing, shared by every connection. */
  readonly outboxPolicy: OutboxPolicy;
  /** Stop routing to this connection and take it out of its room. Idempotent. */
  /** `clean`: the client closed its socket normally (1000/1001) itself, rather than being lost or cut off. */
  detach(connection: Connection, clean: boolean): void;
  /** The socket is closed; called once. */
  closed(connection: Connection, code: number): void;
}

export function encodeFrame(packet: ClientboundPacket): Buffer {
  return Buffer.from(encodeClientbound(packet), "utf8");
}

function frameBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * The property of a socket that holds its Connection. The socket's listeners are the same four
 * functions for every socket, each finding its connection through the socket it is called on,
 * rather than four closures per socket (about 250 bytes each socket keeps alive). The relay's
 * socket class declares the property, so it takes no extra storage.
 */
export const CONNECTION_OF_SOCKET: unique symbol = Symbol("connection");

/** A socket carrying its connection (any object can: the property is added if not declared). */
interface OwnedSocket {
  [CONNECTION_OF_SOCKET]?: Connection;
}

function connectionOf(socket: unknown): Connection | undefined {
  return (socket as OwnedSocket)[CONNECTION_OF_SOCKET];
}

/**
 * Per-socket state is kept small: the relay's memory goal is within 10 % of a bare ws
 * forwarder's per idle socket, so what every socket needs is shared (limits, policy, clock).
 * A connection is its socket's allowance (inbound rates and error budget) by inheritance rather
 * than by holding one: one object fewer per socket.
 */
export class Connection extends SocketAllowance {
  private readonly outbox: Outbox;
  /** performance.now() of the last message; the relay's idle sweep compares against it. */
  private lastMessageAt = performance.now();
  private terminateTimer: NodeJS.Timeout | undefined;
  private hasAnsweredPing = true;
  /** Date.now() at which this socket needs a fresh TURN credential; null while it gets none. */
  private turnRenewAtMs: number | null = null;
  private isClosing = false;

  constructor(
    readonly id: ClientId,
    /** The client's address, for the per-address count. */
    readonly address: string,
    private readonly socket: WebSocket,
    private readonly host: ConnectionHost,
    transport?: Corkable,
    /** The client asked for turn_credentials packets (keks-meet clients never do). */
    private readonly wantsTurnCredentials = false,
  ) {
    super(host.limits);
    this.outbox = new Outbox(socket, host.outboxPolicy, transport);

    (socket as OwnedSocket)[CONNECTION_OF_SOCKET] = this;
    socket.on("message", Connection.onMessage);
    socket.on("pong", Connection.onPong);
    socket.on("error", Connection.onError);
    socket.on("close", Connection.onClose);
    this.sendPacket({ type: "init", yourId: id, version: host.version });
  }

  /** Sends an encoded frame (shared by all recipients of a fan-out); dropped once closing. */
  send(frame: Buffer): void {
    if (this.outbox.send(frame) === "overflow") this.handleOverflow();
  }

  /** Called every ping interval: drops the peer if the previous ping went unanswered. */
  heartbeat(): void {
    this.guard(() => {
      if (this.isClosing) return;
      if (!this.hasAnsweredPing) {
        this.host.log.warn("limit", { id: this.id, limit: "ping_timeout" });
        this.terminate();
        return;
      }
      this.hasAnsweredPing = false;
      this.socket.ping();
    });
  }

  /** Starts the closing handshake; the socket is cut off if it does not finish in time. */
  close(code: CloseCode, reason: string): void {
    if (this.isClosing) return;
    this.beginClosing();
    this.socket.close(code, reason);
    this.startTerminateTimer();
  }

  /** Drops the TCP connection without a closing handshake (the peer is gone or not reading). */
  terminate(): void {
    if (!this.isClosing) this.beginClosing();
    this.socket.terminate();
  }

  private startTerminateTimer(): void {
    this.terminateTimer = setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS);
    this.terminateTimer.unref();
  }

  private beginClosing(): void {
    this.isClosing = true;
    this.outbox.stop();
    // Later, not now: we may be inside another socket's fan-out, and leaving the room fans out too.
    queueMicrotask(() => this.guardDetach());
  }

  private guardDetach(): void {
    try {
      // We started closing (a limit, a shutdown): for the others the client is lost, not gone.
      this.host.detach(this, false);
    } catch (error) {
      // Nothing to close any more (this socket is already closing); a bug is logged, not thrown,
      // because a throw from a microtask would take the whole process down.
      this.host.log.error("detach_failed", { id: this.id, error: errorMessage(error) });
    }
  }

  private static onMessage(this: unknown, data: RawData, isBinary: boolean): void {
    const connection = connectionOf(this);
    if (connection === undefined) return;
    try {
      connection.handleMessage(data, isBinary);
    } catch (error) {
      connection.handlerFailed(error);
    }
  }

  private static onPong(this: unknown): void {
    const connection = connectionOf(this);
    if (connection !== undefined) connection.hasAnsweredPing = true;
  }

  private static onError(this: unknown, error: Error): void {
    connectionOf(this)?.handleSocketError(error);
  }

  private static onClose(this: unknown, code: number): void {
    connectionOf(this)?.handleClose(code);
  }

  /** Runs a handler; an exception closes this socket only (1011) and is logged. */
  private guard(handler: () => void): void {
    try {
      handler();
    } catch (error) {
      this.handlerFailed(error);
    }
  }

  private handlerFailed(error: unknown): void {
    this.host.log.error("handler_failed", { id: this.id, error: errorMessage(error) });
    if (!this.isClosing) this.close(CloseCode.internalError, CloseReason.internalError);
  }

  private handleMessage(data: RawData, isBinary: boolean): void {
    if (this.isClosing) return;
    // Only messages count as activity: pongs answer the relay's own pings, so counting them
    // would keep any socket whose TCP stack is alive open forever.
    this.lastMessageAt = performance.now();
    const frame = frameBytes(data);
    const hit = this.charge(frame.length);
    if (hit !== null) {
      this.host.log.warn("limit", { id: this.id, limit: hit });
      this.reject("rate_limited", hit === "message_rate" ? "too many messages per second" : "too many bytes per second");
      return;
    }
    if (isBinary) {
      this.reject("binary_frame", "the relay accepts text frames only");
      return;
    }
    const packet = parseServerbound(frame.toString("utf8"));
    if (!packet.ok) {
      this.reject("malformed", packet.error.message);
      return;
    }
    this.dispatch(packet.value);
  }

  private dispatch(packet: ServerboundPacket): void {
    const { rooms } = this.host;
    switch (packet.type) {
      case "ping":
        return;
      case "join": {
        const outcome = rooms.join(this.id, packet.hash);
        if (!outcome.ok) return this.rejectRoom(outcome.error);
        const { left, joined, members } = outcome.value;
        if (left !== null) this.host.log.info("leave", { id: this.id, room: this.host.tag(left) });
        if (joined !== null) this.host.log.info("join", { id: this.id, room: this.host.tag(joined), members });
        // Credentials only for members: a socket that never joins gets nothing to relay with.
        if (joined !== null) this.sendTurnCredentials(Date.now());
        else this.turnRenewAtMs = null;
        return;
      }
      case "relay": {
        const sent = rooms.relay(this.id, packet.recipient, packet.message);
        if (!sent.ok) this.rejectRoom(sent.error);
        return;
      }
      case "watch_rooms": {
        const watched = rooms.watch(this.id, packet.hashes);
        if (!watched.ok) this.rejectRoom(watched.error);
        return;
      }
    }
  }

  private rejectRoom(error: RoomError): void {
    const { limits } = this.host;
    switch (error) {
      case "room_full":
        this.host.log.info("limit", { id: this.id, limit: "room_full" });
        return this.reject(error, `the room is full (${limits.maxRoomMembers} members)`);
      case "too_many_watches":
        this.host.log.info("limit", { id: this.id, limit: "too_many_watches" });
        return this.reject(error, `at most ${limits.maxWatchedRooms} rooms can be watched`);
      case "not_in_room":
        return this.reject(error, "relay while in no room");
      case "unknown_recipient":
        return this.reject(error, "the recipient is not in your room");
    }
  }

  /** Sends an error packet, paid from the error budget; an empty budget closes the socket. */
  private reject(code: RelayErrorCode, message: string): void {
    if (!this.takeError()) {
      this.host.log.warn("limit", { id: this.id, limit: "error_budget" });
      this.close(CloseCode.policyViolation, CloseReason.errorBudget);
      return;
    }
    this.sendPacket({ type: "error", code, message });
  }

  private sendPacket(packet: ClientboundPacket): void {
    this.send(encodeFrame(packet));
  }

  private sendTurnCredentials(nowMs: number): void {
    const { turn } = this.host;
    if (turn === null || !this.wantsTurnCredentials) return;
    const packet = mintTurnCredential(turn, nowMs);
    this.turnRenewAtMs = (packet.expiresAt - TURN_RENEW_BEFORE_EXPIRY_S) * 1000;
    this.sendPacket(packet);
  }

  /** Called by the relay's sweep: a member whose TURN credential expires soon gets a new one. */
  renewTurnCredentials(nowMs: number): void {
    this.guard(() => {
      if (this.isClosing || this.turnRenewAtMs === null || nowMs < this.turnRenewAtMs) return;
      this.sendTurnCredentials(nowMs);
    });
  }

  /** Called by the relay's idle sweep; closes the socket if it has been silent too long. */
  checkIdle(now: number): void {
    this.guard(() => {
      if (this.isClosing || now - this.lastMessageAt < this.host.limits.idleTimeoutSeconds * 1000) return;
      this.host.log.info("limit", { id: this.id, limit: "idle_timeout" });
      this.close(CloseCode.idleTimeout, CloseReason.idleTimeout);
    });
  }

  private handleOverflow(): void {
    this.host.log.warn("limit", { id: this.id, limit: "send_buffer", bufferedBytes: this.outbox.bufferedBytes });
    this.close(CloseCode.slowReader, CloseReason.slowReader);
  }

  private handleSocketError(error: Error): void {
    // ws reports protocol violations (oversized or non-UTF-8 frames, bad opcodes) here and closes
    // the socket itself; its messages are its own, never the client's data.
    const code = "code" in error && typeof error.code === "string" ? error.code : null;
    if (code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
      this.host.log.warn("limit", { id: this.id, limit: "max_frame_bytes" });
    } else {
      this.host.log.warn("socket_error", { id: this.id, code, error: error.message });
    }
    if (this.isClosing) return;
    this.beginClosing();
    this.startTerminateTimer();
  }

  private handleClose(code: number): void {
    clearTimeout(this.terminateTimer);
    // A close handshake the client started (1005: a close frame without a code) is a deliberate
    // leave; 1006 (no close frame) or any close we started means the client was lost or cut off.
    const clean = !this.isClosing && (code === CloseCode.normal || code === CloseCode.goingAway || code === 1005);
    this.isClosing = true;
    this.outbox.stop();
    // We are inside the socket's close event: a throw here would end the process. `closed` is
    // called whatever detach did: the relay's shutdown waits for it.
    try {
      this.host.detach(this, clean);
    } catch (error) {
      this.host.log.error("close_failed", { id: this.id, error: errorMessage(error) });
    }
    try {
      this.host.closed(this, code);
    } catch (error) {
      this.host.log.error("close_failed", { id: this.id, error: errorMessage(error) });
    }
  }
}
