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

/** One socket's inbound allowance: a frame costs one message token and its length in bytes. */
export class InboundRate {
  private readonly messages: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(limits: SendRateLimits, now: Clock = monotonicClock) {
    this.messages = new TokenBucket(limits.messageBurst, limits.messagesPerSecond, now);
    this.bytes = new TokenBucket(limits.byteBurst, limits.bytesPerSecond, now);
  }

  /** Charges one frame of `byteLength`; a refused frame costs nothing from either bucket. */
  charge(byteLength: number): RateLimitHit | null {
    if (this.messages.available() < 1) return "message_rate";
    if (!this.bytes.tryTake(byteLength)) return "byte_rate";
    this.messages.tryTake(1);
    return null;
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
