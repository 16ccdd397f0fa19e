// The room page, once its boot script (boot.ts) has read the fragment and started the slow
// work: create the Room and mount <mm-app>. Loaded as a chunk of its own, while the key and hash
// derivations already run. The secret never leaves the page.

import type { UseStore } from "idb-keyval";
import type { RoomSecrets } from "../../common/crypto/room-crypto.js";
import { Room } from "../../common/engine/room.js";
import type { RoomFragment } from "../../common/prefs/fragment.js";
import { roomDisplayName } from "../app/room-name.js";
import { installChangePref, PrefsStore } from "../prefs/prefs-store.js";
import { loadIdentity } from "../trust/identity-store.js";
import type { EarlySocket } from "./early-socket.js";
import { showFatal } from "./fatal.js";
import { forgetRoomSecrets, rememberRoomSecrets } from "./room-secrets-cache.js";
import type { PageConfig } from "./server-config.js";
import "../app/mm-app.js";

function guestName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `guest-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** What the boot script hands over: the fragment, read, and the slow work, already running. */
export interface RoomBoot {
  readonly secret: string;
  readonly params: RoomFragment["params"];
  readonly secrets: Promise<RoomSecrets>;
  /** Where known rooms' secrets are kept for warm joins (room-secrets-cache.ts). */
  readonly secretsStore: UseStore;
  readonly pageConfig: Promise<PageConfig>;
  /** The relay socket the boot opened; the Room's first connection uses it. */
  readonly socket: EarlySocket;
  readonly mark: (step: string) => void;
}

export async function startRoom({ secret, params, secrets, secretsStore, pageConfig, socket, mark }: RoomBoot): Promise<void> {
  if (!globalThis.RTCPeerConnection) {
    showFatal("This browser cannot make WebRTC connections, which meetings need.");
    return;
  }
  // The derivations, /config.json and the relay socket are already under way (boot.ts); the
  // stored preferences start now. The Room joins when all are in.
  const prefsLoading = PrefsStore.load(params).then((prefs) => (mark("prefs-ready"), prefs));
  let loadedPrefs: PrefsStore | undefined;
  const room = new Room({
    secret,
    secrets,
    username: prefsLoading.then((prefs) => prefs.values.username || guestName()),
    signalingUrl: socket.url,
    // Reconnections (and a changed URL) open sockets of their own.
    createSocket: (url) => socket.claim(url) ?? new WebSocket(url),
    rtcConfiguration: Promise.all([pageConfig, prefsLoading]).then(([config, prefs]) =>
      prefs.values.relay_only ? { ...config.rtc, iceTransportPolicy: "relay" as const } : config.rtc,
    ),
    createPeerConnection: (configuration) => new RTCPeerConnection(configuration),
    // Kept in IndexedDB: people who verified this browser once recognise it in later meetings.
    identity: loadIdentity(),
    milestone: mark,
    // Asked per connection, all made after the join, which waits for the preferences.
    fitVideo: () => loadedPrefs?.values.video_link_fit ?? true,
    // Offers only arrive after the join, which waits for the preferences.
    autoRequest: (info) =>
      info.trackKind === "audio"
        ? (loadedPrefs?.values.optional_audio_default_enable ?? true)
        : (loadedPrefs?.values.optional_video_default_enable ?? false),
  });
  const prefs = await prefsLoading;
  loadedPrefs = prefs;
  installChangePref(prefs);
  const name = roomDisplayName(secret);
  document.title = `${name} · meshmeet`;
  const app = document.createElement("mm-app");
  app.room = room;
  app.prefs = prefs;
  app.secret = secret;
  app.roomName = name;
  app.jellyfinServers = (await pageConfig).jellyfinServers;
  app.knownRoomSecrets = {
    keepCurrent: () => void secrets.then((derived) => rememberRoomSecrets(secret, derived, secretsStore)),
    forget: (known) => void forgetRoomSecrets(known, secretsStore),
    currentHash: secrets.then((derived) => derived.hash),
  };
  document.body.replaceChildren(app);
  // Switching rooms (a known-room link, or an edited address) is a new meeting: start clean.
  window.addEventListener("hashchange", () => location.reload());
  // Closing the tab is leaving on purpose: say so (a normal close of the relay socket), so the
  // others remove us at once instead of waiting for us to come back.
  window.addEventListener("pagehide", () => room.leave());
  // A new network (Wi-Fi to mobile, a VPN) invalidates every path: look for new ones at once
  // instead of waiting seconds for each connection to notice.
  window.addEventListener("online", () => room.restartIce());
  // Back from the back-forward cache, the room object is gone: join again from scratch.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) location.reload();
  });
  // Tests and the console can reach the engine; nothing else depends on this.
  (window as unknown as { meshmeet: { room: Room; prefs: PrefsStore } }).meshmeet = { room, prefs };
}
