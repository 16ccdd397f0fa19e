// Boot of /room#<secret>?<prefs>: read the fragment, start deriving the room key and hash at once
// (two PBKDF2 runs, the slowest part of joining), meanwhile load the server's ICE config, the
// stored preferences and this browser's identity key, then create the Room and mount <mm-app>. The secret never leaves the page.

import "../trusted-types.js";
import { deriveRoomHash, deriveRoomKey } from "../../common/crypto/room-crypto.js";
import { Room } from "../../common/engine/room.js";
import { parseRoomFragment } from "../../common/prefs/fragment.js";
import { TURN_CREDENTIALS_QUERY } from "../../common/wire/packets.js";
import { roomDisplayName } from "../app/room-name.js";
import { installChangePref, PrefsStore } from "../prefs/prefs-store.js";
import { loadIdentity } from "../trust/identity-store.js";
import { loadPageConfig } from "./server-config.js";
import "../app/mm-app.js";

/**
 * A performance mark per step of the join (`meshmeet:<step>`), on the page's own clock: the
 * browser's performance panel shows them, and the join-latency benchmark prints them per run.
 */
const mark = (step: string): void => void performance.mark(`meshmeet:${step}`);
mark("script-start");

function showFatal(message: string): void {
  const main = document.createElement("main");
  main.className = "fatal";
  const heading = document.createElement("h1");
  heading.textContent = "Cannot open this meeting";
  const text = document.createElement("p");
  text.setAttribute("role", "alert");
  text.textContent = message;
  const home = document.createElement("a");
  home.href = "/";
  home.textContent = "Start or join a meeting";
  main.append(heading, text, home);
  document.body.replaceChildren(main);
}

function guestName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `guest-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

async function boot(): Promise<void> {
  const fragment = parseRoomFragment(location.hash);
  if (!fragment.ok) {
    showFatal(fragment.error.message);
    return;
  }
  const { secret, params } = fragment.value;
  // Browsers give WebCrypto (and cameras) only to secure pages: https://, or http://localhost.
  // Without this check the room would wait forever for a key that can never be derived.
  if (!window.isSecureContext || !globalThis.crypto?.subtle) {
    showFatal(
      `This page was opened over plain http:// from ${location.hostname}, and browsers allow encryption, camera and microphone ` +
        "only on secure pages. Open the meeting over https:// (whoever runs this server: put it behind HTTPS), or on this machine at http://localhost.",
    );
    return;
  }
  // The two derivations, each marked when done: they are the slowest part of joining.
  const hash = deriveRoomHash(secret).then((value) => (mark("hash-ready"), value));
  const key = deriveRoomKey(secret).then((value) => (mark("key-ready"), value));
  const secrets = Promise.all([hash, key]).then(([roomHash, roomKey]) => ({ hash: roomHash, key: roomKey }));
  if (!globalThis.RTCPeerConnection) {
    showFatal("This browser cannot make WebRTC connections, which meetings need.");
    return;
  }
  // Everything slow starts now and in parallel: the two key derivations (above), the socket (in
  // the Room), the ICE configuration and the stored preferences. The Room joins when all are in.
  const prefsLoading = PrefsStore.load(params).then((prefs) => (mark("prefs-ready"), prefs));
  const pageConfig = loadPageConfig().then((config) => (mark("config-ready"), config));
  let loadedPrefs: PrefsStore | undefined;
  const room = new Room({
    secret,
    secrets,
    username: prefsLoading.then((prefs) => prefs.values.username || guestName()),
    // The query asks our relay for TURN credentials; a keks-meet relay ignores it.
    signalingUrl: `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/signaling?${TURN_CREDENTIALS_QUERY}`,
    rtcConfiguration: Promise.all([pageConfig, prefsLoading]).then(([config, prefs]) =>
      prefs.values.relay_only ? { ...config.rtc, iceTransportPolicy: "relay" as const } : config.rtc,
    ),
    createPeerConnection: (configuration) => new RTCPeerConnection(configuration),
    // Kept in IndexedDB: people who verified this browser once recognise it in later meetings.
    identity: loadIdentity(),
    milestone: mark,
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

boot().catch((error: unknown) => {
  showFatal(`Something went wrong while starting: ${error instanceof Error ? error.message : String(error)}`);
});
