// Boot of /room#<secret>?<prefs>: the page's first, small script. It reads the fragment and at
// once starts what the join waits for longest — the two PBKDF2 derivations of the room hash and
// key (or, for a known room joined before, reads them from IndexedDB: room-secrets-cache.ts),
// /config.json and the relay socket — then runs the rest of the client (main.ts, a chunk of its
// own, about a hundred times this script's size, fetched and compiled meanwhile: room.html
// preloads it). Measured before this split: the derivations started only once the whole
// bundle had been fetched, parsed and run, 370 ms after the HTML arrived. (Running the two in two workers would not help: Chromium runs WebCrypto on one
// thread per renderer, workers included — two derivations took 227 ms in two workers against
// 195 ms one after the other.) The secret never leaves the page.

import "../trusted-types.js";
import { deriveRoomHash, deriveRoomKey } from "../../common/crypto/room-crypto.js";
import { parseRoomFragment } from "../../common/prefs/fragment.js";
import { TURN_CREDENTIALS_QUERY } from "../../common/wire/packets.js";
import { EarlySocket } from "./early-socket.js";
import { showFatal } from "./fatal.js";
import { cachedRoomSecrets, roomSecretsMayBeKept, roomSecretsStore } from "./room-secrets-cache.js";
import { loadPageConfig } from "./server-config.js";

/**
 * A performance mark per step of the join (`meshmeet:<step>`), on the page's own clock: the
 * browser's performance panel shows them, and the join-latency benchmark prints them per run.
 */
const mark = (step: string): void => void performance.mark(`meshmeet:${step}`);
mark("script-start");

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
  const pageConfig = loadPageConfig().then((config) => (mark("config-ready"), config));
  // The query asks our relay for TURN credentials; a keks-meet relay ignores it.
  const socket = new EarlySocket(`${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/signaling?${TURN_CREDENTIALS_QUERY}`);
  // A known room joined before has its hash and key kept (warm join): no PBKDF2 at all.
  const secretsStore = roomSecretsStore();
  const derive = () => {
    const hash = deriveRoomHash(secret).then((value) => (mark("hash-ready"), value));
    const key = deriveRoomKey(secret).then((value) => (mark("key-ready"), value));
    return Promise.all([hash, key]).then(([roomHash, roomKey]) => ({ hash: roomHash, key: roomKey }));
  };
  // A browser that never kept a room derives at once, without asking IndexedDB first.
  const cached = roomSecretsMayBeKept() ? cachedRoomSecrets(secret, secretsStore) : Promise.resolve(undefined);
  const secrets = cached.then((found) => {
    if (!found) return derive();
    mark("secrets-cached");
    return found;
  });
  // The client runs once the derivations are done: run meanwhile, it competed with them for the
  // CPU (measured on 2 cores, both pages in one browser: keys 190 ms later, first frame 90 ms
  // later than when it waits). Its files are fetched and compiled meanwhile all the same.
  await cached.then((found) => (found ? undefined : secrets.catch(() => undefined)));
  const { startRoom } = await import("./main.js");
  mark("app-loaded");
  await startRoom({ secret, params, secrets, secretsStore, pageConfig, socket, mark });
}

boot().catch((error: unknown) => {
  showFatal(`Something went wrong while starting: ${error instanceof Error ? error.message : String(error)}`);
});
