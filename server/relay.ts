// The signaling relay behind /signaling: admits sockets (socket caps), gives each a random id and
// a Connection, routes the rooms' packets to connections (encoded once per fan-out), pings every
// socket on an interval, and closes everything on shutdown. Knows nothing of HTTP.

import { addressKey } from "./address-key.js";
import { WriteCoalescer, type Corkable, type OutboxPolicy } from "./outbox.js";
import type { WebSocket } from "ws";
import type { ClientboundPacket, ClientId } from "../common/wire/packets.js";
import { CloseCode, CloseReason } from "./close-codes.js";
import type { LimitsConfig } from "./config.js";
import { CLOSE_GRACE_MS, Connection, encodeFrame, type ConnectionHost } from "./connection.js";
import { IdAllocator } from "./ids.js";
import { AddressCounter } from "./limits.js";
import type { Logger, Tagger } from "./log.js";
import { Rooms } from "./rooms.js";
import { startSweep } from "./sweep.js";
import type { TurnMinter } from "./turn-credentials.js";

export interface SignalingRelayOptions {
  readonly log: Logger;
  readonly tag: Tagger;
  /** Sent in `init`, e.g. "meshmeet 0.1.0". */
  readonly version: string;
  /** Mints TURN credentials for members; null or absent when [turn] is not configured. */
  readonly turn?: TurnMinter | null;
}

export interface SignalingStats {
  readonly sockets: number;
  readonly rooms: number;
  readonly watchedHashes: number;
}

export class SignalingRelay implements ConnectionHost {
  readonly rooms: Rooms;
  readonly log: Logger;
  readonly tag: Tagger;
  readonly version: string;
  readonly turn: TurnMinter | null;
  readonly outboxPolicy: OutboxPolicy;
  private readonly ids = new IdAllocator();
  private readonly addresses = new AddressCounter();
  /**
   * Connections whose socket is not closed yet, by id: the routes for fan-out (a closing
   * connection drops what it is sent), the ids in use, and what the sweeps walk. One map entry
   * per socket for all three.
   */
  private readonly live = new Map<ClientId, Connection>();
  private readonly isLive = (id: ClientId): boolean => this.live.has(id);
  /** Sockets refused by a cap, until their close completes. */
  private readonly refused = new Set<WebSocket>();
  /** While closing: resolves once every socket is closed. */
  private drained: (() => void) | null = null;
  private readonly heartbeatTimer: NodeJS.Timeout;
  /**
   * One sweep for all sockets instead of a timer each: a Node timer costs a few hundred bytes per
   * idle socket (the relay's memory goal is within 10 % of a bare ws forwarder's). Each socket is
   * checked every fifth of the idle timeout (at most every 5 s), so a silent socket closes within
   * 120 % of it.
   */
  private readonly idleSweepTimer: NodeJS.Timeout;

  constructor(
    readonly limits: LimitsConfig,
    options: SignalingRelayOptions,
  ) {
    this.log = options.log;
    this.tag = options.tag;
    this.version = options.version;
    this.turn = options.turn ?? null;
    this.outboxPolicy = { maxBufferedBytes: limits.maxSendBufferBytes, coalescer: new WriteCoalescer() };
    this.rooms = new Rooms(limits, (recipients, packet) => this.deliver(recipients, packet));
    // Each socket is pinged once per interval, the pings spread over it (see sweep.ts).
    this.heartbeatTimer = startSweep(this.live, limits.pingIntervalSeconds * 1000, (connection) => connection.heartbeat());
    const sweepMs = Math.min(5_000, (limits.idleTimeoutSeconds * 1000) / 5);
    this.idleSweepTimer = startSweep(this.live, sweepMs, (connection) => {
      connection.checkIdle(performance.now());
      // The same sweep renews TURN credentials: a minute of margin is far more than 5 s.
      connection.renewTurnCredentials(Date.now());
    });
  }

  /**
   * Takes an upgraded socket from `address` (already allowed by origin). `wantsTurnCredentials`:
   * the client asked for turn_credentials packets in the URL.
   */
  accept(socket: WebSocket, address: string, transport?: Corkable, wantsTurnCredentials = false): void {
    const addressTag = this.tag(address);
    if (this.live.size >= this.limits.maxSockets) {
      this.log.warn("limit", { limit: "max_sockets", address: addressTag });
      this.refuse(socket, CloseReason.relayFull);
      return;
    }
    if (!this.addresses.tryAdd(addressKey(address), this.limits.maxSocketsPerIp)) {
      this.log.warn("limit", { limit: "max_sockets_per_ip", address: addressTag });
      this.refuse(socket, CloseReason.addressFull);
      return;
    }
    const id = this.ids.allocate(this.isLive);
    let connection: Connection;
    try {
      connection = new Connection(id, address, socket, this, transport, wantsTurnCredentials);
    } catch (error) {
      this.addresses.remove(addressKey(address));
      throw error;
    }
    this.rooms.add(id);
    this.live.set(id, connection);
    this.log.info("connect", { id, address: addressTag });
  }

  detach(connection: Connection, clean: boolean): void {
    // Its id is released only once it is closed, so no other connection can have it yet.
    if (this.live.get(connection.id) !== connection) return;
    const left = this.rooms.remove(connection.id, clean);
    if (left !== null) this.log.info("leave", { id: connection.id, room: this.tag(left) });
  }

  closed(connection: Connection, code: number): void {
    if (this.live.get(connection.id) !== connection) return;
    // Out of its room first, whatever happened before: once its id is free, it is another's.
    this.detach(connection, false);
    this.live.delete(connection.id);
    this.addresses.remove(addressKey(connection.address));
    // The code only: a close reason is text the client chose.
    this.log.info("disconnect", { id: connection.id, code });
    this.checkDrained();
  }

  stats(): SignalingStats {
    return { sockets: this.live.size + this.refused.size, ...this.rooms.counts() };
  }

  /** Closes every socket with 1001 and stops the heartbeat; resolves when all are closed. */
  async close(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    clearInterval(this.idleSweepTimer);
    const drained = new Promise<void>((resolve) => {
      this.drained = resolve;
    });
    for (const connection of [...this.live.values()]) connection.close(CloseCode.goingAway, CloseReason.shuttingDown);
    this.checkDrained();
    await drained;
  }

  private checkDrained(): void {
    if (this.drained !== null && this.live.size === 0 && this.refused.size === 0) this.drained();
  }

  /** One encoding per packet, whatever the number of recipients. */
  private deliver(recipients: readonly ClientId[], packet: ClientboundPacket): void {
    const frame = encodeFrame(packet);
    for (const id of recipients) this.live.get(id)?.send(frame);
  }

  /** Closes a socket that never became a connection, telling the client why (1013). */
  private refuse(socket: WebSocket, reason: string): void {
    this.refused.add(socket);
    // A refused client that misbehaves only hastens its close; nothing to report.
    socket.on("error", () => {});
    const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    timer.unref();
    socket.once("close", () => {
      clearTimeout(timer);
      this.refused.delete(socket);
      this.checkDrained();
    });
    socket.close(CloseCode.tryAgainLater, reason);
  }
}
