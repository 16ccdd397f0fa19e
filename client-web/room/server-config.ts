// The relay's /config.json → an RTCConfiguration. Only the ICE servers are used from it; a
// missing or broken file means "no STUN/TURN" (peers on one network still connect), not a
// page that refuses to start (keks-meet stops booting, spec §1.3).

interface ServerConfig {
  readonly webrtc?: { readonly ice_servers?: unknown };
}

function isIceServer(value: unknown): value is RTCIceServer {
  if (typeof value !== "object" || value === null) return false;
  const urls = (value as { urls?: unknown }).urls;
  return typeof urls === "string" || (Array.isArray(urls) && urls.every((u) => typeof u === "string"));
}

export async function loadRtcConfiguration(): Promise<RTCConfiguration> {
  try {
    const response = await fetch("/config.json", { cache: "no-cache" });
    if (!response.ok) return {};
    const config = (await response.json()) as ServerConfig;
    const servers = config.webrtc?.ice_servers;
    return { iceServers: Array.isArray(servers) ? servers.filter(isIceServer) : [] };
  } catch {
    return {}; // documented above: degrade to host candidates only
  }
}
