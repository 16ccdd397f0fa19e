// Test harness for the relay over real loopback sockets: relays on 127.0.0.1 port 0 built from
// TOML overrides, `ws` clients with a packet queue, and raw TCP clients for what `ws` will not do
// (never answer pings, never read, send hand-made frames). Everything started is closed by
// `cleanup()`, which each test file runs in afterEach.

import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { expect } from "vitest";
import { WebSocket, type ClientOptions } from "ws";
import type { ClientboundPacket, ClientId, RoomHash } from "../../common/wire/packets.js";
import { parseClientbound } from "../../common/wire/parse.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { silentLogger, type Logger } from "../../server/log.js";

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function roomHash(): RoomHash {
  return randomBytes(32).toString("hex");
}

/** Polls `condition` until it holds or `timeoutMs` passes. */
export async function eventually(condition: () => boolean, timeoutMs = 3000, what = "condition"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

export interface TomlOverrides {
  readonly server?: string;
  readonly limits?: string;
  readonly webrtc?: string;
  readonly appearance?: string;
  readonly stun?: string;
  readonly turn?: string;
}

export interface RunningRelay {
  readonly relay: Relay;
  readonly port: number;
  /** ws://127.0.0.1:port/signaling */
  readonly url: string;
  /** http://127.0.0.1:port */
  readonly origin: string;
}

const closers: (() => Promise<void> | void)[] = [];

export async function cleanup(): Promise<void> {
  const pending = closers.splice(0).reverse();
  for (const close of pending) await close();
}

export async function startRelay(
  overrides: TomlOverrides = {},
  options: { staticRoot?: string; logger?: Logger } = {},
): Promise<RunningRelay> {
  const toml = [
    `[server]\nbind = "127.0.0.1:0"\n${overrides.server ?? ""}`,
    `[limits]\n${overrides.limits ?? ""}`,
    `[webrtc]\n${overrides.webrtc ?? ""}`,
    `[appearance]\n${overrides.appearance ?? ""}`,
    `[stun]\n${overrides.stun ?? ""}`,
    `[turn]\n${overrides.turn ?? ""}`,
  ].join("\n");
  const relay = createRelay(loadConfig(toml), {
    staticRoot: options.staticRoot ?? "/nonexistent-meshmeet-static-root",
    logger: options.logger ?? silentLogger,
  });
  const { port } = await relay.listen();
  closers.push(() => relay.close());
  return { relay, port, url: `ws://127.0.0.1:${port}/signaling`, origin: `http://127.0.0.1:${port}` };
}

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** A `ws` client whose incoming packets queue up for `next()`. */
export class TestClient {
  private readonly queue: string[] = [];
  private wake: (() => void) | undefined;
  readonly closed: Promise<Closed>;
  /** Our id, from init (set by connect()). */
  id: ClientId = -1;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      this.queue.push(isBinary ? "<binary frame>" : String(data));
      this.wake?.();
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a socket; resolves once open (or once closed, for a refused socket). */
  static async open(url: string, options?: ClientOptions): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    closers.push(() => client.ws.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("close", () => resolve());
    });
    return client;
  }

  /** Opens a socket and reads init. */
  static async connect(url: string, options?: ClientOptions): Promise<TestClient> {
    const client = await TestClient.open(url, options);
    const init = await client.next();
    if (init.type !== "init") throw new Error(`expected init first, got ${init.type}`);
    client.id = init.yourId;
    return client;
  }

  /** The close code and reason, or a failure if the socket is still open after `timeoutMs`. */
  async closedWithin(timeoutMs = 3000): Promise<Closed> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async nextText(timeoutMs = 2000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (this.queue.length === 0) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error("timed out waiting for a packet");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.queue.shift() as string;
  }

  async next(timeoutMs = 2000): Promise<ClientboundPacket> {
    const text = await this.nextText(timeoutMs);
    const packet = parseClientbound(text);
    if (!packet.ok) throw new Error(`unparsable packet from the relay: ${packet.error.message}`);
    return packet.value;
  }

  /** Reads packets until one matches (the others are dropped). */
  async nextMatching(match: (packet: ClientboundPacket) => boolean, timeoutMs = 3000): Promise<ClientboundPacket> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const packet = await this.next(Math.max(1, deadline - performance.now()));
      if (match(packet)) return packet;
    }
  }

  /** Waits `ms` and returns whatever arrived meanwhile (tests expect []). */
  async drain(ms = 100): Promise<ClientboundPacket[]> {
    await delay(ms);
    const texts = this.queue.splice(0);
    return texts.map((text) => {
      const packet = parseClientbound(text);
      if (!packet.ok) throw new Error(`unparsable packet from the relay: ${packet.error.message}`);
      return packet.value;
    });
  }

  send(packet: unknown): void {
    this.ws.send(typeof packet === "string" ? packet : JSON.stringify(packet));
  }

  join(hash: RoomHash | null): void {
    this.send({ join: { hash } });
  }

  relay(message: string, recipient?: ClientId): void {
    this.send({ relay: recipient === undefined ? { message } : { recipient, message } });
  }

  watch(hashes: readonly RoomHash[]): void {
    this.send({ watch_rooms: hashes });
  }

  /** Joins and consumes this client's own join packets (own client_join + one per member). */
  async joinAndSettle(hash: RoomHash, membersBefore: number): Promise<void> {
    this.join(hash);
    for (let index = 0; index <= membersBefore; index++) await this.next();
  }
}

// ---------------------------------------------------------------------------------------------
// Raw TCP clients

/** Completes a WebSocket handshake by hand; the socket is left paused after the 101 response. */
export async function rawHandshake(port: number, path = "/signaling"): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  closers.push(() => {
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const head = await new Promise<string>((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer): void => {
      text += chunk.toString("latin1");
      if (text.includes("\r\n\r\n")) {
        socket.off("data", onData);
        socket.pause();
        resolve(text);
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
  if (!head.startsWith("HTTP/1.1 101")) throw new Error(`handshake refused: ${head.split("\r\n")[0]}`);
  return socket;
}

/** A masked client frame (clients must mask, RFC 6455 §5.3). */
export function clientFrame(payload: Buffer | string, opcode = 0x1): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  const mask = randomBytes(4);
  let header: Buffer;
  if (data.length < 126) {
    header = Buffer.from([0x80 | opcode, 0x80 | data.length]);
  } else if (data.length < 65536) {
    header = Buffer.alloc(4);
    header.writeUInt8(0x80 | opcode, 0);
    header.writeUInt8(0x80 | 126, 1);
    header.writeUInt16BE(data.length, 2);
  } else {
    header = Buffer.alloc(10);
    header.writeUInt8(0x80 | opcode, 0);
    header.writeUInt8(0x80 | 127, 1);
    header.writeBigUInt64BE(BigInt(data.length), 2);
  }
  const masked = Buffer.alloc(data.length);
  for (let index = 0; index < data.length; index++) masked[index] = (data[index] ?? 0) ^ (mask[index % 4] ?? 0);
  return Buffer.concat([header, mask, masked]);
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/** A request whose path is sent exactly as given (fetch would normalise `..`). */
export function httpRequest(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Writes raw bytes on a fresh TCP connection; resolves with everything read until it closes. */
export function rawExchange(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString("latin1"));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (error) => {
      clearTimeout(timer);
      // A reset after the server answered still counts as an answer.
      if (chunks.length > 0) resolve(Buffer.concat(chunks).toString("latin1"));
      else reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
    socket.write(bytes);
  });
}

/** Two clients in their own room; `check()` proves that room still relays. */
export async function bystanders(url: string): Promise<{ check: () => Promise<void>; a: TestClient; b: TestClient }> {
  const a = await TestClient.connect(url);
  const b = await TestClient.connect(url);
  const room = roomHash();
  await a.joinAndSettle(room, 0);
  await b.joinAndSettle(room, 1);
  await a.next();
  let round = 0;
  const check = async (): Promise<void> => {
    round += 1;
    a.relay(`still here ${round}`, b.id);
    expect(await b.next()).toEqual({ type: "message", sender: a.id, message: `still here ${round}` });
  };
  return { check, a, b };
}
