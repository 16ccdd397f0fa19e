// Link fitting through the Room in Node: real relay on loopback, werift peer connections. A
// receiver that reports a small tile makes the sender scale its encoding down for that receiver
// alone; with fitting off nothing is set. werift has no encoder and no track settings, so the
// sent track is given a size here; its setParameters stores what it is given, which we read back.

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { SocketLike } from "../../common/engine/platform.js";
import { Room, type PeerKey } from "../../common/engine/room.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { createWeriftPeerConnection, werift } from "./werift-platform.js";

const createSocket = (url: string) => new WebSocket(url) as unknown as SocketLike;
const staticRoot = mkdtempSync(path.join(os.tmpdir(), "meshmeet-link-fit-test-"));
const rooms: Room[] = [];
let relay: Relay;
let port: number;

beforeAll(async () => {
  relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot });
  port = (await relay.listen()).port;
});
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
    autoRequest: () => true,
    ...extra,
  });
  rooms.push(room);
  return room;
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

/** A werift video track that says it captures 640×480 at 30 fps, as a browser's would. */
function camera(id: string): MediaStream {
  const track = new werift.MediaStreamTrack({ kind: "video" });
  Object.assign(track, { getSettings: () => ({ width: 640, height: 480, frameRate: 30 }) });
  return new werift.MediaStream({ id, tracks: [track] }) as unknown as MediaStream;
}

/** scaleResolutionDownBy of the encoding `sender` sends `stream` to `peer` with. */
function sentScale(sender: Room, peer: PeerKey, stream: MediaStream): unknown {
  const track = stream.getVideoTracks()[0];
  const rtpSender = sender.connectionOf(peer)?.getSenders().find((s) => s.track === track);
  return rtpSender?.getParameters().encodings[0]?.scaleResolutionDownBy;
}

async function meet(secret: string, fitVideo: boolean): Promise<{ ana: Room; bo: Room; cy: Room; stream: MediaStream }> {
  const ana = join(secret, "ana", { fitVideo });
  const bo = join(secret, "bo");
  const cy = join(secret, "cy");
  await until(() => ana.peerViews().filter((p) => p.name).length === 2, "ana sees both");
  const stream = camera(`cam-${secret}`);
  ana.provide({ info: { id: stream.id, kind: "track", trackKind: "video", label: "Camera" }, stream });
  for (const receiver of [bo, cy]) {
    await until(() => receiver.peer(keyOf(receiver, "ana"))?.resources.get(stream.id)?.state === "active", "the camera arrives");
  }
  return { ana, bo, cy, stream };
}

describe("link fitting (werift + real relay)", () => {
  it("scales the encoding down for the receiver whose tile is small, and only for that one", async () => {
    const { ana, bo, cy, stream } = await meet("fit-small-tile", true);
    bo.reportDisplaySize(keyOf(bo, "ana"), stream.id, { width: 160, height: 120 });
    cy.reportDisplaySize(keyOf(cy, "ana"), stream.id, { width: 1280, height: 960 });
    const toBo = keyOf(ana, "bo");
    const toCy = keyOf(ana, "cy");
    await until(() => sentScale(ana, toBo, stream) === 4, "a 4× smaller encoding for bo");
    expect(sentScale(ana, toCy, stream) ?? 1).toBe(1);

    // bo's tile grows: the encoding follows.
    bo.reportDisplaySize(keyOf(bo, "ana"), stream.id, { width: 640, height: 480 });
    await until(() => sentScale(ana, toBo, stream) === 1, "full size again for bo");
  });

  it("leaves encodings alone when fitting is off", async () => {
    const { ana, bo, stream } = await meet("fit-off", false);
    bo.reportDisplaySize(keyOf(bo, "ana"), stream.id, { width: 160, height: 120 });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(sentScale(ana, keyOf(ana, "bo"), stream)).toBeUndefined();
  });
});
