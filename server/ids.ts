// Client ids: random, so they reveal neither how many people connected nor who comes next
// (keks-meet used a counter), and unique among live sockets.

import { randomInt } from "node:crypto";
import type { ClientId } from "../common/wire/packets.js";

/**
 * 48 random bits: a JSON-safe integer (< 2^53) that clients and keks-meet's u64 parse alike,
 * with collisions among even a million live sockets left to the retry loop, not to luck.
 */
const ID_SPACE = 2 ** 48;

export class IdAllocator {
  private readonly live = new Set<ClientId>();

  constructor(private readonly random: () => number = () => randomInt(1, ID_SPACE)) {}

  allocate(): ClientId {
    for (;;) {
      const id = this.random();
      if (!this.live.has(id)) {
        this.live.add(id);
        return id;
      }
    }
  }

  release(id: ClientId): void {
    this.live.delete(id);
  }
}
