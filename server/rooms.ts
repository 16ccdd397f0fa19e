// Rooms and room watches as plain data: who is in which room, who watches which hash, and which
// packets each change sends to whom. No sockets and no encoding: every packet goes out through
// the `deliver` callback, once per packet with all its recipients, so the caller encodes once.
//
// Protocol rules (keks-meet's, with its known bugs fixed):
// - A joiner receives its own client_join first, then one per earlier member (in join order);
//   each earlier member receives one client_join for the joiner.
// - A leaver's remaining members receive exactly one client_leave. The leaver receives none, also
//   when it re-joins: it asked to leave, and keks-meet's web client discards its room state before
//   sending the join, so it never needed the one keks-meet sends it.
// - A room exists only while it has members; the last one out frees it (disconnects included).
// - Watchers get room_info after every join and leave, including user_count 0 when the room
//   empties; a watch only reports rooms that exist.
// deliver is never called re-entrantly by this class; a caller that closes sockets from inside
// deliver must defer the matching remove() (relay.ts does).

import { err, ok, type Result } from "../common/result.js";
import type { ClientboundPacket, ClientId, RelayErrorCode, RoomHash } from "../common/wire/packets.js";

export type Deliver = (recipients: readonly ClientId[], packet: ClientboundPacket) => void;

export type RoomError = Extract<RelayErrorCode, "room_full" | "not_in_room" | "unknown_recipient" | "too_many_watches">;

export interface RoomLimits {
  readonly maxRoomMembers: number;
  readonly maxWatchedRooms: number;
}

/** The watches of a client that watches nothing: one Set for all (most clients never watch). */
const NO_WATCHES: ReadonlySet<RoomHash> = new Set();

/** What a join did, for the caller's log. */
export interface JoinOutcome {
  readonly left: RoomHash | null;
  readonly joined: RoomHash | null;
  /** Members of the joined room, the joiner included (0 when `joined` is null). */
  readonly members: number;
}

export class Rooms {
  /** Member sets keep insertion order: earlier members are announced to a joiner in join order. */
  private readonly rooms = new Map<RoomHash, Set<ClientId>>();
  private readonly watchers = new Map<RoomHash, Set<ClientId>>();
  /** Every registered client and its room (null: none); no object per client. */
  private readonly clients = new Map<ClientId, RoomHash | null>();
  /** The watch list of each client that has one. */
  private readonly watchLists = new Map<ClientId, ReadonlySet<RoomHash>>();

  constructor(
    private readonly limits: RoomLimits,
    private readonly deliver: Deliver,
  ) {}

  add(id: ClientId): void {
    if (this.clients.has(id)) throw new Error(`client ${id} is already registered`);
    this.clients.set(id, null);
  }

  /**
   * Leaves the room (members are told), drops all watches, forgets the client. Idempotent.
   * `clean`: the client left on purpose (see ClientboundPacket client_leave).
   */
  remove(id: ClientId, clean: boolean): RoomHash | null {
    if (!this.clients.has(id)) return null;
    const left = this.leave(id, clean);
    this.setWatches(id, NO_WATCHES);
    this.clients.delete(id);
    return left;
  }

  /** Leaves the current room (if any), then joins `hash` (if not null). */
  join(id: ClientId, hash: RoomHash | null): Result<JoinOutcome, RoomError> {
    const current = this.roomOfRegistered(id);
    // A full room is refused before leaving: a failed join keeps the client where it was.
    if (hash !== null && hash !== current && (this.rooms.get(hash)?.size ?? 0) >= this.limits.maxRoomMembers) {
      return err("room_full");
    }
    // Joining elsewhere (or nowhere) is a deliberate leave.
    const left = this.leave(id, true);
    if (hash === null) return ok({ left, joined: null, members: 0 });

    let members = this.rooms.get(hash);
    if (!members) {
      members = new Set();
      this.rooms.set(hash, members);
    }
    const earlier = [...members];
    members.add(id);
    this.clients.set(id, hash);

    this.deliver([id], { type: "client_join", id });
    for (const member of earlier) this.deliver([id], { type: "client_join", id: member });
    if (earlier.length > 0) this.deliver(earlier, { type: "client_join", id });
    this.announce(hash, members.size);
    return ok({ left, joined: hash, members: members.size });
  }

  /** `recipient: null` = every other member. Never echoed to the sender. */
  relay(sender: ClientId, recipient: ClientId | null, message: string): Result<void, RoomError> {
    const room = this.roomOfRegistered(sender);
    const members = room === null ? undefined : this.rooms.get(room);
    if (!members) return err("not_in_room");
    if (recipient === null) {
      const others = [...members].filter((member) => member !== sender);
      if (others.length > 0) this.deliver(others, { type: "message", sender, message });
      return ok(undefined);
    }
    if (recipient === sender || !members.has(recipient)) return err("unknown_recipient");
    this.deliver([recipient], { type: "message", sender, message });
    return ok(undefined);
  }

  /** Replaces the watch list; room_info at once for each watched room that exists. */
  watch(id: ClientId, hashes: readonly RoomHash[]): Result<void, RoomError> {
    this.roomOfRegistered(id);
    const unique = hashes.length === 0 ? NO_WATCHES : new Set(hashes);
    if (unique.size > this.limits.maxWatchedRooms) return err("too_many_watches");
    this.setWatches(id, unique);
    for (const hash of unique) {
      const members = this.rooms.get(hash);
      if (members) this.deliver([id], { type: "room_info", hash, userCount: members.size });
    }
    return ok(undefined);
  }

  roomOf(id: ClientId): RoomHash | null {
    return this.clients.get(id) ?? null;
  }

  /** Members of `hash` in join order; empty when the room does not exist. */
  membersOf(hash: RoomHash): readonly ClientId[] {
    return [...(this.rooms.get(hash) ?? [])];
  }

  counts(): { rooms: number; watchedHashes: number } {
    return { rooms: this.rooms.size, watchedHashes: this.watchers.size };
  }

  private roomOfRegistered(id: ClientId): RoomHash | null {
    const room = this.clients.get(id);
    if (room === undefined) throw new Error(`client ${id} is not registered`);
    return room;
  }

  private leave(id: ClientId, clean: boolean): RoomHash | null {
    const hash = this.roomOfRegistered(id);
    if (hash === null) return null;
    this.clients.set(id, null);
    const members = this.rooms.get(hash);
    if (!members) return hash;
    members.delete(id);
    if (members.size === 0) this.rooms.delete(hash);
    else this.deliver([...members], { type: "client_leave", id, clean });
    this.announce(hash, members.size);
    return hash;
  }

  private setWatches(id: ClientId, next: ReadonlySet<RoomHash>): void {
    for (const hash of this.watchLists.get(id) ?? NO_WATCHES) {
      if (next.has(hash)) continue;
      const set = this.watchers.get(hash);
      set?.delete(id);
      if (set?.size === 0) this.watchers.delete(hash);
    }
    for (const hash of next) {
      let set = this.watchers.get(hash);
      if (!set) {
        set = new Set();
        this.watchers.set(hash, set);
      }
      set.add(id);
    }
    if (next.size === 0) this.watchLists.delete(id);
    else this.watchLists.set(id, next);
  }

  private announce(hash: RoomHash, userCount: number): void {
    const watching = this.watchers.get(hash);
    if (watching && watching.size > 0) this.deliver([...watching], { type: "room_info", hash, userCount });
  }
}
