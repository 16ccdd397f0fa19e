// People this browser has verified (their safety code compared and confirmed), remembered by
// their identity key across meetings, with the name they had then. Kept in IndexedDB on this
// origin only; nothing of it is sent to anyone.

import { get, set, type UseStore } from "idb-keyval";

const KEY = "meshmeet.verified-peers";
/** Entries kept; the oldest go first past it. Thousands of verified people is a long life of meetings. */
export const MAX_VERIFIED_PEERS = 2_000;

export interface VerifiedPeer {
  readonly key: string;
  /** Their display name when verified: how a later impostor under that name is recognised. */
  readonly name: string;
  readonly verifiedAt: number;
}

function isVerifiedPeer(value: unknown): value is VerifiedPeer {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v["key"] === "string" && typeof v["name"] === "string" && typeof v["verifiedAt"] === "number";
}

/** Names compare as a person reads them: case and surrounding space do not make another person. */
export const sameName = (a: string, b: string): boolean => a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();

export class VerifiedPeers {
  private readonly byKey = new Map<string, VerifiedPeer>();

  private constructor(
    entries: readonly VerifiedPeer[],
    private readonly store: UseStore | undefined,
  ) {
    for (const entry of entries) this.byKey.set(entry.key, entry);
  }

  /** Storage refused: an empty list that lasts for this page. */
  static async load(store?: UseStore): Promise<VerifiedPeers> {
    let entries: VerifiedPeer[] = [];
    try {
      const stored: unknown = await get(KEY, store);
      if (Array.isArray(stored)) entries = stored.filter(isVerifiedPeer);
    } catch {
      // Private window or blocked storage: remember for this page only.
    }
    return new VerifiedPeers(entries, store);
  }

  get(key: string): VerifiedPeer | undefined {
    return this.byKey.get(key);
  }

  /** A verified person with this name under another key than `key`: the one an impostor would pose as. */
  otherWithName(name: string, key: string | undefined): VerifiedPeer | undefined {
    for (const entry of this.byKey.values()) if (entry.key !== key && sameName(entry.name, name)) return entry;
    return undefined;
  }

  async markVerified(key: string, name: string, at = Date.now()): Promise<void> {
    this.byKey.delete(key);
    this.byKey.set(key, { key, name, verifiedAt: at });
    while (this.byKey.size > MAX_VERIFIED_PEERS) {
      const oldest = this.byKey.keys().next().value;
      if (oldest === undefined) break;
      this.byKey.delete(oldest);
    }
    await this.save();
  }

  async forget(key: string): Promise<void> {
    if (this.byKey.delete(key)) await this.save();
  }

  private async save(): Promise<void> {
    await set(KEY, [...this.byKey.values()], this.store).catch(() => undefined);
  }
}
