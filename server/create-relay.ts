// Assembles one relay: an HTTP server (http.ts) whose /signaling upgrades go to a SignalingRelay
// (relay.ts), under one RelayConfig. No globals: tests run several relays in one process.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { CloseCode } from "./close-codes.js";
import { parseBind, type RelayConfig } from "./config.js";
import { createRequestHandler, createUpgradeHandler } from "./http.js";
import { createTagger, silentLogger, type Logger } from "./log.js";
import { SignalingRelay } from "./relay.js";
import { INIT_VERSION, VERSION } from "./version.js";

export interface Relay {
  /** Binds to config.server.bind; resolves with the actual address (port 0 picks one). */
  listen(): Promise<{ address: string; port: number }>;
  /** Closes every socket with 1001 "server shutting down", then the HTTP server. Idempotent. */
  close(): Promise<void>;
  stats(): { sockets: number; rooms: number; watchedHashes: number };
}

export interface RelayOptions {
  /** Directory with index.html, room.html, favicon.ico, sw.js and assets/. */
  readonly staticRoot: string;
  readonly logger?: Logger;
}

/**
 * ws closes a socket itself on a protocol violation, with a code and no reason (see
 * receiverOnError in ws/lib/websocket.js). This subclass adds the reason, so a client that sent
 * a too-large frame reads why, not just 1009.
 */
function socketClassWithReasons(maxFrameBytes: number): typeof WebSocket {
  const reasons: Readonly<Record<number, string>> = {
    1002: "protocol error",
    1007: "text frame is not valid UTF-8",
    [CloseCode.messageTooBig]: `message larger than ${maxFrameBytes} bytes`,
  };
  return class SocketWithReasons extends WebSocket {
    override close(code?: number, data?: string | Buffer): void {
      super.close(code, data ?? (code === undefined ? undefined : reasons[code]));
    }
  };
}

export function createRelay(config: RelayConfig, options: RelayOptions): Relay {
  const log = options.logger ?? silentLogger;
  const signaling = new SignalingRelay(config.limits, { log, tag: createTagger(), version: INIT_VERSION });
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    // Compression costs memory per socket and buys little: payloads are sealed (random-looking) base64.
    perMessageDeflate: false,
    // ws refuses larger messages before buffering them and closes with 1009.
    maxPayload: config.limits.maxFrameBytes,
    WebSocket: socketClassWithReasons(config.limits.maxFrameBytes),
  });
  let closing: Promise<void> | undefined;

  const server = createServer(createRequestHandler({ config, staticRoot: options.staticRoot, log, version: VERSION }));
  server.on(
    "upgrade",
    createUpgradeHandler({
      config,
      wss,
      log,
      accept: (socket, address, transport) => signaling.accept(socket, address, transport),
      isShuttingDown: () => closing !== undefined,
    }),
  );
  // After listen() succeeded, server errors (e.g. out of file descriptors on accept) are logged.
  server.on("error", (error) => log.error("server_error", { error: error.message }));

  async function shutdown(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => {
      // Resolves also when the server never listened (the callback then gets an error).
      server.close(() => resolve());
    });
    await signaling.close();
    server.closeAllConnections();
    await serverClosed;
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  return {
    listen() {
      const { host, port } = parseBind(config.server.bind);
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const address = server.address() as AddressInfo;
          resolve({ address: address.address, port: address.port });
        });
      });
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
    stats: () => signaling.stats(),
  };
}
