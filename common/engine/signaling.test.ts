import { afterEach, describe, expect, it, vi } from "vitest";
import { deriveRoomSecrets, type RoomSecrets } from "../crypto/room-crypto.js";
import { sealRelayMessage } from "../crypto/sealed-relay.js";
import { encodeClientbound } from "../wire/encode.js";
import type { ClientboundPacket, RelayMessage } from "../wire/packets.js";
import { parseServerbound } from "../wire/parse.js";
import type { SocketLike } from "./platform.js";
import { SignalingClient, type SignalingEvents } from "./signaling.js";

type Listener = (event: never) => void;

/** An in-memory stand-in for the relay socket: the test plays the relay. */
class FakeSocket implements SocketLike {
  readyState = 0;
  readonly sent: string[] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  private readonly listeners = new Map<string, Listener[]>();

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
    this.fire("close", { code: code ?? 1005, reason: reason ?? "" });
  }
  fire(type: string, event: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) (listener as (e: unknown) => void)(event);
  }
  open(): void {
    this.readyState = 1;
    this.fire("open", {});
  }
  deliver(packet: ClientboundPacket): void {
    this.fire("message", { data: encodeClientbound(packet) });
  }
  sentPackets() {
    return this.sent.map((text) => parseServerbound(text));
  }
}

let secrets: RoomSecrets;
const clients: SignalingClient[] = [];

async function setup(): Promise<{ socket: FakeSocket; client: SignalingClient; seen: Array<[string, unknown]> }> {
  secrets ??= await deriveRoomSecrets("hunter2");
  const socket = new FakeSocket();
  const client = new SignalingClient({ url: "ws://relay.test/signaling", createSocket: () => socket, pingIntervalMs: 50 });
  clients.push(client);
  const seen: Array<[string, unknown]> = [];
  for (const type of ["connected", "room-joined", "peer-joined", "peer-left", "message", "dropped", "room-info", "relay-error", "disconnected"] as const) {
    client.events.on(type, (payload: SignalingEvents[typeof type]) => seen.push([type, payload]));
  }
  socket.open();
  socket.deliver({ type: "init", yourId: 10, version: "meshmeet test" });
  await client.connected();
  return { socket, client, seen };
}

/** Lets the inbound promise chain (WebCrypto opens) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

describe("SignalingClient", () => {
  it("joins with the room hash and tracks members from client_join/client_leave", async () => {
    const { socket, client, seen } = await setup();
    await client.join(secrets);
    expect(socket.sentPackets().at(-1)).toEqual({ ok: true, value: { type: "join", hash: secrets.hash } });
    socket.deliver({ type: "client_join", id: 10 });
    socket.deliver({ type: "client_join", id: 11 });
    socket.deliver({ type: "client_join", id: 11 });
    socket.deliver({ type: "client_leave", id: 11 });
    socket.deliver({ type: "client_leave", id: 11 }); // keks-meet relays repeat leaves
    await settle();
    expect(seen.filter(([type]) => type !== "connected")).toEqual([
      ["room-joined", { hash: secrets.hash }],
      ["peer-joined", { id: 11 }],
      ["peer-left", { id: 11, clean: undefined }],
    ]);
    expect([...client.members]).toEqual([]);
  });

  it("ignores another member's join that arrives before our own", async () => {
    const { socket, client, seen } = await setup();
    await client.join(secrets);
    socket.deliver({ type: "client_join", id: 12 });
    await settle();
    expect(seen.some(([type]) => type === "peer-joined")).toBe(false);
    expect(client.members.size).toBe(0);
  });

  it("seals outgoing messages in call order, targeted or broadcast, one key each", async () => {
    const { socket, client } = await setup();
    await client.join(secrets);
    const messages: RelayMessage[] = Array.from({ length: 20 }, (_, i) => ({ type: "chat", content: { text: `m${i}` } }));
    await Promise.all(messages.map((message, i) => client.relay(message, i % 2 === 0 ? 11 : undefined)));
    const relays = socket.sentPackets().flatMap((p) => (p.ok && p.value.type === "relay" ? [p.value] : []));
    expect(relays).toHaveLength(20);
    const { open } = await import("../crypto/room-crypto.js");
    let stream: unknown;
    for (const [i, relay] of relays.entries()) {
      expect(relay.recipient).toBe(i % 2 === 0 ? 11 : null);
      const plain = await open(secrets.key, relay.message);
      if (!plain.ok) throw new Error("did not open");
      // keks-meet's two keys first, then the replay stamp: one stream, counting from 1, the recipient.
      const envelope = JSON.parse(plain.value) as Record<string, unknown>;
      stream ??= envelope.stream;
      expect(envelope).toEqual({ inner: { chat: { text: `m${i}` } }, sender: 10, stream, seq: i + 1, to: i % 2 === 0 ? 11 : null });
      expect(Object.keys(envelope).slice(0, 2)).toEqual(["inner", "sender"]);
    }
    expect(stream).toMatch(/^[A-Za-z0-9+/]{16}$/);
  });

  it("drops stamped messages that come again, out of order or meant for another member; passes keks-meet's unstamped", async () => {
    const { socket, client, seen } = await setup();
    await client.join(secrets);
    socket.deliver({ type: "client_join", id: 10 });
    socket.deliver({ type: "client_join", id: 11 });
    const stream = "AAAAAAAAAAAAAAAAAAAAAA".slice(0, 16);
    const chat = (text: string) => ({ type: "chat", content: { text } }) as const;
    const stamped = (text: string, seq: number, to: number | null) => sealRelayMessage(secrets.key, 11, chat(text), { stream, seq, to });
    const first = await stamped("one", 1, null);
    const sealed = [
      first,
      first, // the relay plays it again
      await stamped("three", 3, 10),
      await stamped("two", 2, null), // held back and delivered late
      await stamped("for someone else", 4, 12),
      await stamped("four", 5, 10),
      await sealRelayMessage(secrets.key, 11, chat("from keks-meet")),
    ];
    for (const message of sealed) socket.deliver({ type: "message", sender: 11, message });
    await settle();
    const delivered = seen.flatMap(([type, payload]) => {
      if (type !== "message") return [];
      const { message, stamped: isStamped } = payload as SignalingEvents["message"];
      return message.type === "chat" && "text" in message.content ? [[message.content.text, isStamped]] : [];
    });
    expect(delivered).toEqual([
      ["one", true],
      ["three", true],
      ["four", true],
      ["from keks-meet", false],
    ]);
    const drops = seen.flatMap(([type, payload]) => (type === "dropped" ? [(payload as SignalingEvents["dropped"]).reason.code] : []));
    expect(drops).toEqual(["replayed", "replayed", "misdirected"]);
  });

  it("delivers opened messages in arrival order and drops bad ones with a reason", async () => {
    const { socket, client, seen } = await setup();
    await client.join(secrets);
    socket.deliver({ type: "client_join", id: 10 });
    socket.deliver({ type: "client_join", id: 11 });
    const other = await deriveRoomSecrets("test");
    const good = await Promise.all(
      Array.from({ length: 10 }, (_, i) => sealRelayMessage(secrets.key, 11, { type: "chat", content: { text: `t${i}` } })),
    );
    const forgedSender = await sealRelayMessage(secrets.key, 99, { type: "chat", content: { text: "forged" } });
    const wrongKey = await sealRelayMessage(other.key, 11, { type: "chat", content: { text: "other room" } });
    socket.deliver({ type: "message", sender: 11, message: forgedSender });
    socket.deliver({ type: "message", sender: 11, message: wrongKey });
    socket.deliver({ type: "message", sender: 11, message: "%%%" });
    socket.deliver({ type: "message", sender: 55, message: good[0] ?? "" });
    for (const sealed of good) socket.deliver({ type: "message", sender: 11, message: sealed });
    await settle();
    const texts = seen.flatMap(([type, payload]) =>
      type === "message" ? [(payload as SignalingEvents["message"]).message] : [],
    );
    expect(texts).toEqual(Array.from({ length: 10 }, (_, i) => ({ type: "chat", content: { text: `t${i}` } })));
    const drops = seen.flatMap(([type, payload]) => (type === "dropped" ? [(payload as SignalingEvents["dropped"]).reason.code] : []));
    expect(drops).toEqual(["sender_mismatch", "auth_failed", "bad_base64", "unknown_sender"]);
  });

  it("pings on its interval and stops when closed", async () => {
    vi.useFakeTimers();
    try {
      const socket = new FakeSocket();
      const client = new SignalingClient({ url: "ws://x/signaling", createSocket: () => socket, pingIntervalMs: 1000 });
      socket.open();
      vi.advanceTimersByTime(3500);
      expect(socket.sent.filter((t) => t === '{"ping":null}')).toHaveLength(3);
      client.close();
      vi.advanceTimersByTime(5000);
      expect(socket.sent.filter((t) => t === '{"ping":null}')).toHaveLength(3);
      expect(socket.closedWith).toEqual({ code: 1000, reason: "client closed" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("surfaces relay errors and ignores unknown packets and non-text frames", async () => {
    const { socket, seen } = await setup();
    socket.fire("message", { data: '{"brand_new_packet":{}}' });
    socket.fire("message", { data: new Uint8Array([1, 2]) });
    socket.deliver({ type: "error", code: "rate_limited", message: "slow down" });
    await settle();
    expect(seen.filter(([type]) => type === "relay-error")).toEqual([["relay-error", { code: "rate_limited", message: "slow down" }]]);
  });

  it("rejects connected() when the socket closes before init", async () => {
    const socket = new FakeSocket();
    const client = new SignalingClient({ url: "ws://x/signaling", createSocket: () => socket });
    socket.fire("close", { code: 1006, reason: "" });
    await expect(client.connected()).rejects.toThrow(/closed before init/);
  });
});
