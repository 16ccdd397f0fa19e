// Assembles one relay: an HTTP server (http.ts) whose /signaling upgrades go to a SignalingRelay
// (relay.ts), under one RelayConfig. No globals: tests run several relays in one process.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { CloseCode } from "./close-codes.js";
import { CONNECTION_OF_SOCKET, type Connection } from "./connection.js";
import { parseBind, stunBindAddress, type RelayConfig } from "./config.js";
import { createRequestHandler, createUpgradeHandler } from "./http.js";
import { createTagger, silentLogger, type Logger, type Tagger } from "./log.js";
import type { BuiltInStun } from "./public-config.js";
import { SignalingRelay } from "./relay.js";
import { StunServer } from "./stun/stun-server.js";
import { INIT_VERSION, VERSION } from "./version.js";

export interface Relay {
  /**
   * Binds to config.server.bind, and the STUN server to its address; resolves with the actual
   * HTTP address (port 0 picks one). Rejects, with nothing left listening, if either bind fails.
   */
  listen(): Promise<{ address: string; port: number }>;
  /** The STUN server's UDP address once listening; null when [stun] is off. */
  stunAddress(): { address: string; port: number } | null;
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
 * a too-large frame reads why, not just 1009. It also declares the slot for the socket's
 * Connection (connection.ts), so that it lives inside the socket object.
 */
function socketClassWithReasons(maxFrameBytes: number): typeof WebSocket {
  const reasons: Readonly<Record<number, string>> = {
    1002: "protocol error",
    1007: "text frame is not valid UTF-8",
    [CloseCode.messageTooBig]: `message larger than ${maxFrameBytes} bytes`,
  };
  return class SocketWithReasons extends WebSocket {
    [CONNECTION_OF_SOCKET]: Connection | undefined = undefined;

    override close(code?: number, data?: string | Buffer): void {
      super.close(code, data ?? (code === undefined ? undefined : reasons[code]));
    }
  };
}

function isUnspecified(address: string): boolean {
  return address === "0.0.0.0" || address === "::";
}

export function createRelay(config: RelayConfig, options: RelayOptions): Relay {
  const log = options.logger ?? silentLogger;
  // Tags exist for log lines; a relay that logs nothing (the benchmark's) computes none: each is
  // an HMAC, whose native memory waits for the GC.
  const tag: Tagger = log === silentLogger ? () => "" : createTagger();
  const turn = config.turn.secret === null ? null : { urls: config.turn.urls, secret: config.turn.secret, credentialLifetimeSeconds: config.turn.credentialLifetimeSeconds };
  const signaling = new SignalingRelay(config.limits, { log, tag, version: INIT_VERSION, turn });
  const stunBind = config.stun.enabled ? stunBindAddress(config) : null;
  const stun =
    stunBind === null
      ? null
      : new StunServer({
          host: stunBind.host,
          port: stunBind.port,
          logger: log,
          tag,
          limits: { requestsPerSecond: config.stun.requestsPerSecond, burst: config.stun.requestBurst },
        });
  let stunListening: { address: string; port: number } | null = null;
  const builtInStun = (): BuiltInStun | null =>
    stunListening === null ? null : { port: stunListening.port, fallbackHost: isUnspecified(stunListening.address) ? "localhost" : stunListening.address };
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

  const server = createServer(createRequestHandler({ config, staticRoot: options.staticRoot, log, version: VERSION, stun: builtInStun }));
  server.on(
    "upgrade",
    createUpgradeHandler({
      config,
      wss,
      log,
      accept: (socket, address, transport, wantsTurnCredentials) => signaling.accept(socket, address, transport, wantsTurnCredentials),
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
    await stun?.close();
  }

  function listenHttp(): Promise<{ address: string; port: number }> {
    const { host, port } = parseBind(config.server.bind);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        const address = server.address() as AddressInfo;
        resolve({ address: address.address, port: address.port });
      });
    });
  }

  async function listenStun(): Promise<void> {
    if (stun === null || stunBind === null) return;
    try {
      stunListening = await stun.listen();
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const inUse = error instanceof Error && "code" in error && error.code === "EADDRINUSE";
      throw new Error(
        `cannot start the STUN server on UDP ${stunBind.host}:${stunBind.port}: ${detail}` +
          (inUse ? " (another STUN or TURN server, e.g. coturn, may have the port: set stun.bind to another port, or stun.enabled = false and webrtc.stun to that server)" : ""),
        { cause: error },
      );
    }
  }

  return {
    async listen() {
      const address = await listenHttp();
      try {
        await listenStun();
      } catch (error) {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        throw error;
      }
      return address;
    },
    stunAddress: () => stunListening,
    close() {
      closing ??= shutdown();
      return closing;
    },
    stats: () => signaling.stats(),
  };
}
