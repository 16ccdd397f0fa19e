// The relay benchmark's baseline: the best plain `ws` forwarder we know how to write for this load,
// so that "the relay costs X × a bare forwarder" compares the relay against good code, not against
// a naive loop. It does only what the load needs (no parsing past the join, no validation, no
// limits, no pings) and uses the same transport tricks as the relay:
//   - ws options as the relay's: no compression, no client tracking (the relay keeps no ws Set);
//   - the frames a socket gets within one event-loop turn leave in one write: its TCP stream is
//     corked on the first frame and uncorked once at the end of the turn (ws alone writes every
//     frame with its own system call);
//   - a broadcast is one Buffer handed to every other member (no copy, no re-encoding).

import type { Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export interface RunningServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

interface Member {
  readonly socket: WebSocket;
  readonly transport: Socket;
  /** Corked in the current event-loop turn. */
  corked: boolean;
}

/** Corks each stream on its first frame of a turn and uncorks all of them in one setImmediate. */
class TurnCorker {
  private readonly corked: Member[] = [];
  private readonly flush = (): void => {
    for (const member of this.corked) {
      member.corked = false;
      member.transport.uncork();
    }
    this.corked.length = 0;
  };

  cork(member: Member): void {
    if (member.corked) return;
    member.corked = true;
    member.transport.cork();
    if (this.corked.push(member) === 1) setImmediate(this.flush);
  }
}

/**
 * Listens on 127.0.0.1 (any port). The first text frame of a socket is taken as its join (the
 * only JSON it parses); it sends `init` and the joiner's own `client_join`, so the load
 * generator's handshake is the same as with the relay, and then forwards each text frame
 * verbatim to the other members of the room.
 */
export async function startBareForwarder(): Promise<RunningServer> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, clientTracking: false, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  const rooms = new Map<string, Set<Member>>();
  const live = new Set<WebSocket>();
  const corker = new TurnCorker();
  let nextId = 1;

  wss.on("connection", (socket, request) => {
    const id = nextId++;
    const self: Member = { socket, transport: request.socket, corked: false };
    let room: Set<Member> | null = null;
    let roomHash = "";
    live.add(socket);
    socket.send(`{"init":{"your_id":${id},"version":"bare"}}`);
    socket.on("message", (data, isBinary) => {
      if (isBinary) return;
      if (room !== null) {
        for (const other of room) {
          if (other === self) continue;
          corker.cork(other);
          other.socket.send(data, { binary: false });
        }
        return;
      }
      const packet = JSON.parse(data.toString()) as { join?: { hash?: unknown } };
      const hash = packet.join?.hash;
      if (typeof hash !== "string") return;
      room = rooms.get(hash) ?? new Set<Member>();
      rooms.set(hash, room);
      room.add(self);
      roomHash = hash;
      socket.send(`{"client_join":{"id":${id}}}`);
    });
    socket.on("close", () => {
      live.delete(socket);
      if (room === null) return;
      room.delete(self);
      if (room.size === 0) rooms.delete(roomHash);
    });
    // A reset connection (the load generator terminates its sockets at the end) is followed by
    // "close", which cleans up; without a listener, ws would throw the error instead.
    socket.on("error", () => {});
  });

  const address = wss.address();
  if (address === null || typeof address === "string") throw new Error("bare: not listening on TCP");
  return {
    address: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of live) socket.terminate();
        wss.close(() => resolve());
      }),
  };
}
