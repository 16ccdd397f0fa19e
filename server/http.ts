// The relay's HTTP surface: routes (static pages and assets, /config.json, /overrides.css,
// /version, the legacy /room/<x> redirect), security headers on every response, and the decision
// which upgrade requests reach the signaling relay (path /signaling, allowed origin).

import type { Corkable } from "./outbox.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import type { JellyfinConfig, RelayConfig } from "./config.js";
import type { Logger } from "./log.js";
import { TURN_CREDENTIALS_QUERY } from "../common/wire/packets.js";
import { clientConfig, overridesCss, requestHost, type BuiltInStun } from "./public-config.js";
import { mimeTypeOf, safeSegments, StaticFiles } from "./static.js";

/**
 * No inline script or style anywhere; media and images may come from blob:/data: URLs (received
 * files, chat images, previews, watch-together). Extend here, in one place, if the client ever
 * needs more. connect-src adds the Jellyfin servers of the config (only the sharer's page talks
 * to its server, for watch-together).
 */
export function contentSecurityPolicy(jellyfin: JellyfinConfig): string {
  const jellyfinSources = jellyfin.servers.includes("*") ? ["https:", "http:"] : jellyfin.servers;
  return [
    "default-src 'none'",
    // 'wasm-unsafe-eval' lets WebAssembly compile (file hashing, noise suppression); it does not
    // allow eval() or inline script.
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    // data: because hls.js gives the subtitle <track> it adds an empty data:,WEBVTT source.
    "media-src 'self' blob: data:",
    ["connect-src 'self'", ...jellyfinSources].join(" "),
    "worker-src 'self'",
    "manifest-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    // No string becomes script through a DOM sink unless a policy vouches for it
    // (client-web/trusted-types.ts; lit has its own for templates).
    "require-trusted-types-for 'script'",
  ].join("; ");
}

export function securityHeaders(config: RelayConfig): Readonly<Record<string, string>> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(config.jellyfin),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(self), display-capture=(self)",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
  };
}

/** Files served from the static root's top level, besides the two pages. */
export const ROOT_FILES: readonly string[] = ["favicon.ico", "sw.js"];

export const SIGNALING_PATH = "/signaling";

/** HTML, JSON and the service worker must be revalidated: they name the current assets. */
const REVALIDATE = "no-cache";
/** Other assets: short enough that a new release shows up soon without versioned file names. */
const ASSET_CACHE = "public, max-age=300";

function cacheControlFor(file: string): string {
  const type = mimeTypeOf(file);
  const revalidate = file === "sw.js" || type.startsWith("text/html") || type.includes("json");
  return revalidate ? REVALIDATE : ASSET_CACHE;
}

type Route =
  | { readonly kind: "static"; readonly segments: readonly string[]; readonly cacheControl: string }
  | { readonly kind: "redirect"; readonly location: string }
  | { readonly kind: "generated"; readonly body: Buffer; readonly contentType: string }
  /** Built for each request: /config.json names the host the page was loaded from. */
  | { readonly kind: "per_request"; readonly body: (req: IncomingMessage) => Buffer; readonly contentType: string }
  | { readonly kind: "upgrade_required" }
  | { readonly kind: "not_found" };

/** The path of a request target, or null if it is not a URL at all. */
export function pathnameOf(target: string | undefined): string | null {
  try {
    return new URL(target ?? "/", "http://relay.invalid").pathname;
  } catch {
    // An unparsable request target matches no route.
    return null;
  }
}

export interface RequestHandlerOptions {
  readonly config: RelayConfig;
  readonly staticRoot: string;
  readonly log: Logger;
  /** Plain text at /version. */
  readonly version: string;
  /** The running built-in STUN server, named in /config.json; null when it is off. */
  readonly stun: () => BuiltInStun | null;
}

export function createRequestHandler(options: RequestHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const files = new StaticFiles(options.staticRoot);
  const generated: ReadonlyMap<string, Route> = new Map<string, Route>([
    [
      "/config.json",
      {
        kind: "per_request",
        body: (req) => Buffer.from(JSON.stringify(clientConfig(options.config, options.stun(), requestHost(req.headers.host)))),
        contentType: "application/json; charset=utf-8",
      },
    ],
    ["/overrides.css", { kind: "generated", body: Buffer.from(overridesCss(options.config.appearance)), contentType: "text/css; charset=utf-8" }],
    ["/version", { kind: "generated", body: Buffer.from(options.version), contentType: "text/plain; charset=utf-8" }],
  ]);

  function route(pathname: string): Route {
    const known = generated.get(pathname);
    if (known) return known;
    if (pathname === "/") return { kind: "static", segments: ["index.html"], cacheControl: REVALIDATE };
    if (pathname === "/room") return { kind: "static", segments: ["room.html"], cacheControl: REVALIDATE };
    if (pathname === SIGNALING_PATH) return { kind: "upgrade_required" };
    const parts = pathname.split("/").slice(1);
    const [first, ...rest] = parts;
    if (first === "room" && rest.length === 1 && rest[0] !== "") {
      // keks-meet's old link format put the secret in the path; the client warns
      // that the server has seen it. The segment stays percent-encoded, so the header is ASCII.
      return { kind: "redirect", location: `/room#${rest[0]}?warn_redirect=true` };
    }
    if (first === "assets" && rest.length > 0) {
      const segments = safeSegments(rest);
      const last = segments?.at(-1);
      if (!segments || last === undefined) return { kind: "not_found" };
      return { kind: "static", segments: ["assets", ...segments], cacheControl: cacheControlFor(last) };
    }
    if (parts.length === 1 && first !== undefined && ROOT_FILES.includes(first)) {
      return { kind: "static", segments: [first], cacheControl: cacheControlFor(first) };
    }
    return { kind: "not_found" };
  }

  const headers = securityHeaders(options.config);
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (req.method !== "GET" && req.method !== "HEAD") {
      return replyText(req, res, 405, "method not allowed\n", { Allow: "GET, HEAD" });
    }
    const pathname = pathnameOf(req.url);
    if (pathname === null) return replyText(req, res, 400, "bad request\n");
    const target = route(pathname);
    switch (target.kind) {
      case "generated":
        return reply(req, res, 200, target.body, target.contentType);
      case "per_request":
        return reply(req, res, 200, target.body(req), target.contentType);
      case "redirect":
        return replyText(req, res, 301, "moved\n", { Location: target.location });
      case "upgrade_required":
        return replyText(req, res, 426, "this endpoint speaks WebSocket\n", { Upgrade: "websocket", Connection: "Upgrade" });
      case "static":
        if (await files.serve(req, res, target.segments, target.cacheControl)) return;
        return replyText(req, res, 404, "not found\n");
      case "not_found":
        return replyText(req, res, 404, "not found\n");
    }
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      // A client that goes away mid-download is normal; anything else is worth a line.
      const aborted = error instanceof Error && "code" in error && error.code === "ERR_STREAM_PREMATURE_CLOSE";
      if (!aborted) options.log.error("http_failed", { path: pathnameOf(req.url), error: message });
      if (res.headersSent) res.destroy();
      else replyText(req, res, 500, "internal error\n");
    });
  };
}

function reply(req: IncomingMessage, res: ServerResponse, status: number, body: Buffer, contentType: string, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": body.length, "Cache-Control": REVALIDATE, ...headers });
  res.end(req.method === "HEAD" ? undefined : body);
}

function replyText(req: IncomingMessage, res: ServerResponse, status: number, text: string, headers: Readonly<Record<string, string>> = {}): void {
  reply(req, res, status, Buffer.from(text), "text/plain; charset=utf-8", headers);
}

// ---------------------------------------------------------------------------------------------
// Upgrades

/** Whether the signaling URL asks for turn_credentials packets (`/signaling?turn_credentials=1`). */
export function asksForTurnCredentials(target: string | undefined): boolean {
  // Most clients (keks-meet's all) send no query: no URL to parse on every connect.
  if (target === undefined || !target.includes("?")) return false;
  const [name, value] = TURN_CREDENTIALS_QUERY.split("=");
  try {
    return name !== undefined && new URL(target, "http://relay.invalid").searchParams.get(name) === value;
  } catch {
    // An unparsable target never reaches here (the path check comes first); asking nothing is safe.
    return false;
  }
}

/** The client's address: the socket's peer, or the proxy's last X-Forwarded-For entry if trusted. */
export function clientAddress(req: IncomingMessage, trustForwardedFor: boolean): string {
  const forwarded = req.headers["x-forwarded-for"];
  if (trustForwardedFor && typeof forwarded === "string") {
    const last = forwarded.split(",").at(-1)?.trim();
    if (last) return normalizeAddress(last);
  }
  return normalizeAddress(req.socket.remoteAddress ?? "unknown");
}

/** IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d; count them as a.b.c.d. */
function normalizeAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice("::ffff:".length) : address;
}

const REASON_PHRASES: Readonly<Record<number, string>> = { 403: "Forbidden", 404: "Not Found", 503: "Service Unavailable" };

/** Answers an upgrade we refuse with a plain HTTP response and closes the connection. */
function refuseUpgrade(socket: Duplex, status: number, securityHeaderValues: Readonly<Record<string, string>>): void {
  // The connection is being dropped anyway; an error on it changes nothing.
  socket.on("error", () => {});
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${(REASON_PHRASES[status] ?? "Error").toLowerCase()}\n`;
  const headers = Object.entries(securityHeaderValues).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${REASON_PHRASES[status] ?? "Error"}\r\n` +
      "Connection: close\r\n" +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      headers +
      "\r\n" +
      body,
  );
}

export interface UpgradeHandlerOptions {
  readonly config: RelayConfig;
  readonly wss: WebSocketServer;
  readonly log: Logger;
  /** `transport` is the upgraded TCP stream under `socket`, for write coalescing (outbox.ts). */
  /** `wantsTurnCredentials`: the URL carried TURN_CREDENTIALS_QUERY. */
  readonly accept: (socket: WebSocket, address: string, transport: Corkable, wantsTurnCredentials: boolean) => void;
  readonly isShuttingDown: () => boolean;
}

/**
 * Which pages may open /signaling. `[]` (the default): this relay's own pages only, i.e. an
 * Origin whose host:port is the Host the request came to (what a reverse proxy passes on). Any
 * other site's page would otherwise make its visitors' browsers join rooms here. `["*"]`: any
 * page (e.g. a keks-meet client served from elsewhere); or a list of origins.
 */
export function originAllowed(origin: string, host: string | undefined, allowed: readonly string[]): boolean {
  if (allowed.includes("*")) return true;
  if (allowed.length > 0) return allowed.includes(origin);
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    // "null" (sandboxed frames, file: pages) or garbage: not one of our pages.
    return false;
  }
}

export function createUpgradeHandler(options: UpgradeHandlerOptions): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { allowedOrigins, trustForwardedFor } = options.config.server;
  const headers = securityHeaders(options.config);
  return (req, socket, head) => {
    try {
      if (options.isShuttingDown()) return refuseUpgrade(socket, 503, headers);
      if (pathnameOf(req.url) !== SIGNALING_PATH) return refuseUpgrade(socket, 404, headers);
      const origin = req.headers.origin;
      // Native clients send no Origin; browsers always do, and only allowed pages may connect.
      if (origin !== undefined && !originAllowed(origin, req.headers.host, allowedOrigins)) {
        options.log.warn("limit", { limit: "origin" });
        return refuseUpgrade(socket, 403, headers);
      }
      const address = clientAddress(req, trustForwardedFor);
      options.wss.handleUpgrade(req, socket, head, (ws) => {
        try {
          options.accept(ws, address, socket, asksForTurnCredentials(req.url));
        } catch (error) {
          options.log.error("accept_failed", { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
          ws.terminate();
        }
      });
    } catch (error) {
      options.log.error("upgrade_failed", { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      socket.destroy();
    }
  };
}
