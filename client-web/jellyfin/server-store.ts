// Jellyfin sign-ins kept in this browser (IndexedDB via idb-keyval), one per server URL, so the
// sharer signs in once. Only this page's origin can read them; nothing of them is ever sent to
// peers or to the meshmeet server.

import { del, get, set } from "idb-keyval";

const KEY = "meshmeet.jellyfin.servers";
const DEVICE_KEY = "meshmeet.jellyfin.device";

export interface SavedServer {
  readonly serverUrl: string;
  readonly token: string;
  readonly userId: string;
  readonly userName: string;
}

function isSavedServer(value: unknown): value is SavedServer {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v["serverUrl"] === "string" && typeof v["token"] === "string" && typeof v["userId"] === "string" && typeof v["userName"] === "string";
}

export async function savedServers(): Promise<SavedServer[]> {
  try {
    const stored: unknown = await get(KEY);
    return Array.isArray(stored) ? stored.filter(isSavedServer) : [];
  } catch {
    return []; // storage blocked (private mode): sign in each time
  }
}

export async function saveServer(server: SavedServer): Promise<void> {
  const others = (await savedServers()).filter((s) => s.serverUrl !== server.serverUrl);
  await set(KEY, [server, ...others]).catch(() => undefined);
}

export async function forgetServer(serverUrl: string): Promise<void> {
  const rest = (await savedServers()).filter((s) => s.serverUrl !== serverUrl);
  await (rest.length === 0 ? del(KEY) : set(KEY, rest)).catch(() => undefined);
}

/** Jellyfin lists sessions by device: one stable random id per browser. */
export async function deviceId(): Promise<string> {
  try {
    const stored: unknown = await get(DEVICE_KEY);
    if (typeof stored === "string" && /^[0-9a-f-]{36}$/.test(stored)) return stored;
    const fresh = crypto.randomUUID();
    await set(DEVICE_KEY, fresh);
    return fresh;
  } catch {
    return crypto.randomUUID();
  }
}
