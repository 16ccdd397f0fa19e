// The relay's counting primitives: token buckets for rates and budgets, and a per-address socket
// count. Numbers come from RelayConfig ([limits] in config/default.toml, where each default has
// its reason); nothing here knows about sockets or packets.

/** Milliseconds on a monotonic clock; injectable so tests need no sleeps. */
export type Clock = () => number;

export const monotonicClock: Clock = () => performance.now();

/**
 * Classic token bucket, refilled lazily on each call: holds at most `capacity` tokens (the burst),
 * gains `refillPerSecond` per second, starts full.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
    private readonly now: Clock = monotonicClock,
  ) {
    this.tokens = capacity;
    this.refilledAt = now();
  }

  /** Tokens available now (fractional). */
  available(): number {
    const now = this.now();
    const elapsedSeconds = Math.max(0, now - this.refilledAt) / 1000;
    this.tokens = Math.min(this.capacity, this.tokens + elapsedSeconds * this.refillPerSecond);
    this.refilledAt = now;
    return this.tokens;
  }

  /** Takes `count` tokens if all are there; takes nothing otherwise. */
  tryTake(count = 1): boolean {
    if (this.available() < count) return false;
    this.tokens -= count;
    return true;
  }
}

export interface SendRateLimits {
  readonly messagesPerSecond: number;
  readonly messageBurst: number;
  readonly bytesPerSecond: number;
  readonly byteBurst: number;
}

/** Which inbound limit a frame ran into, for the error packet and the log. */
export type RateLimitHit = "message_rate" | "byte_rate";

export interface SocketAllowanceLimits extends SendRateLimits {
  readonly errorBurst: number;
  readonly errorsPerSecond: number;
}

/**
 * Tokens in a bucket of `capacity` refilled at `refillPerSecond`, whose level is kept as the time
 * `fullAt` (ms) at which it will be full again: capacity − (fullAt − now) × rate, never below 0
 * (a clock that went backwards) and never above capacity. The same bucket as TokenBucket in one
 * number instead of two, and without a bucket object: a relay keeps three per socket.
 */
function level(fullAt: number, capacity: number, refillPerSecond: number, now: number): number {
  const missing = Math.max(0, fullAt - now) * (refillPerSecond / 1000);
  return missing >= capacity ? 0 : capacity - missing;
}

/** The bucket's `fullAt` once `count` tokens are taken at `now` (the caller checked the level). */
function taken(fullAt: number, refillPerSecond: number, now: number, count: number): number {
  return Math.max(fullAt, now) + (count * 1000) / refillPerSecond;
}

/**
 * One socket's allowances: inbound frames (each costs one message token and its length in bytes)
 * and the error budget (each error packet the relay sends costs one token). The limits and the
 * clock are shared by every socket; the three levels are this object's only state.
 */
export class SocketAllowance {
  private messagesFullAt = Number.NEGATIVE_INFINITY;
  private bytesFullAt = Number.NEGATIVE_INFINITY;
  private errorsFullAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly limits: SocketAllowanceLimits,
    private readonly now: Clock = monotonicClock,
  ) {}

  /** Charges one frame of `byteLength`; a refused frame costs nothing from either bucket. */
  charge(byteLength: number): RateLimitHit | null {
    const { limits } = this;
    const now = this.now();
    if (level(this.messagesFullAt, limits.messageBurst, limits.messagesPerSecond, now) < 1) return "message_rate";
    if (level(this.bytesFullAt, limits.byteBurst, limits.bytesPerSecond, now) < byteLength) return "byte_rate";
    this.messagesFullAt = taken(this.messagesFullAt, limits.messagesPerSecond, now, 1);
    this.bytesFullAt = taken(this.bytesFullAt, limits.bytesPerSecond, now, byteLength);
    return null;
  }

  /** Takes one token of the error budget; false (and nothing taken) when it is empty. */
  takeError(): boolean {
    const { limits } = this;
    const now = this.now();
    if (level(this.errorsFullAt, limits.errorBurst, limits.errorsPerSecond, now) < 1) return false;
    this.errorsFullAt = taken(this.errorsFullAt, limits.errorsPerSecond, now, 1);
    return true;
  }
}

/** Open sockets per client address, so one host cannot hold the whole relay. */
export class AddressCounter {
  private readonly counts = new Map<string, number>();

  /** Counts one more socket for `address` unless it already has `max`. */
  tryAdd(address: string, max: number): boolean {
    const count = this.counts.get(address) ?? 0;
    if (count >= max) return false;
    this.counts.set(address, count + 1);
    return true;
  }

  remove(address: string): void {
    const count = this.counts.get(address) ?? 0;
    // Entries go when they reach zero: the map holds only addresses with open sockets.
    if (count <= 1) this.counts.delete(address);
    else this.counts.set(address, count - 1);
  }

  get size(): number {
    return this.counts.size;
  }
}
