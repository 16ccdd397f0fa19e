// Hostile and broken clients: malformed packets, oversized and binary frames, a reader that
// stalls while its room floods. Each must cost only that client, never the process or a room.

import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { parseServerbound } from "../../common/wire/parse.js";
import { bystanders, cleanup, clientFrame, delay, eventually, rawHandshake, roomHash, startRelay, TestClient } from "./helpers.js";

afterEach(cleanup);

const MALFORMED = [
  '{"join":{"hash":"', // truncated
  "",
  "{}",
  "[]",
  "42",
  '"pong"',
  "null",
  '{"join":null}',
  '{"join":{"hash":"ABC"}}',
  '{"relay":{"recipient":"1","message":"x"}}',
  '{"relay":{"recipient":-1,"message":"x"}}',
  '{"relay":{}}',
  '{"watch_rooms":null}',
  '{"watch_rooms":[1]}',
  '{"ping":{}}',
  '{"Ping":null}',
  '{"foo":1}',
  '{"ping":null,"join":{}}',
  '{"__proto__":{"join":{}}}',
];

describe("malformed packets", () => {
  it("answers each with `malformed` and the parser's message, drops it, and keeps the socket", async () => {
    const { url } = await startRelay({ limits: `error_burst = ${MALFORMED.length + 1}` });
    const { check } = await bystanders(url);
    const client = await TestClient.connect(url);
    for (const text of MALFORMED) {
      const expected = parseServerbound(text);
      if (expected.ok) throw new Error(`not malformed: ${text}`);
      client.send(text);
      expect(await client.next()).toEqual({ type: "error", code: "malformed", message: expected.error.message });
    }
    const peer = await TestClient.connect(url);
    const room = roomHash();
    await client.joinAndSettle(room, 0);
    await peer.joinAndSettle(room, 1);
    client.relay("after all that");
    expect(await peer.next()).toEqual({ type: "message", sender: client.id, message: "after all that" });
    await check();
  });

  it("answers a binary frame with binary_frame and drops it", async () => {
    const { url } = await startRelay();
    const client = await TestClient.connect(url);
    client.ws.send(Buffer.from(JSON.stringify({ join: { hash: roomHash() } })), { binary: true });
    expect(await client.next()).toEqual({ type: "error", code: "binary_frame", message: "the relay accepts text frames only" });
    expect(await client.drain()).toEqual([]);
  });

  it("closes a text frame that is not UTF-8 with 1007", async () => {
    const { url } = await startRelay();
    const { check } = await bystanders(url);
    const client = await TestClient.connect(url);
    client.ws.send(Buffer.from([0x22, 0xff, 0xfe, 0x22]), { binary: false });
    expect(await client.closedWithin()).toEqual({ code: 1007, reason: "text frame is not valid UTF-8" });
    await check();
  });

  it("closes a 10 MiB frame with 1009 under the default limits; everyone else carries on", async () => {
    const { url, relay } = await startRelay();
    const { check } = await bystanders(url);
    const client = await TestClient.connect(url);
    await client.joinAndSettle(roomHash(), 0);
    client.relay("x".repeat(10 * 1024 * 1024));
    expect(await client.closedWithin(5000)).toEqual({ code: 1009, reason: "message larger than 8388608 bytes" });
    await check();
    await eventually(() => relay.stats().sockets === 2 && relay.stats().rooms === 1, 4000, "the big sender to be gone");
  });

  it("survives garbage after a raw handshake and frames from a client that does not mask", async () => {
    const { port, url } = await startRelay();
    const { check } = await bystanders(url);
    const garbage = await rawHandshake(port);
    garbage.resume();
    const closed = new Promise<void>((resolve) => garbage.once("close", () => resolve()));
    garbage.write(Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f])); // unmasked "hello"
    await closed;
    const reserved = await rawHandshake(port);
    reserved.resume();
    const closedToo = new Promise<void>((resolve) => reserved.once("close", () => resolve()));
    reserved.write(Buffer.concat([clientFrame('"ping"', 0x3), Buffer.alloc(64, 0xff)])); // reserved opcode
    await closedToo;
    await check();
  });
});

describe("a stalled reader", () => {
  it("never delays another room while it stalls, and is closed when its send buffer fills", async () => {
    // A send buffer large enough that the stall lasts while round trips are measured.
    const { port, url, relay } = await startRelay({
      limits: [
        "max_frame_bytes = 131072",
        "max_send_buffer_bytes = 8000000",
        "messages_per_second = 100000",
        "message_burst = 100000",
        "bytes_per_second = 1000000000",
        "byte_burst = 1000000000",
        "ping_interval_seconds = 600",
        "idle_timeout_seconds = 600",
      ].join("\n"),
    });
    const { a: pinger, b: ponger } = await bystanders(url);
    const flooded = roomHash();

    // The stalled client joins, then never reads again: its TCP window closes.
    const stalled = await rawHandshake(port);
    stalled.write(clientFrame(JSON.stringify({ join: { hash: flooded } })));
    await eventually(() => relay.stats().rooms === 2);

    const flooder = await TestClient.connect(url);
    flooder.join(flooded);
    expect(await flooder.next()).toEqual({ type: "client_join", id: flooder.id });
    const stalledJoin = await flooder.next();
    if (stalledJoin.type !== "client_join") throw new Error("expected the stalled client's join");

    // A second, healthy reader in the flooded room, counting what it gets.
    const reader = new WebSocket(url);
    let received = 0;
    reader.on("message", () => (received += 1));
    await new Promise((resolve) => reader.once("open", resolve));
    reader.send(JSON.stringify({ join: { hash: flooded } }));
    await eventually(() => received >= 3); // init, own join, the two members

    let stalledClosed = false;
    const leaveSeen = flooder
      .nextMatching((packet) => packet.type === "client_leave" && packet.id === stalledJoin.id, 20_000)
      .then(() => (stalledClosed = true));

    const payload = JSON.stringify({ relay: { message: "x".repeat(100 * 1024) } });
    const flood = (async () => {
      let sent = 0;
      while (!stalledClosed && sent < 5000) {
        for (let index = 0; index < 2; index++) flooder.ws.send(payload);
        sent += 2;
        await delay(5);
      }
      return sent;
    })();

    const whileStalled: number[] = [];
    for (let index = 0; !stalledClosed && index < 1000; index++) {
      const started = performance.now();
      pinger.relay(`rtt ${index}`, ponger.id);
      expect(await ponger.next()).toMatchObject({ message: `rtt ${index}` });
      ponger.relay(`ack ${index}`, pinger.id);
      expect(await pinger.next()).toMatchObject({ message: `ack ${index}` });
      if (!stalledClosed) whileStalled.push(performance.now() - started);
      await delay(5);
    }

    await leaveSeen;
    const sent = await flood;
    expect(sent * payload.length).toBeGreaterThan(8_000_000);
    expect(whileStalled.length).toBeGreaterThanOrEqual(10);
    expect(Math.max(...whileStalled)).toBeLessThan(200);
    // The stalled socket is cut off after the close grace; the healthy reader kept receiving.
    await eventually(() => relay.stats().sockets === 4, 5000, "the stalled socket to be gone");
    expect(received).toBeGreaterThan(100);
    expect(reader.readyState).toBe(WebSocket.OPEN);
    reader.terminate();
  });
});
