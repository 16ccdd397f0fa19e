// Connection against a fake socket and a fake host: the paths no real client can reach
// (a bug in a handler) and the exact bookkeeping of closing.

import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { loadConfig } from "./config.js";
import { Connection, type ConnectionHost } from "./connection.js";
import { createCapturingLogger } from "./log.js";
import { Rooms } from "./rooms.js";

class FakeSocket extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  readonly closes: { code: number; reason: string }[] = [];
  terminated = false;
  send(frame: Buffer): void {
    this.sent.push(frame.toString());
  }
  ping(): void {}
  close(code: number, reason: string): void {
    this.closes.push({ code, reason });
    this.readyState = 2;
  }
  terminate(): void {
    this.terminated = true;
  }
}

function setup(rooms: Rooms, turn: ConnectionHost["turn"] = null, wantsTurnCredentials = false) {
  const log = createCapturingLogger();
  const detached: number[] = [];
  const host: ConnectionHost = {
    limits: loadConfig().limits,
    rooms,
    log,
    tag: (value) => `tag(${value.length})`,
    version: "meshmeet test",
    turn,
    outboxPolicy: { maxBufferedBytes: 1 << 20, coalescer: null },
    detach: (connection) => detached.push(connection.id),
    closed: () => {},
  };
  const socket = new FakeSocket();
  // The fake has the part of ws's WebSocket that Connection uses.
  const connection = new Connection(42, "127.0.0.1", socket as unknown as WebSocket, host, undefined, wantsTurnCredentials);
  return { socket, log, detached, connection };
}

describe("Connection", () => {
  it("renews the TURN credential of a member a minute before it expires, and stops after it leaves", () => {
    const rooms = new Rooms({ maxRoomMembers: 2, maxWatchedRooms: 2 }, () => {});
    rooms.add(42);
    const turn = { urls: ["turn:t.example:3478"], secret: "0123456789abcdef", credentialLifetimeSeconds: 600 };
    const { socket, connection } = setup(rooms, turn, true);
    const credentials = (): string[] => socket.sent.filter((frame) => frame.startsWith('{"turn_credentials"'));
    socket.emit("message", Buffer.from(JSON.stringify({ join: { hash: "a".repeat(64) } })), false);
    expect(credentials()).toHaveLength(1);
    const now = Date.now();
    connection.renewTurnCredentials(now + 500_000);
    expect(credentials()).toHaveLength(1);
    connection.renewTurnCredentials(now + 541_000);
    expect(credentials()).toHaveLength(2);
    const renewed = JSON.parse(credentials()[1] ?? "{}") as { turn_credentials: { expires_at: number } };
    expect(renewed.turn_credentials.expires_at).toBeGreaterThanOrEqual(Math.floor((now + 541_000) / 1000) + 600);
    socket.emit("message", Buffer.from(JSON.stringify({ join: { hash: null } })), false);
    connection.renewTurnCredentials(now + 10_000_000);
    expect(credentials()).toHaveLength(2);
  });

  it("sends init first", () => {
    const rooms = new Rooms({ maxRoomMembers: 2, maxWatchedRooms: 2 }, () => {});
    rooms.add(42);
    const { socket } = setup(rooms);
    expect(socket.sent).toEqual(['{"init":{"your_id":42,"version":"meshmeet test"}}']);
  });

  it("closes only its own socket with 1011 when a handler throws, logs it, and detaches later", async () => {
    const rooms = new Rooms({ maxRoomMembers: 2, maxWatchedRooms: 2 }, () => {});
    rooms.add(42);
    rooms.join = () => {
      throw new Error("bug");
    };
    const { socket, log, detached } = setup(rooms);
    socket.emit("message", Buffer.from(JSON.stringify({ join: { hash: "a".repeat(64) } })), false);
    expect(socket.closes).toEqual([{ code: 1011, reason: "internal error" }]);
    expect(log.entries.some((entry) => entry.event === "handler_failed")).toBe(true);
    expect(detached).toEqual([]);
    await Promise.resolve();
    expect(detached).toEqual([42]);
    socket.emit("message", Buffer.from('"ping"'), false);
    expect(socket.closes).toHaveLength(1);
  });

  it("survives a host that throws inside the close event", () => {
    const rooms = new Rooms({ maxRoomMembers: 2, maxWatchedRooms: 2 }, () => {});
    rooms.add(42);
    const { socket, log, connection } = setup(rooms);
    const throwingHost = connection as unknown as { host: ConnectionHost };
    throwingHost.host = {
      ...throwingHost.host,
      detach: () => {
        throw new Error("bug");
      },
    };
    expect(() => socket.emit("close", 1000)).not.toThrow();
    expect(log.entries.some((entry) => entry.event === "close_failed")).toBe(true);
  });
});
