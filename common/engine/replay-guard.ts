// What stops a hostile relay from replaying, reordering or re-targeting sealed messages. Every
// meshmeet sender stamps, inside the seal, a random stream id (one per relay socket), a counter
// that goes up by one per message on that socket, and the recipient (null for everyone). The
// relay cannot change them without breaking the seal. A receiver takes a stream's messages only
// in increasing order, and only those meant for it or for everyone.
//
// The guard outlives relay reconnects (one per RelayLink), so messages from before a reconnect
// cannot be played again after it. keks-meet senders stamp nothing: their messages pass
// unchecked, and the Room marks such peers as unprotected.

import type { ClientId, RelayOrder } from "../wire/packets.js";

/**
 * Streams remembered at once. One per member and relay socket they have used; past this the
 * oldest is forgotten (its replays would then pass), which takes thousands of reconnects.
 */
export const MAX_TRACKED_STREAMS = 4096;

export type ReplayVerdict = "fresh" | "replayed" | "misdirected";

export class ReplayGuard {
  private readonly lastSeq = new Map<string, number>();

  /** Whether a message stamped `order` may be delivered to us (`ownId`); records it if so. */
  admit(order: RelayOrder, ownId: ClientId | undefined): ReplayVerdict {
    if (order.to !== null && order.to !== ownId) return "misdirected";
    const last = this.lastSeq.get(order.stream);
    if (last !== undefined && order.seq <= last) return "replayed";
    // Re-insert so the Map's order is least recently used first.
    this.lastSeq.delete(order.stream);
    this.lastSeq.set(order.stream, order.seq);
    if (this.lastSeq.size > MAX_TRACKED_STREAMS) {
      const oldest = this.lastSeq.keys().next().value;
      if (oldest !== undefined) this.lastSeq.delete(oldest);
    }
    return "fresh";
  }
}
