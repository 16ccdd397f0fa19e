// Known rooms: the `room_watches` pref holds the secrets, we derive each room's hash
// (one PBKDF2 each, cached), ask the relay to watch those hashes, and keep the occupancy it
// reports. Accepts keks-meet's stored forms: `[[secret, hash], …]` and plain `[secret, …]`.

import { deriveRoomHash } from "../../common/crypto/room-crypto.js";
import type { Room } from "../../common/engine/room.js";
import type { WatchView } from "../components/mm-watches.js";
import type { PrefsStore } from "../prefs/prefs-store.js";
import { roomDisplayName } from "./room-name.js";

/** The relay caps watched rooms (its default is 64); more would only be refused. */
export const MAX_WATCHES = 64;

export function parseWatchList(json: string | undefined): string[] {
  let value: unknown;
  try {
    value = JSON.parse(json ?? "[]");
  } catch {
    return []; // a corrupt stored list is treated as empty; the user can re-add rooms
  }
  if (!Array.isArray(value)) return [];
  const secrets = value.flatMap((item: unknown) => {
    if (typeof item === "string") return [item];
    if (Array.isArray(item) && typeof item[0] === "string") return [item[0]];
    return [];
  });
  return [...new Set(secrets.filter((s) => s.length > 0))].slice(0, MAX_WATCHES);
}

/** Where the derived secrets of known rooms are kept for warm joins (room-secrets-cache.ts). */
export interface KnownRoomSecrets {
  /** Keep the current room's derived hash and key: it is a known room. */
  keepCurrent(): void;
  /** Drop what is kept for a room that is no longer known. */
  forget(secret: string): void;
  /** The current room's hash, derived (or kept) for the join: not derived a second time here. */
  readonly currentHash: Promise<string>;
}

export class RoomWatches {
  private list: string[] = [];
  private readonly hashes = new Map<string, string>();
  private readonly counts = new Map<string, number>();
  private readonly offInfo: () => void;
  private generation = 0;

  constructor(
    private readonly room: Room,
    private readonly prefs: PrefsStore,
    private readonly currentSecret: string,
    private readonly onChange: () => void,
    private readonly kept?: KnownRoomSecrets,
  ) {
    this.offInfo = room.onRoomInfo(({ hash, userCount }) => {
      this.counts.set(hash, userCount);
      this.onChange();
    });
    this.reload();
  }

  secrets(): string[] {
    return [...this.list];
  }

  includesCurrent(): boolean {
    return this.list.includes(this.currentSecret);
  }

  views(): WatchView[] {
    return this.list.map((secret) => {
      const hash = this.hashes.get(secret);
      return {
        secret,
        name: roomDisplayName(secret),
        userCount: hash === undefined ? undefined : this.counts.get(hash),
        current: secret === this.currentSecret,
      };
    });
  }

  /** Re-reads the pref and re-sends the watch list. */
  reload(): void {
    const before = this.list;
    this.list = parseWatchList(this.prefs.values.room_watches);
    for (const secret of before) if (!this.list.includes(secret)) this.kept?.forget(secret);
    if (this.list.includes(this.currentSecret)) this.kept?.keepCurrent();
    void this.sync();
  }

  async set(secrets: readonly string[]): Promise<void> {
    const list = [...new Set(secrets)].slice(0, MAX_WATCHES);
    await this.prefs.set("room_watches", JSON.stringify(list));
    this.reload();
  }

  close(): void {
    this.offInfo();
  }

  private async sync(): Promise<void> {
    const generation = ++this.generation;
    for (const secret of this.list) {
      if (!this.hashes.has(secret)) {
        const current = secret === this.currentSecret ? this.kept?.currentHash : undefined;
        this.hashes.set(secret, await (current ?? deriveRoomHash(secret)));
      }
      if (generation !== this.generation) return; // a newer list superseded this one
    }
    this.room.watchRooms(this.list.flatMap((secret) => this.hashes.get(secret) ?? []));
    this.onChange();
  }
}
