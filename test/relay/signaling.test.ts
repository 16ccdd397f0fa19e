// The signaling protocol over real sockets: keks-meet's rules, with its known bugs fixed.

import { afterEach, describe, expect, it } from "vitest";
import type { ClientboundPacket } from "../../common/wire/packets.js";
import { createCapturingLogger } from "../../server/log.js";
import { cleanup, eventually, roomHash, startRelay, TestClient } from "./helpers.js";

afterEach(cleanup);

const join = (id: number): ClientboundPacket => ({ type: "client_join", id });
const leave = (id: number, clean = true): ClientboundPacket => ({ type: "client_leave", id, clean });

async function clients(url: string, count: number): Promise<TestClient[]> {
  return Promise.all(Array.from({ length: count }, () => TestClient.connect(url)));
}

describe("connect", () => {
  it("sends init first, with unique, random, JSON-safe ids", async () => {
    const { url } = await startRelay();
    const all = await clients(url, 12);
    const first = await TestClient.open(url);
    expect(JSON.parse(await first.nextText())).toEqual({ init: { your_id: expect.any(Number), version: expect.stringMatching(/^meshmeet \d+\.\d+\.\d+/) } });
    const ids = all.map((client) => client.id).sort((a, b) => a - b);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(Number.isSafeInteger(id) && id > 0).toBe(true);
    // A counter would give 1, 2, 3, …: random 48-bit ids are neither small nor consecutive.
    expect(ids.filter((id, index) => index > 0 && id - (ids[index - 1] ?? 0) === 1)).toEqual([]);
    expect(ids.every((id) => id > 1000)).toBe(true);
    expect(await all[0]?.drain()).toEqual([]);
  });
});

describe("join", () => {
  it("gives the joiner its own client_join first, then each earlier member; members get one", async () => {
    const { url } = await startRelay();
    const [a, b, c] = (await clients(url, 3)) as [TestClient, TestClient, TestClient];
    const room = roomHash();
    a.join(room);
    expect(await a.next()).toEqual(join(a.id));
    b.join(room);
    expect([await b.next(), await b.next()]).toEqual([join(b.id), join(a.id)]);
    expect(await a.next()).toEqual(join(b.id));
    c.join(room);
    expect([await c.next(), await c.next(), await c.next()]).toEqual([join(c.id), join(a.id), join(b.id)]);
    expect(await a.next()).toEqual(join(c.id));
    expect(await b.next()).toEqual(join(c.id));
    const [restA, restB, restC] = await Promise.all([a.drain(), b.drain(), c.drain()]);
    expect([restA, restB, restC]).toEqual([[], [], []]);
  });

  it("sends one client_leave per departure to each remaining member, none to the leaver", async () => {
    const { url } = await startRelay();
    const [a, b, c] = (await clients(url, 3)) as [TestClient, TestClient, TestClient];
    const room = roomHash();
    await a.joinAndSettle(room, 0);
    await b.joinAndSettle(room, 1);
    await c.joinAndSettle(room, 2);
    await Promise.all([a.drain(50), b.drain(50)]);

    b.join(null);
    expect(await a.next()).toEqual(leave(b.id));
    expect(await c.next()).toEqual(leave(b.id));
    c.ws.close();
    expect(await a.next()).toEqual(leave(c.id));
    expect(await Promise.all([a.drain(), b.drain()])).toEqual([[], []]);
  });

  it("marks a lost connection (no close handshake) as an unclean leave", async () => {
    const { url } = await startRelay();
    const [a, b] = (await clients(url, 2)) as [TestClient, TestClient];
    const room = roomHash();
    await a.joinAndSettle(room, 0);
    await b.joinAndSettle(room, 1);
    await a.drain(50);
    b.ws.terminate();
    expect(await a.next()).toEqual(leave(b.id, false));
  });

  it("treats joining the current room as leave then join", async () => {
    const { url } = await startRelay();
    const [a, b] = (await clients(url, 2)) as [TestClient, TestClient];
    const room = roomHash();
    await a.joinAndSettle(room, 0);
    await b.joinAndSettle(room, 1);
    expect(await a.next()).toEqual(join(b.id));

    a.join(room);
    expect([await b.next(), await b.next()]).toEqual([leave(a.id), join(a.id)]);
    expect([await a.next(), await a.next()]).toEqual([join(a.id), join(b.id)]);
    expect(await Promise.all([a.drain(), b.drain()])).toEqual([[], []]);
  });

  it("frees a room when its last member leaves or disconnects", async () => {
    const { url, relay } = await startRelay();
    const [a, b] = (await clients(url, 2)) as [TestClient, TestClient];
    await a.joinAndSettle(roomHash(), 0);
    await b.joinAndSettle(roomHash(), 0);
    expect(relay.stats()).toMatchObject({ sockets: 2, rooms: 2 });
    a.join(null);
    b.ws.close();
    await eventually(() => relay.stats().rooms === 0 && relay.stats().sockets === 1, 2000, "rooms freed");
  });
});

describe("relay", () => {
  async function roomOfThree() {
    const started = await startRelay();
    const [a, b, c, outsider] = (await clients(started.url, 4)) as [TestClient, TestClient, TestClient, TestClient];
    const room = roomHash();
    await a.joinAndSettle(room, 0);
    await b.joinAndSettle(room, 1);
    await c.joinAndSettle(room, 2);
    await outsider.joinAndSettle(roomHash(), 0);
    await Promise.all([a.drain(50), b.drain(50)]);
    return { a, b, c, outsider };
  }

  it("broadcasts to every other member, stamped with the true sender, never echoed", async () => {
    const { a, b, c, outsider } = await roomOfThree();
    a.relay("sealed-1");
    const message = { type: "message", sender: a.id, message: "sealed-1" };
    expect(await b.next()).toEqual(message);
    expect(await c.next()).toEqual(message);
    expect(await Promise.all([a.drain(), outsider.drain(0)])).toEqual([[], []]);
    // The relay's exact bytes, as keks-meet's server writes them.
    c.send({ relay: { recipient: null, message: "x\"y" } });
    expect(await a.nextText()).toBe(`{"message":{"sender":${c.id},"message":"x\\"y"}}`);
  });

  it("delivers a targeted message to that member only", async () => {
    const { a, b, c, outsider } = await roomOfThree();
    a.relay("for-b", b.id);
    expect(await b.next()).toEqual({ type: "message", sender: a.id, message: "for-b" });
    expect(await Promise.all([a.drain(), c.drain(0), outsider.drain(0)])).toEqual([[], [], []]);
  });

  it("refuses a recipient outside the sender's room (or the sender itself) with unknown_recipient", async () => {
    const { a, b, c, outsider } = await roomOfThree();
    a.relay("for-outsider", outsider.id);
    expect(await a.next()).toMatchObject({ type: "error", code: "unknown_recipient" });
    a.relay("for-me", a.id);
    expect(await a.next()).toMatchObject({ type: "error", code: "unknown_recipient" });
    a.relay("for-nobody", 12345);
    expect(await a.next()).toMatchObject({ type: "error", code: "unknown_recipient" });
    expect(await Promise.all([outsider.drain(), b.drain(0), c.drain(0)])).toEqual([[], [], []]);
  });

  it("refuses a relay from a client in no room with not_in_room", async () => {
    const { url } = await startRelay();
    const a = await TestClient.connect(url);
    a.relay("lost");
    expect(await a.next()).toEqual({ type: "error", code: "not_in_room", message: "relay while in no room" });
  });

  it("keeps each sender's order", async () => {
    const { a, b } = await roomOfThree();
    for (let index = 0; index < 300; index++) a.relay(`m${index}`, b.id);
    for (let index = 0; index < 300; index++) expect(await b.next()).toEqual({ type: "message", sender: a.id, message: `m${index}` });
  });
});

describe("watch_rooms", () => {
  it("reports watched rooms that exist at once, then on every join and leave", async () => {
    const { url } = await startRelay();
    const [watcher, a, b] = (await clients(url, 3)) as [TestClient, TestClient, TestClient];
    const x = roomHash();
    const y = roomHash();
    watcher.watch([x, y]);
    expect(await watcher.drain()).toEqual([]);

    await a.joinAndSettle(x, 0);
    expect(await watcher.next()).toEqual({ type: "room_info", hash: x, userCount: 1 });
    await b.joinAndSettle(x, 1);
    expect(await watcher.next()).toEqual({ type: "room_info", hash: x, userCount: 2 });

    watcher.watch([y, x]);
    expect(await watcher.next()).toEqual({ type: "room_info", hash: x, userCount: 2 });
    b.join(null);
    expect(await watcher.next()).toEqual({ type: "room_info", hash: x, userCount: 1 });
    a.ws.close();
    expect(await watcher.next()).toEqual({ type: "room_info", hash: x, userCount: 0 });
    expect(await watcher.drain()).toEqual([]);
  });

  it("replaces the list: a dropped hash is no longer reported", async () => {
    const { url, relay } = await startRelay();
    const [watcher, a] = (await clients(url, 2)) as [TestClient, TestClient];
    const x = roomHash();
    watcher.watch([x]);
    await eventually(() => relay.stats().watchedHashes === 1);
    watcher.watch([roomHash()]);
    await a.joinAndSettle(x, 0);
    expect(await watcher.drain()).toEqual([]);
    watcher.watch([]);
    await eventually(() => relay.stats().watchedHashes === 0);
  });

  it("gives a late watcher of a freed room nothing", async () => {
    const { url, relay } = await startRelay();
    const [a, late] = (await clients(url, 2)) as [TestClient, TestClient];
    const x = roomHash();
    await a.joinAndSettle(x, 0);
    a.ws.close();
    await eventually(() => relay.stats().rooms === 0);
    late.watch([x]);
    expect(await late.drain()).toEqual([]);
  });
});

describe("ping", () => {
  it("accepts both forms and answers neither", async () => {
    const { url } = await startRelay();
    const a = await TestClient.connect(url);
    a.send('"ping"');
    a.send('  "ping"  ');
    a.send({ ping: null });
    expect(await a.drain()).toEqual([]);
  });
});

describe("logs", () => {
  it("record connects, joins, leaves and disconnects, with neither room hashes, addresses nor contents", async () => {
    const logger = createCapturingLogger();
    const { url } = await startRelay({}, { logger });
    const [a, b] = (await clients(url, 2)) as [TestClient, TestClient];
    const room = roomHash();
    await a.joinAndSettle(room, 0);
    await b.joinAndSettle(room, 1);
    a.relay("SEALED-CONTENT");
    await b.nextMatching((packet) => packet.type === "message");
    b.watch([room]);
    await b.next();
    a.ws.close(4999, "CLIENT-REASON");
    await b.nextMatching((packet) => packet.type === "client_leave");
    await eventually(() => logger.entries.some((entry) => entry.event === "disconnect"));

    const events = logger.entries.map((entry) => entry.event);
    expect(events).toEqual(expect.arrayContaining(["connect", "join", "leave", "disconnect"]));
    const joins = logger.entries.filter((entry) => entry.event === "join");
    expect(joins[0]?.fields.room).toMatch(/^[0-9a-f]{12}$/);
    expect(joins[0]?.fields.room).toBe(joins[1]?.fields.room);
    const text = JSON.stringify(logger.entries);
    for (const secret of [room, "SEALED-CONTENT", "CLIENT-REASON", "127.0.0.1"]) expect(text).not.toContain(secret);
  });
});
