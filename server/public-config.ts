// What the relay tells browsers about itself: /config.json (ICE servers, colours) and
// /overrides.css (the colours as CSS variables). Nothing about the relay's own address: keks-meet
// served its whole config, bind address included (spec §1.3, §6.8).

import type { AppearanceConfig, RelayConfig, WebRtcConfig } from "./config.js";

/** The browser's RTCIceServer, as JSON. */
export interface IceServerJson {
  readonly urls: readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

/** keks-meet's fields (its web client reads stun, turn, turn_user, turn_cred) plus a full list. */
export interface ClientConfigJson {
  readonly webrtc: {
    readonly stun: string | null;
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

export function iceServers(webrtc: WebRtcConfig): IceServerJson[] {
  const servers: IceServerJson[] = [];
  if (webrtc.stun.length > 0) servers.push({ urls: webrtc.stun });
  if (webrtc.turn.length > 0) {
    servers.push({
      urls: webrtc.turn,
      ...(webrtc.turnUser === null ? {} : { username: webrtc.turnUser }),
      ...(webrtc.turnCred === null ? {} : { credential: webrtc.turnCred }),
    });
  }
  return servers;
}

export function clientConfig(config: RelayConfig): ClientConfigJson {
  const { webrtc, appearance } = config;
  return {
    webrtc: {
      stun: webrtc.stun[0] ?? null,
      turn: webrtc.turn[0] ?? null,
      turn_user: webrtc.turnUser,
      turn_cred: webrtc.turnCred,
      ice_servers: iceServers(webrtc),
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

/** keks-meet's variable set (spec §1.2); --ac-dark-transparent is accent_dark at alpha 0xc9. */
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
