// Periodic work over every live connection (pings, idle checks, TURN renewals), spread over its
// period: each tick visits the next share of the members instead of all at once. Pinging 2000
// sockets in one go stalled every room for 119 ms (bench/relay-load.ts); spread over the period,
// a tick costs a share. The members are the relay's own map of connections: no extra
// per-socket entry (the relay's memory goal is within 10 % of a bare ws forwarder's per socket).

/**
 * Ticks per period at most: with the 30 s ping interval, a tick every 0.12 s pinging 1/256 of
 * the sockets (40 of 10 000: a ping is a write of its own, a few hundred µs each here).
 */
const MAX_TICKS_PER_PERIOD = 256;

/**
 * Visits every member of `members` once per `periodMs`: each period walks the map once, in
 * ticks at least `minTickMs` apart, each taking its share of the members the period began with
 * (members added meanwhile come after them and may wait for the next period). A member is never
 * visited twice in one period. The timer is unref'd; clearInterval the result to stop.
 */
export function startSweep<T>(members: ReadonlyMap<unknown, T>, periodMs: number, visit: (member: T) => void, minTickMs = 10): NodeJS.Timeout {
  const ticksPerPeriod = Math.max(1, Math.min(MAX_TICKS_PER_PERIOD, Math.floor(periodMs / minTickMs)));
  let tick = 0;
  let walk: Iterator<T> | null = null;
  let perTick = 0;
  const timer = setInterval(() => {
    if (tick % ticksPerPeriod === 0) {
      walk = members.values();
      perTick = Math.ceil(members.size / ticksPerPeriod);
    }
    tick = (tick + 1) % ticksPerPeriod;
    if (walk === null) return;
    for (let visited = 0; visited < perTick; visited++) {
      const next = walk.next();
      if (next.done === true) {
        walk = null;
        return;
      }
      visit(next.value);
    }
  }, periodMs / ticksPerPeriod);
  timer.unref();
  return timer;
}
