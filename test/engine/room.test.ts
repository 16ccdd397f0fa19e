// The Room engine in Node: real relay on loopback, real `ws` sockets, werift peer connections.

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { deriveRoomSecrets } from "../../common/crypto/room-crypto.js";
import type { SocketLike } from "../../common/engine/platform.js";
import { MAX_CHAT_TEXT_CHARS, MAX_LABEL_CHARS, MAX_RESOURCES_PER_PEER, MAX_SERVING_CHANNELS_PER_RESOURCE, Room, type PeerKey, type RoomEvents } from "../../common/engine/room.js";
import { SignalingClient } from "../../common/engine/signaling.js";
import { sealRelayMessage } from "../../common/crypto/sealed-relay.js";
import { encodeServerbound } from "../../common/wire/encode.js";
import type { ClientId, RelayMessage } from "../../common/wire/packets.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { createWeriftAudioStream, createWeriftPeerConnection } from "./werift-platform.js";

const createSocket = (url: string) => new WebSocket(url) as unknown as SocketLike;
const staticRoot = mkdtempSync(path.join(os.tmpdir(), "meshmeet-room-test-"));
const rooms: Room[] = [];
let relay: Relay;
let port: number;

async function startRelay(bindPort = 0): Promise<void> {
  relay = createRelay(loadConfig(`[server]\nbind = "127.0.0.1:${bindPort}"\n`), { staticRoot });
  port = (await relay.listen()).port;
}

beforeAll(() => startRelay());
afterAll(async () => {
  await relay.close();
  rmSync(staticRoot, { recursive: true, force: true });
});
afterEach(() => {
  for (const room of rooms.splice(0)) room.leave();
});

function join(secret: string, username: string, extra: Partial<ConstructorParameters<typeof Room>[0]> = {}): Room {
  const room = new Room({
    secret,
    username,
    signalingUrl: `ws://127.0.0.1:${port}/signaling`,
    createSocket,
    createPeerConnection: createWeriftPeerConnection,
    reconnect: { initialDelayMs: 100, maxDelayMs: 400, jitter: 0.2 },
    ...extra,
  });
  rooms.push(room);
  return room;
}

function next<K extends keyof RoomEvents>(room: Room, type: K, where: (payload: RoomEvents[K]) => boolean = () => true) {
  return new Promise<RoomEvents[K]>((resolve) => {
    const off = room.events.on(type, (payload) => {
      if (where(payload)) {
        off();
        resolve(payload);
      }
    });
  });
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function keyOf(room: Room, name: string): PeerKey {
  const view = room.peerViews().find((p) => p.name === name);
  if (!view) throw new Error(`no peer named ${name}`);
  return view.key;
}

describe("Room (werift + real relay)", () => {
  it("introduces members by name and carries chat", async () => {
    const ana = join("room-names", "ana");
    const bo = join("room-names", "bo");
    await until(() => ana.peerViews().some((p) => p.name === "bo") && bo.peerViews().some((p) => p.name === "ana"), "names");
    const chat = next(bo, "chat", ({ from }) => from !== "self");
    ana.sendChat({ text: "hello bo" });
    expect((await chat).content).toEqual({ text: "hello bo" });
    const renamed = next(bo, "peer-renamed");
    ana.setName("ana maria");
    expect(await renamed).toMatchObject({ name: "ana maria", previous: "ana" });
  });

  it("sends a track on request, stops it on provide_stop, and keeps a late joiner informed", async () => {
    const ana = join("room-tracks", "ana");
    const bo = join("room-tracks", "bo", { autoRequest: (info) => info.trackKind === "audio" });
    await until(() => bo.peerViews().some((p) => p.name === "ana"), "bo sees ana");
    const stream = createWeriftAudioStream("mic-of-ana");
    const started = next(bo, "stream-started");
    const requested = next(ana, "local-requested");
    ana.provide({ info: { id: stream.id, kind: "track", trackKind: "audio", label: "Microphone" }, stream });
    expect(await requested).toMatchObject({ id: "mic-of-ana", active: true });
    expect(await started).toMatchObject({ id: "mic-of-ana" });
    expect(bo.peer(keyOf(bo, "ana"))?.resources.get("mic-of-ana")?.state).toBe("active");

    // A late joiner hears about the resource without asking.
    const cy = join("room-tracks", "cy");
    await until(() => cy.peerViews().some((p) => p.name === "ana" && p.resources.has("mic-of-ana")), "cy sees ana's mic");
    expect(cy.peer(keyOf(cy, "ana"))?.resources.get("mic-of-ana")?.state).toBe("available");

    const stopped = next(bo, "stream-stopped");
    const withdrawn = next(cy, "resource-withdrawn");
    ana.stopProviding("mic-of-ana");
    expect(await stopped).toMatchObject({ id: "mic-of-ana" });
    expect(await withdrawn).toMatchObject({ id: "mic-of-ana" });
    expect(bo.peer(keyOf(bo, "ana"))?.resources.has("mic-of-ana")).toBe(false);
  });

  it("sends previews only to members whose tile shows them: not to one receiving the stream itself", async () => {
    const preview = "data:image/webp;base64,UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==";
    const ana = join("room-previews", "ana");
    const bo = join("room-previews", "bo", { autoRequest: () => true });
    const cy = join("room-previews", "cy");
    await until(() => ana.peerViews().filter((p) => p.name).length === 2, "ana sees both");
    const stream = createWeriftAudioStream("cam-of-ana");
    const started = next(bo, "stream-started");
    ana.provide({ info: { id: stream.id, kind: "track", trackKind: "video", label: "Camera" }, stream });
    await started;
    await until(() => cy.peerViews().some((p) => p.resources.has("cam-of-ana")), "cy sees the offer");
    const boHeardAfter = next(bo, "chat");
    ana.sendPreview("cam-of-ana", preview);
    ana.sendChat({ text: "after the preview" });
    await until(() => cy.peer(keyOf(cy, "ana"))?.resources.get("cam-of-ana")?.preview === preview, "cy shows the preview");
    // The relay keeps each sender's order: anything sent to Bo before the chat is in by now.
    await boHeardAfter;
    expect(bo.peer(keyOf(bo, "ana"))?.resources.get("cam-of-ana")?.preview).toBeUndefined();
  });

  it("reports each step of a join once, in the order it happened", async () => {
    const anaSteps: string[] = [];
    const boSteps: string[] = [];
    const ana = join("room-milestones", "ana", { milestone: (step) => anaSteps.push(step) });
    await until(() => anaSteps.includes("joined"), "ana joined");
    const stream = createWeriftAudioStream("mic-milestones");
    ana.provide({ info: { id: stream.id, kind: "track", trackKind: "audio", label: "Microphone" }, stream });
    const bo = join("room-milestones", "bo", { autoRequest: () => true, milestone: (step) => boSteps.push(step) });
    await next(bo, "stream-started");
    await until(() => boSteps.includes("ice-connected"), "bo connected");
    expect(anaSteps.slice(0, 3)).toEqual(["relay-ready", "join-sent", "joined"]);
    // Bo asked for Ana's microphone: Ana offers, Bo answers.
    // (The track may arrive while the offer is applied, before the answer leaves.)
    expect(boSteps.slice(0, 5)).toEqual(["relay-ready", "join-sent", "joined", "first-peer", "offer-received"]);
    expect(boSteps).toEqual(expect.arrayContaining(["answer-sent", "first-track"]));
    expect(anaSteps).toContain("offer-sent");
    expect(anaSteps).toContain("answer-received");
    expect(new Set(boSteps).size).toBe(boSteps.length);
    bo.leave();
  });

  it("handles request and request_stop cycles from the receiver", async () => {
    const ana = join("room-cycles", "ana");
    const bo = join("room-cycles", "bo");
    const stream = createWeriftAudioStream("cam-of-ana");
    ana.provide({ info: { id: stream.id, kind: "track", trackKind: "video", label: "Camera" }, stream });
    await until(() => bo.peerViews().some((p) => p.resources.has("cam-of-ana")), "bo sees the camera");
    const anaKey = keyOf(bo, "ana");
    for (let cycle = 0; cycle < 3; cycle++) {
      const started = next(bo, "stream-started");
      bo.request(anaKey, "cam-of-ana");
      await started;
      const released = next(ana, "local-requested", ({ active }) => !active);
      bo.requestStop(anaKey, "cam-of-ana");
      await released;
      expect(bo.peer(anaKey)?.resources.get("cam-of-ana")?.state).toBe("available");
    }
  });

  it("survives a hostile peer: bad shapes, unsafe images, unknown requests", async () => {
    const ana = join("room-hostile", "ana");
    const problems: string[] = [];
    ana.events.on("problem", ({ code }) => problems.push(code));
    const chats: unknown[] = [];
    ana.events.on("chat", ({ content }) => chats.push(content));
    const secrets = await deriveRoomSecrets("room-hostile");
    const mallory = new SignalingClient({ url: `ws://127.0.0.1:${port}/signaling`, createSocket });
    await mallory.connected();
    await mallory.join(secrets);
    await until(() => mallory.members.size === 1, "mallory sees ana");
    const anaId = [...mallory.members][0] ?? 0;
    await mallory.relay({ type: "identify", username: "m".repeat(5000) });
    await mallory.relay({ type: "chat", content: { image: "https://tracker.invalid/pixel.png" } });
    await mallory.relay({ type: "chat", content: { image: "data:text/html;base64,PHNjcmlwdD4=" } });
    await mallory.relay({ type: "request", id: "nothing-here" }, anaId);
    await mallory.relay({ type: "request_stop", id: "nothing-here" }, anaId);
    await mallory.relay({ type: "provide_stop", id: "never-provided" });
    await mallory.relay({ type: "answer", sdp: "v=0" }, anaId);
    await mallory.relay({ type: "preview", id: "x", data: "https://tracker.invalid/" });
    await mallory.relay({ type: "chat", content: { text: "<img src=x onerror=alert(1)>" } });
    await until(() => chats.length === 1, "the text chat");
    expect(chats).toEqual([{ text: "<img src=x onerror=alert(1)>" }]);
    const view = ana.peerViews()[0];
    expect(view?.name?.length).toBe(100);
    mallory.close();
    await until(() => ana.peerViews().length === 0, "mallory gone");
    expect(problems.filter((p) => p !== "message-dropped")).toEqual([]);
  });

  it("a member who replays someone's identify gets a tile of their own, and takes nothing over", async () => {
    const ana = join("room-hijack", "ana");
    const bo = join("room-hijack", "bo");
    await until(() => bo.peerViews().some((p) => p.name === "ana") && ana.peerViews().some((p) => p.name === "bo"), "names");
    const anaKey = keyOf(bo, "ana");
    const problems: string[] = [];
    bo.events.on("problem", ({ code }) => problems.push(code));

    // Mallory joins and is sent Ana's identify, claim and all, as every member is.
    const secrets = await deriveRoomSecrets("room-hijack");
    const mallory = new SignalingClient({ url: `ws://127.0.0.1:${port}/signaling`, createSocket });
    const anaIdentify = new Promise<RelayMessage>((resolve) =>
      mallory.events.on("message", ({ message }) => {
        if (message.type === "identify" && message.username === "ana") resolve(message);
      }),
    );
    await mallory.connected();
    await mallory.join(secrets);
    const copied = await anaIdentify;
    expect(copied).toMatchObject({ type: "identify", claim: { key: expect.any(String), proof: expect.any(String) } });
    await mallory.relay(copied);
    await mallory.relay({ type: "chat", content: { text: "(sent by Mallory)" } });

    const chats: { from: string; text: string }[] = [];
    bo.events.on("chat", ({ from, content }) => {
      if ("text" in content) chats.push({ from, text: content.text });
    });
    await until(() => chats.length === 1, "mallory's chat");
    ana.sendChat({ text: "the real ana" });
    await until(() => chats.length === 2, "ana's chat");

    const impostor = bo.peerViews().find((p) => p.key !== anaKey && p.name === "ana");
    expect(impostor, "the impostor is a member of its own").toBeDefined();
    expect(chats).toEqual([
      { from: impostor?.key, text: "(sent by Mallory)" },
      { from: anaKey, text: "the real ana" },
    ]);
    expect(bo.peer(anaKey)?.name).toBe("ana");
    expect(problems).toContain("bad-claim");
    mallory.close();
  });

  it("marks a member whose messages carry no replay stamp (keks-meet) as unprotected, and ours as protected", async () => {
    const ana = join("room-unstamped", "ana");
    join("room-unstamped", "bo");
    await until(() => ana.peerViews().some((p) => p.name === "bo"), "bo");
    expect(ana.peerViews().find((p) => p.name === "bo")?.unprotected).toBe(false);
    // A client that speaks keks-meet's protocol exactly: a raw socket, envelopes without the stamp.
    const secrets = await deriveRoomSecrets("room-unstamped");
    const socket = new WebSocket(`ws://127.0.0.1:${port}/signaling`);
    const ownId = await new Promise<number>((resolve) =>
      socket.on("message", (data: Buffer) => {
        const packet = JSON.parse(data.toString()) as { init?: { your_id: number } };
        if (packet.init) resolve(packet.init.your_id);
      }),
    );
    socket.send(encodeServerbound({ type: "join", hash: secrets.hash }));
    await until(() => ana.peerViews().length === 2, "the keks-meet client joined");
    const sealed = await sealRelayMessage(secrets.key, ownId as ClientId, { type: "identify", username: "kek" });
    socket.send(encodeServerbound({ type: "relay", recipient: null, message: sealed }));
    await until(() => ana.peerViews().some((p) => p.name === "kek"), "kek identified");
    expect(ana.peerViews().find((p) => p.name === "kek")?.unprotected).toBe(true);
    expect(ana.peerViews().find((p) => p.name === "bo")?.unprotected).toBe(false);
    socket.close();
  });

  it("drops chat past the size limits with a problem, and keeps taking normal chat", async () => {
    const ana = join("room-chat-limits", "ana");
    const problems: string[] = [];
    ana.events.on("problem", ({ code }) => problems.push(code));
    const chats: unknown[] = [];
    ana.events.on("chat", ({ content }) => chats.push(content));
    const secrets = await deriveRoomSecrets("room-chat-limits");
    const mallory = new SignalingClient({ url: `ws://127.0.0.1:${port}/signaling`, createSocket });
    await mallory.connected();
    await mallory.join(secrets);
    await until(() => mallory.members.size === 1, "mallory sees ana");
    await mallory.relay({ type: "chat", content: { text: "x".repeat(MAX_CHAT_TEXT_CHARS + 1) } });
    // (An image past MAX_CHAT_IMAGE_CHARS, sealed, is past the default relay's 8 MiB frame limit:
    // the relay itself refuses it. The engine's bound is for relays configured larger.)
    await mallory.relay({ type: "chat", content: { text: "normal" } });
    await until(() => chats.length === 1, "the normal chat");
    expect(chats).toEqual([{ text: "normal" }]);
    expect(problems.filter((p) => p === "chat-too-large")).toHaveLength(1);
    mallory.close();
  });

  it("serves at most MAX_SERVING_CHANNELS_PER_RESOURCE requests of one file to one peer at once", async () => {
    const ana = join("room-request-cap", "ana");
    const problems: string[] = [];
    ana.events.on("problem", ({ code }) => problems.push(code));
    let served = 0;
    ana.provide({ info: { id: "f1", kind: "file", label: "x.bin", size: 10 }, openChannel: () => void served++ });
    const secrets = await deriveRoomSecrets("room-request-cap");
    const mallory = new SignalingClient({ url: `ws://127.0.0.1:${port}/signaling`, createSocket });
    await mallory.connected();
    await mallory.join(secrets);
    await until(() => mallory.members.size === 1, "mallory sees ana");
    const anaId = [...mallory.members][0] ?? 0;
    // Mallory never answers the offers, so every channel stays open (connecting) on Ana's side.
    for (let i = 0; i < MAX_SERVING_CHANNELS_PER_RESOURCE + 3; i++) await mallory.relay({ type: "request", id: "f1", offset: 9 }, anaId);
    await until(() => problems.filter((p) => p === "request-refused").length === 3, "the refusals");
    expect(served).toBe(MAX_SERVING_CHANNELS_PER_RESOURCE);
    mallory.close();
  });

  it("cuts long labels and ignores offers past MAX_RESOURCES_PER_PEER, with a problem", async () => {
    const ana = join("room-provide-limits", "ana");
    const problems: string[] = [];
    ana.events.on("problem", ({ code }) => problems.push(code));
    const secrets = await deriveRoomSecrets("room-provide-limits");
    const mallory = new SignalingClient({ url: `ws://127.0.0.1:${port}/signaling`, createSocket });
    await mallory.connected();
    await mallory.join(secrets);
    await until(() => mallory.members.size === 1, "mallory sees ana");
    for (let i = 0; i < MAX_RESOURCES_PER_PEER + 2; i++) {
      await mallory.relay({ type: "provide", info: { id: `f${i}`, kind: "file", label: "x".repeat(i === 0 ? 10_000 : 5), size: 1 } });
    }
    await until(() => problems.length === 2, "the two refused offers");
    const resources = ana.peerViews()[0]?.resources;
    expect(resources?.size).toBe(MAX_RESOURCES_PER_PEER);
    expect(resources?.get("f0")?.info.label?.length).toBe(MAX_LABEL_CHARS);
    expect(problems).toEqual(["bad-offer", "bad-offer"]);
    mallory.close();
  });

  it("removes a connected peer at once when it leaves on purpose", async () => {
    const ana = join("room-clean-leave", "ana");
    const bo = join("room-clean-leave", "bo", { autoRequest: () => true });
    const stream = createWeriftAudioStream("mic-leave");
    const started = next(bo, "stream-started");
    ana.provide({ info: { id: stream.id, kind: "track", trackKind: "audio", label: "Microphone" }, stream });
    await started;
    const anaKey = keyOf(bo, "ana");
    await until(() => bo.peer(anaKey)?.connectionState === "connected", "connected");
    const left = next(bo, "peer-left");
    const startedAt = Date.now();
    ana.leave();
    expect(await left).toMatchObject({ key: anaKey, name: "ana" });
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(bo.peerViews()).toEqual([]);
  });

  it("comes back after the relay restarts: same peers, same connection, no leave", async () => {
    const ana = join("room-restart", "ana");
    const bo = join("room-restart", "bo", { autoRequest: () => true });
    const stream = createWeriftAudioStream("mic-restart");
    const started = next(bo, "stream-started");
    ana.provide({ info: { id: stream.id, kind: "track", trackKind: "audio", label: "Microphone" }, stream });
    await started;
    const anaKey = keyOf(bo, "ana");
    const boKey = keyOf(ana, "bo");
    await until(() => bo.peer(anaKey)?.connectionState === "connected", "connected");
    const left: unknown[] = [];
    ana.events.on("peer-left", (e) => left.push(e));
    bo.events.on("peer-left", (e) => left.push(e));

    const oldPort = port;
    await relay.close();
    await until(() => ana.relayStatus === "reconnecting" && bo.relayStatus === "reconnecting", "both notice");
    await startRelay(oldPort);
    await until(() => ana.relayStatus === "connected" && bo.relayStatus === "connected", "both reconnected");
    await until(
      () => ana.peer(boKey)?.presence === "present" && bo.peer(anaKey)?.presence === "present",
      "both see each other present again",
    );
    expect(left).toEqual([]);
    expect(ana.peerViews()).toHaveLength(1);
    expect(bo.peerViews()).toHaveLength(1);
    expect(bo.peer(anaKey)?.connectionState).toBe("connected");
    expect(bo.peer(anaKey)?.resources.get("mic-restart")?.state).toBe("active");
    // Signaling works again under the new ids.
    const chat = next(bo, "chat", ({ from }) => from === anaKey);
    ana.sendChat({ text: "still here" });
    expect((await chat).content).toEqual({ text: "still here" });
  });
});
