// Identity keys and safety codes in the Room engine: real relay on loopback, werift connections,
// and a relay operator who knows the room secret and rewrites the signaling on its way.

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createIdentityPair, identityFromPair } from "../../common/crypto/identity-key.js";
import { deriveRoomSecrets } from "../../common/crypto/room-crypto.js";
import type { SocketLike } from "../../common/engine/platform.js";
import { Room, type PeerKey, type PeerView, type RoomOptions } from "../../common/engine/room.js";
import type { RelayMessage } from "../../common/wire/packets.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { startRewritingRelay, type RewritingRelay } from "../harness/rewriting-relay.js";
import { createWeriftPeerConnection } from "./werift-platform.js";

const createSocket = (url: string) => new WebSocket(url) as unknown as SocketLike;
const staticRoot = mkdtempSync(path.join(os.tmpdir(), "meshmeet-identity-test-"));
const rooms: Room[] = [];
const proxies: RewritingRelay[] = [];
let relay: Relay;
let relayUrl: string;

beforeAll(async () => {
  relay = createRelay(loadConfig(`[server]\nbind = "127.0.0.1:0"\n`), { staticRoot });
  relayUrl = `ws://127.0.0.1:${(await relay.listen()).port}/signaling`;
});
afterAll(async () => {
  await relay.close();
  rmSync(staticRoot, { recursive: true, force: true });
});
afterEach(async () => {
  for (const room of rooms.splice(0)) room.leave();
  for (const proxy of proxies.splice(0)) await proxy.close();
});

function join(secret: string, username: string, extra: Partial<RoomOptions> = {}): Room {
  const room = new Room({ secret, username, signalingUrl: relayUrl, createSocket, createPeerConnection: createWeriftPeerConnection, ...extra });
  rooms.push(room);
  return room;
}

async function until<T>(read: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const named = (room: Room, name: string): PeerView | undefined => room.peerViews().find((view) => view.name === name);

/** Both rooms see each other, and `from` brings up a connection to `to` with nothing shared. */
async function meetAndConnect(from: Room, to: Room, toName: string, fromName: string): Promise<{ fromView: () => PeerView | undefined; toView: () => PeerView | undefined }> {
  const key: PeerKey = (await until(() => named(from, toName), `${toName} seen`)).key;
  await until(() => named(to, fromName), `${fromName} seen`);
  from.connect(key);
  return { fromView: () => named(from, toName), toView: () => named(to, fromName) };
}

const FAKE_FINGERPRINT = `sha-256 ${Array.from({ length: 32 }, () => "5A").join(":")}`;
const withFingerprint = (sdp: string, fingerprint: string) => sdp.replace(/^a=fingerprint:.*$/gm, `a=fingerprint:${fingerprint}`);

describe("identity keys over a connection", () => {
  it("show the same safety code on both sides, bound to each other's long-lived key", async () => {
    const anaIdentity = await identityFromPair(await createIdentityPair());
    const ana = join("identity-plain", "ana", { identity: anaIdentity });
    const bo = join("identity-plain", "bo");
    const { fromView, toView } = await meetAndConnect(bo, ana, "ana", "bo");
    const anaSeenByBo = await until(() => (fromView()?.identity?.binding === "bound" ? fromView()?.identity : undefined), "bo binds ana");
    const boSeenByAna = await until(() => (toView()?.identity?.binding === "bound" ? toView()?.identity : undefined), "ana binds bo");
    expect(anaSeenByBo.safetyCode).toMatch(/^\d{4}( \d{4}){5}$/);
    expect(boSeenByAna.safetyCode).toBe(anaSeenByBo.safetyCode);
    expect(anaSeenByBo.key).toBe(anaIdentity.publicKey);
    expect(boSeenByAna.key).toBe(await bo.ownIdentityKey());
    expect(fromView()?.connectionState).not.toBe("failed");
  });

  it("warn of a mismatch, with no code, when the relay swaps the certificate fingerprint in the SDP", async () => {
    const { key } = await deriveRoomSecrets("identity-swapped");
    const proxy = await startRewritingRelay(relayUrl, key, (message: RelayMessage) =>
      message.type === "offer" || message.type === "answer" ? { ...message, sdp: withFingerprint(message.sdp, FAKE_FINGERPRINT) } : message,
    );
    proxies.push(proxy);
    const ana = join("identity-swapped", "ana");
    const bo = join("identity-swapped", "bo", { signalingUrl: proxy.url });
    const problems: string[] = [];
    bo.events.on("problem", ({ code }) => problems.push(code));
    const { fromView } = await meetAndConnect(bo, ana, "ana", "bo");
    const seen = await until(() => (fromView()?.identity?.binding === "mismatch" ? fromView()?.identity : undefined), "bo sees the mismatch");
    expect(seen.safetyCode).toBeUndefined();
    expect(problems).toContain("identity-mismatch");
  });

  it("give different codes on the two sides when the relay also signs for its own certificate with its own key", async () => {
    const { key, hash } = await deriveRoomSecrets("identity-mitm");
    const mallory = await identityFromPair(await createIdentityPair());
    // Mallory rewrites both directions: each side sees Mallory's key, bound to Mallory's fingerprint.
    const rewrite = async (message: RelayMessage, sender: Parameters<typeof mallory.sign>[0]["clientId"]): Promise<RelayMessage> => {
      if (message.type === "offer" || message.type === "answer") return { ...message, sdp: withFingerprint(message.sdp, FAKE_FINGERPRINT) };
      if (message.type === "identify" && message.identity) {
        if (!message.identity.binding) return { ...message, identity: { key: mallory.publicKey } };
        const fingerprints = [FAKE_FINGERPRINT];
        return { ...message, identity: { key: mallory.publicKey, binding: { fingerprints, proof: await mallory.sign({ roomHash: hash, clientId: sender, fingerprints }) } } };
      }
      return message;
    };
    const toAna = await startRewritingRelay(relayUrl, key, rewrite);
    const toBo = await startRewritingRelay(relayUrl, key, rewrite);
    proxies.push(toAna, toBo);
    const ana = join("identity-mitm", "ana", { signalingUrl: toAna.url });
    const bo = join("identity-mitm", "bo", { signalingUrl: toBo.url });
    const { fromView, toView } = await meetAndConnect(bo, ana, "ana", "bo");
    const anaSeenByBo = await until(() => (fromView()?.identity?.binding === "bound" ? fromView()?.identity : undefined), "bo binds 'ana'");
    const boSeenByAna = await until(() => (toView()?.identity?.binding === "bound" ? toView()?.identity : undefined), "ana binds 'bo'");
    // Each believes the other's key is Mallory's, and the codes they would read to each other differ.
    expect(anaSeenByBo.key).toBe(mallory.publicKey);
    expect(boSeenByAna.key).toBe(mallory.publicKey);
    expect(anaSeenByBo.safetyCode).toMatch(/^\d{4}( \d{4}){5}$/);
    expect(boSeenByAna.safetyCode).not.toBe(anaSeenByBo.safetyCode);
  });

  it("leave a connected member that sends no identity (as keks-meet) without one, not pending or bound", async () => {
    const ana = join("identity-none", "ana", { identity: Promise.reject(new Error("this host has no ECDSA")) });
    const bo = join("identity-none", "bo");
    const { fromView, toView } = await meetAndConnect(bo, ana, "ana", "bo");
    await until(() => fromView()?.connectionState === "connected", "connected");
    // Ana still checks Bo's key; Bo has nothing of Ana's to check.
    await until(() => toView()?.identity?.binding === "pending" || toView()?.identity?.binding === "bound", "ana has bo's key");
    expect(fromView()?.identity).toBeUndefined();
  });
});
