// The relay's part in getting browsers through NATs: its STUN server (the one /config.json names)
// and the TURN credentials it mints per socket, over real sockets.

import { createHmac, randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { TURN_CREDENTIALS_QUERY, type ClientboundPacket } from "../../common/wire/packets.js";
import { decodeXorMappedAddress, readStunMessage, AttributeType } from "../../server/stun/message.js";
import { cleanup, httpRequest, roomHash, startRelay, TestClient } from "./helpers.js";

afterEach(cleanup);

const SECRET = "lab-secret-0123456789";
const TURN = `urls = ["turn:turn.example.org:3478?transport=udp", "turn:turn.example.org:3478?transport=tcp"]\nsecret = "${SECRET}"\ncredential_lifetime_seconds = 600`;

type TurnPacket = Extract<ClientboundPacket, { type: "turn_credentials" }>;

function bindingRequest(transactionId: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(0x0001, 0);
  header.writeUInt16BE(0, 2);
  header.writeUInt32BE(0x2112a442, 4);
  transactionId.copy(header, 8);
  return header;
}

describe("built-in STUN server", () => {
  it("answers a Binding request on the port /config.json names, with the sender's address", async () => {
    const { port } = await startRelay();
    const config = JSON.parse((await httpRequest(port, "/config.json")).body.toString()) as { webrtc: { stun: string } };
    const match = /^stun:127\.0\.0\.1:(\d+)$/.exec(config.webrtc.stun);
    expect(match).not.toBeNull();
    const stunPort = Number(match?.[1]);

    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    try {
      const transactionId = randomBytes(12);
      const reply = new Promise<Buffer>((resolve) => socket.once("message", resolve));
      socket.send(bindingRequest(transactionId), stunPort, "127.0.0.1");
      const read = readStunMessage(await reply);
      if (!read.ok) throw new Error(`not a STUN message: ${read.reason}`);
      expect(read.message.type).toBe(0x0101);
      const attribute = read.message.attributes.find((a) => a.type === AttributeType.xorMappedAddress);
      expect(attribute).toBeDefined();
      const mapped = attribute ? decodeXorMappedAddress(attribute.value, transactionId) : null;
      expect(mapped?.port).toBe(socket.address().port);
      expect(mapped?.ip.family).toBe(4);
      expect([...(mapped?.ip.bytes ?? [])]).toEqual([127, 0, 0, 1]);
    } finally {
      socket.close();
    }
  });

  it("is off with stun.enabled = false, and /config.json then names webrtc.stun", async () => {
    const { port, relay } = await startRelay({ stun: "enabled = false", webrtc: 'stun = "stun:stun.example.org:3478"' });
    expect(relay.stunAddress()).toBeNull();
    const config = JSON.parse((await httpRequest(port, "/config.json")).body.toString()) as { webrtc: { stun: string } };
    expect(config.webrtc.stun).toBe("stun:stun.example.org:3478");
  });

  it("refuses to start when its UDP port is taken, with nothing left listening", async () => {
    const taken = createSocket("udp4");
    await new Promise<void>((resolve) => taken.bind(0, "127.0.0.1", resolve));
    try {
      await expect(startRelay({ stun: `bind = "127.0.0.1:${taken.address().port}"` })).rejects.toThrow(/STUN server on UDP 127\.0\.0\.1:\d+.*coturn/);
    } finally {
      taken.close();
    }
  });
});

describe("TURN credentials", () => {
  it("are minted for a socket that asked, once it joined a room, in coturn's shared-secret scheme", async () => {
    const { url } = await startRelay({ turn: TURN });
    const client = await TestClient.connect(`${url}?${TURN_CREDENTIALS_QUERY}`);
    // Nothing before the join: a socket that never joins gets nothing to relay with.
    expect(await client.drain(150)).toEqual([]);
    client.join(roomHash());
    expect(await client.next()).toEqual({ type: "client_join", id: client.id });
    const packet = (await client.next()) as TurnPacket;
    expect(packet.type).toBe("turn_credentials");
    expect(packet.urls).toEqual(["turn:turn.example.org:3478?transport=udp", "turn:turn.example.org:3478?transport=tcp"]);
    const [expiry, id] = packet.username.split(":");
    expect(Number(expiry)).toBe(packet.expiresAt);
    expect(packet.expiresAt - Date.now() / 1000).toBeGreaterThan(590);
    expect(packet.expiresAt - Date.now() / 1000).toBeLessThanOrEqual(600);
    expect(id).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(packet.credential).toBe(createHmac("sha1", SECRET).update(packet.username).digest("base64"));
  });

  it("differ per socket, are renewed on every join, and never reach sockets that did not ask (keks-meet clients)", async () => {
    const { url } = await startRelay({ turn: TURN });
    const room = roomHash();
    const asked = await TestClient.connect(`${url}?${TURN_CREDENTIALS_QUERY}`);
    const other = await TestClient.connect(`${url}?${TURN_CREDENTIALS_QUERY}`);
    const plain = await TestClient.connect(url);
    await plain.joinAndSettle(room, 0);
    asked.join(room);
    const first = (await asked.nextMatching((p) => p.type === "turn_credentials")) as TurnPacket;
    other.join(room);
    const second = (await other.nextMatching((p) => p.type === "turn_credentials")) as TurnPacket;
    expect(second.username).not.toBe(first.username);
    asked.join(roomHash());
    const again = (await asked.nextMatching((p) => p.type === "turn_credentials")) as TurnPacket;
    expect(again.username).not.toBe(first.username);
    const seenByPlain = await plain.drain(150);
    expect(seenByPlain.some((p) => p.type === "turn_credentials")).toBe(false);
    expect(seenByPlain.length).toBeGreaterThan(0); // it did get the others' joins and leaves
  });

  it("are not sent when [turn] is not configured", async () => {
    const { url } = await startRelay();
    const client = await TestClient.connect(`${url}?${TURN_CREDENTIALS_QUERY}`);
    client.join(roomHash());
    expect(await client.next()).toEqual({ type: "client_join", id: client.id });
    expect(await client.drain(150)).toEqual([]);
  });
});
