// What the relay tells browsers about itself: /config.json (ICE servers, colours) and
// /overrides.css (the colours as CSS variables). Nothing about the relay's bind address (keks-meet
// served its whole config, bind address included) and never the TURN secret.
//
// keks-meet's web client reads `webrtc.stun` as a string and builds its RTCPeerConnection from it:
// `null` there makes every peer connection throw. So `stun` is always a `stun:` URL: the relay's
// own STUN server (at the host the page was loaded from, or stun.public_host), or the first of
// webrtc.stun when that server is off (config.ts refuses a config with neither).

import { isHostName, type AppearanceConfig, type RelayConfig } from "./config.js";

/** The browser's RTCIceServer, as JSON. */
export interface IceServerJson {
  readonly urls: readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

/** keks-meet's fields (its web client reads stun, turn, turn_user, turn_cred) plus a full list. */
export interface ClientConfigJson {
  readonly webrtc: {
    readonly stun: string;
    readonly turn: string | null;
    readonly turn_user: string | null;
    readonly turn_cred: string | null;
    readonly ice_servers: readonly IceServerJson[];
  };
  /** Jellyfin servers pages may contact for watch-together (["*"]: any; []: watch-together off). */
  readonly jellyfin: { readonly servers: readonly string[] };
  readonly appearance: {
    readonly accent: string;
    readonly accent_light: string;
    readonly accent_dark: string;
    readonly background: string;
    readonly background_dark: string;
    readonly background_light: string;
  };
}

/**
 * The request's Host header without its port, if it is a plain host name or address; null for
 * anything else (a browser always sends one that fits; a forged one gets the fallback below).
 */
export function requestHost(hostHeader: string | undefined): string | null {
  if (hostHeader === undefined) return null;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::\d{1,5})?$/.exec(hostHeader.trim());
  const host = match?.[1] ?? match?.[2];
  return host !== undefined && isHostName(host) ? host : null;
}

/** Where this page's browser should send STUN: `stun:<host>:<port>` of the built-in server. */
export interface BuiltInStun {
  /** The port the STUN socket really listens on (differs from the config for port 0). */
  readonly port: number;
  /** Used when the request names no usable host (no Host header, a forged one). */
  readonly fallbackHost: string;
}

function stunUrl(host: string, port: number): string {
  return `stun:${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** `builtIn`: the running STUN server, or null when [stun] is off. `host`: see requestHost(). */
export function iceServers(config: RelayConfig, builtIn: BuiltInStun | null, host: string | null): IceServerJson[] {
  const { webrtc } = config;
  const servers: IceServerJson[] = [];
  const stun = [...(builtIn === null ? [] : [stunUrl(config.stun.publicHost ?? host ?? builtIn.fallbackHost, builtIn.port)]), ...webrtc.stun];
  if (stun.length > 0) servers.push({ urls: stun });
  if (webrtc.turn.length > 0) {
    servers.push({
      urls: webrtc.turn,
      ...(webrtc.turnUser === null ? {} : { username: webrtc.turnUser }),
      ...(webrtc.turnCred === null ? {} : { credential: webrtc.turnCred }),
    });
  }
  return servers;
}

export function clientConfig(config: RelayConfig, builtIn: BuiltInStun | null, host: string | null): ClientConfigJson {
  const { webrtc, appearance } = config;
  const servers = iceServers(config, builtIn, host);
  // config.ts guarantees a STUN URL: the built-in server or webrtc.stun.
  const stun = servers[0]?.urls[0];
  if (stun === undefined || !stun.startsWith("stun")) throw new Error("no STUN URL for /config.json");
  return {
    webrtc: {
      stun,
      turn: webrtc.turn[0] ?? null,
      turn_user: webrtc.turnUser,
      turn_cred: webrtc.turnCred,
      ice_servers: servers,
    },
    appearance: {
      accent: appearance.accent,
      accent_light: appearance.accentLight,
      accent_dark: appearance.accentDark,
      background: appearance.background,
      background_dark: appearance.backgroundDark,
      background_light: appearance.backgroundLight,
    },
    jellyfin: { servers: config.jellyfin.servers },
  };
}

/** keks-meet's variable set; --ac-dark-transparent is accent_dark at alpha 0xc9. */
export function overridesCss(appearance: AppearanceConfig): string {
  return (
    ":root{" +
    `--bg:${appearance.background};` +
    `--bg-dark:${appearance.backgroundDark};` +
    `--bg-light:${appearance.backgroundLight};` +
    `--ac:${appearance.accent};` +
    `--ac-dark:${appearance.accentDark};` +
    `--ac-dark-transparent:${appearance.accentDark}c9;` +
    `--ac-light:${appearance.accentLight}` +
    "}\n"
  );
}
