// The relay's /config.json → what the page uses of it: the ICE servers and the Jellyfin servers
// watch-together may contact. A missing or broken file means "no STUN/TURN" (peers on one
// network still connect) and "any Jellyfin server" (the CSP still has the last word), not a page
// that refuses to start (keks-meet stops booting).

interface ServerConfig {
  readonly webrtc?: { readonly ice_servers?: unknown };
  readonly jellyfin?: { readonly servers?: unknown };
}

export interface PageConfig {
  readonly rtc: RTCConfiguration;
  /** Origins, or ["*"] for any; [] means watch-together is off on this server. */
  readonly jellyfinServers: readonly string[];
}

function isIceServer(value: unknown): value is RTCIceServer {
  if (typeof value !== "object" || value === null) return false;
  const urls = (value as { urls?: unknown }).urls;
  return typeof urls === "string" || (Array.isArray(urls) && urls.every((u) => typeof u === "string"));
}

const FALLBACK: PageConfig = { rtc: {}, jellyfinServers: ["*"] };

export async function loadPageConfig(): Promise<PageConfig> {
  try {
    const response = await fetch("/config.json", { cache: "no-cache" });
    if (!response.ok) return FALLBACK;
    const config = (await response.json()) as ServerConfig;
    const servers = config.webrtc?.ice_servers;
    const jellyfin = config.jellyfin?.servers;
    return {
      rtc: { iceServers: Array.isArray(servers) ? servers.filter(isIceServer) : [] },
      jellyfinServers: Array.isArray(jellyfin) ? jellyfin.filter((s): s is string => typeof s === "string") : ["*"],
    };
  } catch {
    return FALLBACK; // documented above: degrade to host candidates only
  }
}
