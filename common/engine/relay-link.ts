// A relay connection that comes back by itself. Wraps one SignalingClient at a time: when the
// socket drops (not by us), it waits (exponential backoff with jitter, so a restarted relay is
// not hit by every client at the same instant), opens a new one and joins the same room again.
// Peer connections are not its business: they keep running while the relay is away.
//
// States: connecting → connected → (reconnecting → connected)* → closed.

import type { MilestoneSink } from "./milestones.js";
import type { RoomSecrets } from "../crypto/room-crypto.js";
import { Emitter } from "../events.js";
import type { ClientId, RoomHash } from "../wire/packets.js";
import { silentLogger, type Logger, type SocketFactory } from "./platform.js";
import { ReplayGuard } from "./replay-guard.js";
import { SignalingClient, type OutgoingMessage, type SignalingEvents } from "./signaling.js";

export type RelayStatus = "connecting" | "connected" | "reconnecting" | "closed";

export interface ReconnectPolicy {
  /** First wait after a drop. */
  readonly initialDelayMs: number;
  /** Waits double up to this. */
  readonly maxDelayMs: number;
  /** Each wait is scaled by a random factor in [1 - jitter, 1 + jitter]. */
  readonly jitter: number;
}

/** Quick first retry (a relay restart takes about a second), then back off to 15 s. */
export const DEFAULT_RECONNECT: ReconnectPolicy = { initialDelayMs: 500, maxDelayMs: 15_000, jitter: 0.5 };

export interface RelayLinkEvents extends Record<string, unknown> {
  status: RelayStatus;
  /** We are in the room under `ownId` (a new id after every reconnect). */
  joined: { readonly ownId: ClientId };
  "peer-joined": SignalingEvents["peer-joined"];
  "peer-left": SignalingEvents["peer-left"];
  message: SignalingEvents["message"];
  dropped: SignalingEvents["dropped"];
  "room-info": SignalingEvents["room-info"];
  "relay-error": SignalingEvents["relay-error"];
  "turn-credentials": SignalingEvents["turn-credentials"];
}

export interface RelayLinkOptions {
  readonly url: string;
  readonly secrets: Promise<RoomSecrets>;
  readonly createSocket?: SocketFactory;
  readonly logger?: Logger;
  readonly reconnect?: ReconnectPolicy;
  readonly random?: () => number;
  /** Rooms to watch (room_info), re-sent after every reconnect. */
  readonly watchedHashes?: readonly RoomHash[];
  /** Told of the steps of joining (see milestones.ts). */
  readonly milestone?: MilestoneSink;
}

export class RelayLink {
  readonly events: Emitter<RelayLinkEvents>;
  private client: SignalingClient | undefined;
  private statusValue: RelayStatus = "connecting";
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private watched: readonly RoomHash[];
  /** One for all our sockets: a message seen before a reconnect stays seen after it. */
  private readonly replayGuard = new ReplayGuard();
  private readonly log: (level: Parameters<Logger>[0], message: string, fields?: Record<string, unknown>) => void;

  constructor(private readonly options: RelayLinkOptions) {
    const logger = options.logger ?? silentLogger;
    this.log = (level, message, fields) => logger(level, "relay", message, fields);
    this.events = new Emitter((error) => this.log("error", "event listener failed", { error: String(error) }));
    this.watched = options.watchedHashes ?? [];
    this.open();
  }

  get status(): RelayStatus {
    return this.statusValue;
  }

  get ownId(): ClientId | undefined {
    return this.statusValue === "connected" ? this.client?.ownId : undefined;
  }

  /** Seals and sends; rejects when the relay is away (callers decide whether that matters). */
  async send(message: OutgoingMessage, recipient?: ClientId): Promise<void> {
    const client = this.client;
    if (!client || this.statusValue !== "connected") throw new Error("relay not connected");
    await client.relay(message, recipient);
  }

  watchRooms(hashes: readonly RoomHash[]): void {
    this.watched = [...hashes];
    if (this.client?.isOpen) this.client.watchRooms(this.watched);
  }

  close(): void {
    if (this.statusValue === "closed") return;
    this.setStatus("closed");
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.client?.close();
    this.client = undefined;
  }

  private setStatus(status: RelayStatus): void {
    if (this.statusValue === status) return;
    this.statusValue = status;
    this.events.emit("status", status);
  }

  private open(): void {
    const client = new SignalingClient({
      url: this.options.url,
      replayGuard: this.replayGuard,
      ...(this.options.createSocket ? { createSocket: this.options.createSocket } : {}),
      ...(this.options.logger ? { logger: this.options.logger } : {}),
    });
    this.client = client;
    const forwarded = ["peer-joined", "peer-left", "message", "dropped", "room-info", "relay-error", "turn-credentials"] as const;
    const forward = <K extends (typeof forwarded)[number]>(type: K) =>
      client.events.on(type, (payload) => {
        if (this.client === client) this.events.emit(type, payload as RelayLinkEvents[K]);
      });
    for (const type of forwarded) forward(type);
    client.events.on("disconnected", ({ byUs, code, reason }) => {
      if (byUs || this.client !== client || this.statusValue === "closed") return;
      this.log("warn", "relay connection lost", { code, reason });
      this.scheduleReconnect();
    });
    void this.joinWith(client);
  }

  private async joinWith(client: SignalingClient): Promise<void> {
    try {
      const [ownId, secrets] = await Promise.all([client.connected().then((id) => (this.options.milestone?.("relay-ready"), id)), this.options.secrets]);
      if (this.client !== client) return;
      const joined = client.events.once("room-joined");
      if (this.watched.length > 0) client.watchRooms(this.watched);
      await client.join(secrets);
      this.options.milestone?.("join-sent");
      await joined;
      this.options.milestone?.("joined");
      if (this.client !== client) return;
      this.attempt = 0;
      this.setStatus("connected");
      this.events.emit("joined", { ownId });
    } catch (error) {
      // The socket closed before init; the `disconnected` handler schedules the retry.
      this.log("debug", "join attempt ended", { error: String(error) });
    }
  }

  private scheduleReconnect(): void {
    this.setStatus("reconnecting");
    const { initialDelayMs, maxDelayMs, jitter } = this.options.reconnect ?? DEFAULT_RECONNECT;
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** this.attempt);
    const random = this.options.random ?? Math.random;
    const delay = Math.round(base * (1 - jitter + 2 * jitter * random()));
    this.attempt++;
    this.log("info", "reconnecting to the relay", { attempt: this.attempt, delayMs: delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.statusValue !== "closed") this.open();
    }, delay);
  }
}
