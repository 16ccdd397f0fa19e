import { beforeEach, describe, expect, it } from "vitest";
import type { ClientboundPacket, ClientId } from "../common/wire/packets.js";
import { Rooms } from "./rooms.js";

const X = "a".repeat(64);
const Y = "b".repeat(64);
const Z = "c".repeat(64);

/** Rooms over a recording deliver: `inbox(id)` returns and clears what `id` received. */
function setup(limits = { maxRoomMembers: 16, maxWatchedRooms: 8 }) {
  const log: { to: ClientId; packet: ClientboundPacket }[] = [];
  const calls: { recipients: readonly ClientId[]; packet: ClientboundPacket }[] = [];
  const rooms = new Rooms(limits, (recipients, packet) => {
    calls.push({ recipients, packet });
    for (const to of recipients) log.push({ to, packet });
  });
  const inbox = (id: ClientId): ClientboundPacket[] => {
    const mine = log.filter((entry) => entry.to === id).map((entry) => entry.packet);
    for (let index = log.length - 1; index >= 0; index--) if (log[index]?.to === id) log.splice(index, 1);
    return mine;
  };
  const clear = (): void => {
    log.length = 0;
    calls.length = 0;
  };
  return { rooms, inbox, clear, calls };
}

const join = (id: ClientId): ClientboundPacket => ({ type: "client_join", id });
const leave = (id: ClientId, clean = true): ClientboundPacket => ({ type: "client_leave", id, clean });
const info = (hash: string, userCount: number): ClientboundPacket => ({ type: "room_info", hash, userCount });

describe("Rooms", () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
    for (const id of [1, 2, 3, 4]) t.rooms.add(id);
  });

  it("sends a joiner its own client_join first, then earlier members in join order; members get one", () => {
    t.rooms.join(1, X);
    expect(t.inbox(1)).toEqual([join(1)]);
    t.rooms.join(2, X);
    t.rooms.join(3, X);
    expect(t.inbox(3)).toEqual([join(3), join(1), join(2)]);
    expect(t.inbox(2)).toEqual([join(2), join(1), join(3)]);
    expect(t.inbox(1)).toEqual([join(2), join(3)]);
    expect(t.rooms.membersOf(X)).toEqual([1, 2, 3]);
  });

  it("sends exactly one client_leave to each remaining member, none to the leaver", () => {
    t.rooms.join(1, X);
    t.rooms.join(2, X);
    t.rooms.join(3, X);
    t.clear();
    expect(t.rooms.join(2, null)).toEqual({ ok: true, value: { left: X, joined: null, members: 0 } });
    expect(t.inbox(1)).toEqual([leave(2)]);
    expect(t.inbox(3)).toEqual([leave(2)]);
    expect(t.inbox(2)).toEqual([]);
    t.rooms.remove(3, true);
    expect(t.inbox(1)).toEqual([leave(3)]);
  });

  it("treats joining the current room as leave then join", () => {
    t.rooms.join(1, X);
    t.rooms.join(2, X);
    t.clear();
    t.rooms.join(1, X);
    expect(t.inbox(2)).toEqual([leave(1), join(1)]);
    expect(t.inbox(1)).toEqual([join(1), join(2)]);
  });

  it("moves between rooms: the old room sees the leave, the new one the join", () => {
    t.rooms.join(1, X);
    t.rooms.join(2, X);
    t.rooms.join(3, Y);
    t.clear();
    t.rooms.join(1, Y);
    expect(t.inbox(2)).toEqual([leave(1)]);
    expect(t.inbox(3)).toEqual([join(1)]);
    expect(t.inbox(1)).toEqual([join(1), join(3)]);
    expect(t.rooms.roomOf(1)).toBe(Y);
  });

  it("frees a room as soon as it is empty, by leave or by removal", () => {
    t.rooms.join(1, X);
    t.rooms.join(2, Y);
    expect(t.rooms.counts().rooms).toBe(2);
    t.rooms.join(1, null);
    t.rooms.remove(2, true);
    expect(t.rooms.counts().rooms).toBe(0);
    expect(t.rooms.membersOf(X)).toEqual([]);
  });

  it("relays a broadcast to every other member and never echoes", () => {
    t.rooms.join(1, X);
    t.rooms.join(2, X);
    t.rooms.join(3, X);
    t.rooms.join(4, Y);
    t.clear();
    expect(t.rooms.relay(1, null, "m").ok).toBe(true);
    const message = { type: "message", sender: 1, message: "m" };
    expect(t.inbox(2)).toEqual([message]);
    expect(t.inbox(3)).toEqual([message]);
    expect(t.inbox(1)).toEqual([]);
    expect(t.inbox(4)).toEqual([]);
    expect(t.calls).toHaveLength(1);
  });

  it("relays targeted messages within the sender's room only", () => {
    t.rooms.join(1, X);
    t.rooms.join(2, X);
    t.rooms.join(4, Y);
    t.clear();
    expect(t.rooms.relay(1, 2, "m").ok).toBe(true);
    expect(t.inbox(2)).toEqual([{ type: "message", sender: 1, message: "m" }]);
    expect(t.rooms.relay(1, 4, "m")).toEqual({ ok: false, error: "unknown_recipient" });
    expect(t.rooms.relay(1, 1, "m")).toEqual({ ok: false, error: "unknown_recipient" });
    expect(t.rooms.relay(1, 999, "m")).toEqual({ ok: false, error: "unknown_recipient" });
    expect(t.rooms.relay(3, null, "m")).toEqual({ ok: false, error: "not_in_room" });
    expect(t.inbox(4)).toEqual([]);
  });

  it("refuses a full room and leaves the client where it was", () => {
    const small = setup({ maxRoomMembers: 2, maxWatchedRooms: 8 });
    for (const id of [1, 2, 3, 4]) small.rooms.add(id);
    small.rooms.join(1, X);
    small.rooms.join(2, X);
    small.rooms.join(3, Y);
    small.rooms.join(4, Y);
    small.clear();
    expect(small.rooms.join(3, X)).toEqual({ ok: false, error: "room_full" });
    expect(small.rooms.roomOf(3)).toBe(Y);
    expect(small.inbox(4)).toEqual([]);
    // A member re-joining its own full room is not refused.
    expect(small.rooms.join(1, X).ok).toBe(true);
  });

  it("reports watched rooms on watch and on every join and leave, 0 when emptied", () => {
    t.rooms.watch(4, [X, Y]);
    expect(t.inbox(4)).toEqual([]);
    t.rooms.join(1, X);
    expect(t.inbox(4)).toEqual([info(X, 1)]);
    t.rooms.join(2, X);
    expect(t.inbox(4)).toEqual([info(X, 2)]);
    t.rooms.watch(4, [Y, X]);
    expect(t.inbox(4)).toEqual([info(X, 2)]);
    t.rooms.join(2, Y);
    expect(t.inbox(4)).toEqual([info(X, 1), info(Y, 1)]);
    t.rooms.remove(1, true);
    expect(t.inbox(4)).toEqual([info(X, 0)]);
    t.rooms.watch(3, [X]);
    expect(t.inbox(3)).toEqual([]);
  });

  it("replaces the watch list and drops empty watcher sets", () => {
    t.rooms.watch(4, [X, Y]);
    t.rooms.watch(3, [X]);
    expect(t.rooms.counts().watchedHashes).toBe(2);
    t.rooms.watch(4, [Z]);
    t.rooms.join(1, Y);
    expect(t.inbox(4)).toEqual([]);
    expect(t.rooms.counts().watchedHashes).toBe(2);
    t.rooms.remove(3, true);
    t.rooms.watch(4, []);
    expect(t.rooms.counts().watchedHashes).toBe(0);
  });

  it("refuses too many watches (duplicates count once) and keeps the old list", () => {
    const small = setup({ maxRoomMembers: 16, maxWatchedRooms: 2 });
    small.rooms.add(1);
    small.rooms.add(2);
    expect(small.rooms.watch(1, [X, X, Y]).ok).toBe(true);
    expect(small.rooms.watch(1, [X, Y, Z])).toEqual({ ok: false, error: "too_many_watches" });
    small.rooms.join(2, X);
    expect(small.inbox(1)).toEqual([info(X, 1)]);
  });

  it("forgets a removed client completely", () => {
    t.rooms.join(1, X);
    t.rooms.watch(1, [Y]);
    expect(t.rooms.remove(1, true)).toBe(X);
    expect(t.rooms.counts()).toEqual({ rooms: 0, watchedHashes: 0 });
    expect(t.rooms.remove(1, true)).toBeNull();
    expect(() => t.rooms.join(1, X)).toThrow(/not registered/);
  });
});
