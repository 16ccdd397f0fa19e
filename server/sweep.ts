// Periodic work over every live connection (pings, idle checks, TURN renewals), spread over its
// period: the members are kept in slots, and each tick of a sweep visits the next few slots
// rather than all members at once. Pinging 2000 sockets in one go stalled every room for 100 ms
// (bench/relay-load.ts); spread over the period, a tick costs a slot's worth.

/** Members in a fixed number of slots; a member's slot comes from its numeric key. */
export class SlottedSet<T> {
  readonly slots: readonly Set<T>[];
  private count = 0;

  constructor(slotCount: number) {
    this.slots = Array.from({ length: Math.max(1, Math.floor(slotCount)) }, () => new Set<T>());
  }

  /** `key` must be the same for add and delete; a non-negative integer (client ids are). */
  add(item: T, key: number): void {
    const slot = this.slotOf(key);
    if (slot.has(item)) return;
    slot.add(item);
    this.count++;
  }

  delete(item: T, key: number): boolean {
    if (!this.slotOf(key).delete(item)) return false;
    this.count--;
    return true;
  }

  get size(): number {
    return this.count;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (const slot of this.slots) yield* slot;
  }

  private slotOf(key: number): Set<T> {
    const slots = this.slots;
    // Client ids are random, so the slots fill evenly.
    return slots[key % slots.length] as Set<T>;
  }
}

/**
 * Visits every member of `set` once per `periodMs` (a member added meanwhile may wait up to one
 * period more), in ticks at least `minTickMs` apart that each take the next slots in turn.
 * The timer is unref'd; clearInterval the result to stop.
 */
export function startSweep<T>(set: SlottedSet<T>, periodMs: number, visit: (item: T) => void, minTickMs = 10): NodeJS.Timeout {
  const slotCount = set.slots.length;
  const slotsPerTick = Math.min(slotCount, Math.max(1, Math.ceil((slotCount * minTickMs) / periodMs)));
  const tickMs = (periodMs * slotsPerTick) / slotCount;
  let next = 0;
  const timer = setInterval(() => {
    for (let visited = 0; visited < slotsPerTick; visited++) {
      const slot = set.slots[next];
      next = (next + 1) % slotCount;
      if (slot !== undefined) for (const item of slot) visit(item);
    }
  }, tickMs);
  timer.unref();
  return timer;
}
