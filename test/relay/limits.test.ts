// Every [limits] entry, hit on purpose over real sockets, with small configured values.

import { afterEach, describe, expect, it } from "vitest";
import { createCapturingLogger } from "../../server/log.js";
import { bystanders, cleanup, delay, eventually, rawHandshake, roomHash, startRelay, TestClient } from "./helpers.js";

afterEach(cleanup);


describe("frame size", () => {
  it("closes a socket that sends more than max_frame_bytes with 1009 and a reason; a frame at the limit passes", async () => {
    const { url } = await startRelay({ limits: "max_frame_bytes = 65536\nmax_send_buffer_bytes = 131072\nbyte_burst = 131072" });
    const { check } = await bystanders(url);
    const sender = await TestClient.connect(url);
    const receiver = await TestClient.connect(url);
    const room = roomHash();
    await sender.joinAndSettle(room, 0);
    await receiver.joinAndSettle(room, 1);
    await sender.next();

    const envelope = `{"relay":{"message":""}}`;
    sender.relay("x".repeat(65536 - envelope.length));
    expect(await receiver.next()).toMatchObject({ type: "message", sender: sender.id });
    sender.relay("x".repeat(65536 - envelope.length + 1));
    expect(await sender.closedWithin()).toEqual({ code: 1009, reason: "message larger than 65536 bytes" });
    expect(await receiver.next()).toEqual({ type: "client_leave", id: sender.id, clean: false });
    await check();
  });
});

describe("inbound rates and the error budget", () => {
  it("answers messages over the message rate with rate_limited, then closes with 1008", async () => {
    const logger = createCapturingLogger();
    const { url } = await startRelay(
      { limits: "messages_per_second = 0.001\nmessage_burst = 5\nerror_burst = 3\nerrors_per_second = 0.001" },
      { logger },
    );
    const { check } = await bystanders(url);
    const client = await TestClient.connect(url);
    for (let index = 0; index < 5; index++) client.send({ ping: null });
    expect(await client.drain()).toEqual([]);
    for (let index = 0; index < 4; index++) client.send({ ping: null });
    for (let index = 0; index < 3; index++) {
      expect(await client.next()).toEqual({ type: "error", code: "rate_limited", message: "too many messages per second" });
    }
    expect(await client.closedWithin()).toEqual({ code: 1008, reason: "too many rejected messages" });
    const limits = logger.entries.filter((entry) => entry.event === "limit").map((entry) => entry.fields.limit);
    expect(limits).toEqual(["message_rate", "message_rate", "message_rate", "message_rate", "error_budget"]);
    await check();
  });

  it("answers bytes over the byte rate with rate_limited, then closes with 1008", async () => {
    const { url } = await startRelay({
      limits: "bytes_per_second = 1\nbyte_burst = 10000\nmax_frame_bytes = 8000\nmax_send_buffer_bytes = 16000\nerror_burst = 2\nerrors_per_second = 0.001",
    });
    const { check } = await bystanders(url);
    const client = await TestClient.connect(url);
    await client.joinAndSettle(roomHash(), 0);
    client.relay("x".repeat(4000));
    client.relay("x".repeat(4000));
    expect(await client.drain()).toEqual([]);
    client.relay("x".repeat(4000));
    client.relay("x".repeat(2000));
    for (let index = 0; index < 2; index++) {
      expect(await client.next()).toEqual({ type: "error", code: "rate_limited", message: "too many bytes per second" });
    }
    client.relay("x".repeat(3000));
    expect(await client.closedWithin()).toEqual({ code: 1008, reason: "too many rejected messages" });
    await check();
  });

  it("charges every kind of error packet to the same budget", async () => {
    const { url } = await startRelay({ limits: "error_burst = 2\nerrors_per_second = 0.001" });
    const client = await TestClient.connect(url);
    client.send("nonsense");
    client.relay("nowhere");
    expect((await client.next()).type).toBe("error");
    expect((await client.next()).type).toBe("error");
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await client.closedWithin()).code).toBe(1008);
  });
});

describe("socket caps", () => {
  it("refuses sockets past max_sockets_per_ip with 1013, and admits again after one closes", async () => {
    const { url, relay } = await startRelay({ limits: "max_sockets_per_ip = 2" });
    const first = await TestClient.connect(url);
    await TestClient.connect(url);
    const third = await TestClient.open(url);
    expect(await third.closedWithin()).toEqual({ code: 1013, reason: "too many connections from this address" });
    first.ws.close();
    await eventually(() => relay.stats().sockets === 1, 3000, "the first socket to close");
    const fourth = await TestClient.connect(url);
    expect(fourth.id).toBeGreaterThan(0);
  });

  it("counts an IPv6 /64 as one address, and other /64s apart", async () => {
    const { url } = await startRelay({ server: "trust_forwarded_for = true", limits: "max_sockets_per_ip = 2" });
    const from = (address: string) => ({ headers: { "x-forwarded-for": address } });
    await TestClient.connect(url, from("2001:db8:1:2::1"));
    await TestClient.connect(url, from("2001:db8:1:2::2"));
    const third = await TestClient.open(url, from("2001:db8:1:2:ffff::3"));
    expect(await third.closedWithin()).toEqual({ code: 1013, reason: "too many connections from this address" });
    await expect(TestClient.connect(url, from("2001:db8:1:3::1"))).resolves.toBeInstanceOf(TestClient);
  });

  it("refuses sockets past max_sockets with 1013", async () => {
    const { url } = await startRelay({ limits: "max_sockets = 1" });
    await TestClient.connect(url);
    const second = await TestClient.open(url);
    expect(await second.closedWithin()).toEqual({ code: 1013, reason: "relay is full" });
  });
});

describe("room and watch caps", () => {
  it("refuses a join into a full room with room_full and keeps the client in its room", async () => {
    const { url } = await startRelay({ limits: "max_room_members = 2" });
    const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(() => TestClient.connect(url)));
    if (!a || !b || !c || !d) throw new Error("clients missing");
    const full = roomHash();
    const other = roomHash();
    await a.joinAndSettle(full, 0);
    await b.joinAndSettle(full, 1);
    await c.joinAndSettle(other, 0);
    await d.joinAndSettle(other, 1);
    await c.next();
    c.join(full);
    expect(await c.next()).toEqual({ type: "error", code: "room_full", message: "the room is full (2 members)" });
    expect(await a.drain()).toEqual([{ type: "client_join", id: b.id }]);
    c.relay("still in other");
    expect(await d.next()).toEqual({ type: "message", sender: c.id, message: "still in other" });
  });

  it("refuses more than max_watched_rooms with too_many_watches and keeps the old list", async () => {
    const { url } = await startRelay({ limits: "max_watched_rooms = 2" });
    const watcher = await TestClient.connect(url);
    const member = await TestClient.connect(url);
    const x = roomHash();
    watcher.watch([x, x, roomHash()]);
    watcher.watch([x, roomHash(), roomHash()]);
    expect(await watcher.next()).toEqual({ type: "error", code: "too_many_watches", message: "at most 2 rooms can be watched" });
    await member.joinAndSettle(x, 0);
    expect(await watcher.next()).toEqual({ type: "room_info", hash: x, userCount: 1 });
  });
});

describe("liveness", () => {
  it("closes a socket that sends nothing for idle_timeout_seconds with 4000; pings keep a socket open", async () => {
    const { url } = await startRelay({ limits: "idle_timeout_seconds = 0.3" });
    const silent = await TestClient.connect(url);
    const pinging = await TestClient.connect(url);
    const started = performance.now();
    const timer = setInterval(() => pinging.send('"ping"'), 100);
    try {
      expect(await silent.closedWithin()).toEqual({ code: 4000, reason: "idle timeout" });
      expect(performance.now() - started).toBeGreaterThan(250);
      await delay(400);
      expect(pinging.ws.readyState).toBe(pinging.ws.OPEN);
    } finally {
      clearInterval(timer);
    }
  });

  it("drops a peer that does not answer the relay's WebSocket pings", async () => {
    const { port, url, relay } = await startRelay({ limits: "ping_interval_seconds = 0.1" });
    const answering = await TestClient.connect(url);
    const silent = await rawHandshake(port);
    silent.resume();
    const gone = new Promise<number>((resolve) => silent.once("close", () => resolve(performance.now())));
    const started = performance.now();
    const closedAt = await gone;
    expect(closedAt - started).toBeLessThan(1500);
    await eventually(() => relay.stats().sockets === 1);
    expect(answering.ws.readyState).toBe(answering.ws.OPEN);
  });
});

describe("origins", () => {
  it("by default admits only the relay's own pages (Origin host = Host) and clients without Origin", async () => {
    const { url } = await startRelay();
    const own = new URL(url.replace(/^ws/, "http")).host;
    await expect(TestClient.connect(url, { origin: `http://${own}` })).resolves.toBeInstanceOf(TestClient);
    await expect(TestClient.connect(url)).resolves.toBeInstanceOf(TestClient);
    await expect(TestClient.open(url, { origin: "https://evil.example" })).rejects.toThrow(/403/);
    await expect(TestClient.open(url, { origin: "null" })).rejects.toThrow(/403/);
  });

  it('admits any page with ["*"]', async () => {
    const { url } = await startRelay({ server: 'allowed_origins = ["*"]' });
    await expect(TestClient.connect(url, { origin: "https://elsewhere.example" })).resolves.toBeInstanceOf(TestClient);
  });

  it("allows listed origins and clients without Origin, refuses others with 403", async () => {
    const { url } = await startRelay({ server: 'allowed_origins = ["https://meet.example.org"]' });
    await expect(TestClient.connect(url, { origin: "https://meet.example.org" })).resolves.toBeInstanceOf(TestClient);
    await expect(TestClient.connect(url)).resolves.toBeInstanceOf(TestClient);
    await expect(TestClient.open(url, { origin: "https://evil.example" })).rejects.toThrow(/403/);
  });
});
