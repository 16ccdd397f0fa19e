// Client ids: random, so they reveal neither how many people connected nor who comes next
// (keks-meet used a counter), and unique among live sockets.

import { randomInt } from "node:crypto";
import type { ClientId } from "../common/wire/packets.js";

/**
 * 48 random bits: a JSON-safe integer (< 2^53) that clients and keks-meet's u64 parse alike,
 * with collisions among even a million live sockets left to the retry loop, not to luck.
 */
const ID_SPACE = 2 ** 48;

/** Draws ids; the caller says which are live (the relay's map of connections), so no set of its own. */
export class IdAllocator {
  constructor(private readonly random: () => number = () => randomInt(1, ID_SPACE)) {}

  /** A random id for which `isLive` is false. */
  allocate(isLive: (id: ClientId) => boolean): ClientId {
    for (;;) {
      const id = this.random();
      if (!isLive(id)) return id;
    }
  }
}
