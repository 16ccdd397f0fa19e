// The relay's STUN server (RFC 8489, Binding only): tells a browser the public address and port
// its request came from, so it can offer a server-reflexive candidate without any third-party
// STUN server. It answers well-formed Binding requests within per-source and global rates and is
// silent to everything else.
//
// A UDP server answering forged source addresses is a classic reflection amplifier. Hence: no
// error responses at all, nothing answered that is not a Binding request we fully understand, and
// no response larger than its request plus the XOR-MAPPED-ADDRESS attribute (checked before
// every send). With a rate per source, a spoofed victim receives at most the burst and then the
// sustained rate of ≤ 52-byte datagrams, never more bytes than the attacker sent plus 24 each.

import { sourceKey } from "../address-key.js";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { monotonicClock, TokenBucket, type Clock } from "../limits.js";
import { createTagger, silentLogger, type Logger, type Tagger } from "../log.js";
import {
  encodeBindingSuccess,
  parseBindingRequest,
  parseIpAddress,
  xorMappedAddressBytes,
  type StunDropReason,
} from "./message.js";

export interface StunLimits {
  /** Sustained Binding requests per second from one source (an IPv4 address or an IPv6 /64). */
  readonly requestsPerSecond: number;
  /** Requests one source may send at once. */
  readonly burst: number;
  /** Sources whose rate is tracked at once; beyond it the least recently seen is forgotten. */
  readonly maxSources: number;
  /** Requests per second answered in total; also the total burst. */
  readonly globalRequestsPerSecond: number;
  /** Larger datagrams are dropped unread. */
  readonly maxDatagramBytes: number;
}

export const DEFAULT_STUN_LIMITS: StunLimits = {
  // Browsers send one request per peer connection and local interface when gathering, and libwebrtc
  // keeps a server-reflexive candidate alive with a request every 10 s. In a full room of 16 (15
  // peer connections each) that is about 1.5/s per browser; 20/s leaves room for a dozen browsers
  // behind one NAT or carrier-grade NAT address.
  requestsPerSecond: 20,
  // Joining a room of 16 gathers for 15 peer connections at once, on up to three interfaces (Wi-Fi,
  // Ethernet, VPN): about 45 requests, more with retransmissions. 200 lets a few people behind one
  // address join at the same moment; a spoofed victim gets at most 200 × 52 bytes (10 kB) from it.
  burst: 200,
  // One tracked source costs a Map entry, its key (≤ 19 characters) and a TokenBucket: about 200
  // bytes, so 10 000 sources bound this table to about 2 MB whatever the traffic.
  maxSources: 10_000,
  // Caps what the server sends in total, even from countless (spoofed) sources: 2000 responses of
  // ≤ 52 bytes are ≤ 104 kB/s (under 1 Mbit/s). Legitimate load is a burst of a few dozen per
  // joining browser; 2000/s is dozens of rooms starting within the same second.
  globalRequestsPerSecond: 2000,
  // 548 = 576 (the smallest datagram every IPv4 host must accept) minus IP and UDP headers, the
  // classic bound for a UDP request. A browser's Binding request is 20–100 bytes; anything larger
  // is not one, and reading it would only cost us.
  maxDatagramBytes: 548,
};

/** One warn line per reason per this many seconds: a flood must not become a flood of log lines. */
const DEFAULT_WARN_INTERVAL_SECONDS = 60;

export type StunServerDropReason =
  | StunDropReason
  /** Over limits.maxDatagramBytes. */
  | "too_large"
  /** The sender's address is not an IP address or its port is 0: nowhere to answer. */
  | "bad_source"
  /** The response would outgrow the request by more than XOR-MAPPED-ADDRESS (a bug if ever seen). */
  | "amplification";

export type StunRateLimit = "source" | "global";

const DROP_REASONS: readonly StunServerDropReason[] = [
  "too_short",
  "not_stun",
  "bad_length",
  "bad_attribute",
  "bad_fingerprint",
  "not_binding_request",
  "unknown_attribute",
  "too_large",
  "bad_source",
  "amplification",
];

export interface StunServerStats {
  /** Responses handed to the socket. */
  readonly answered: number;
  readonly dropped: Readonly<Record<StunServerDropReason, number>>;
  /** Well-formed Binding requests not answered because of a rate. */
  readonly rateLimited: Readonly<Record<StunRateLimit, number>>;
  /** Responses the socket failed to send. */
  readonly sendFailed: number;
  /** Sources currently tracked. */
  readonly sources: number;
}

export interface StunServerOptions {
  /** An IP address, or a name looked up once by listen(); its family picks udp4 or udp6. */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly logger?: Logger;
  /** Maps sender addresses for logs; a fresh createTagger() if not given. */
  readonly tag?: Tagger;
  readonly limits?: Partial<StunLimits>;
  readonly warnIntervalSeconds?: number;
  /** For the rate buckets and the log throttle; tests pass a fake one. */
  readonly now?: Clock;
}

/**
 * Token buckets per source, at most `maxSources` of them. Map order is kept as "least recently
 * seen first" (a source is re-inserted on each request), so a new source replaces the most idle
 * one in O(1). Forgetting a source that has been quiet for burst/rate seconds loses nothing: its
 * bucket is full again. Forgetting a busier one hands it a fresh burst, but only after `maxSources`
 * requests from other sources came in since it was last seen, each paid from the global rate; so
 * even an attacker with endless spoofed addresses gets a victim one burst per that many requests.
 */
export class SourceBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly limits: Pick<StunLimits, "requestsPerSecond" | "burst" | "maxSources">,
    private readonly now: Clock = monotonicClock,
  ) {}

  tryTake(source: string): boolean {
    let bucket = this.buckets.get(source);
    if (bucket === undefined) {
      if (this.buckets.size >= this.limits.maxSources) {
        const mostIdle = this.buckets.keys().next();
        if (mostIdle.done !== true) this.buckets.delete(mostIdle.value);
      }
      bucket = new TokenBucket(this.limits.burst, this.limits.requestsPerSecond, this.now);
    } else {
      this.buckets.delete(source);
    }
    this.buckets.set(source, bucket);
    return bucket.tryTake();
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** The rate-limit key of a sender: an IPv4 address or an IPv6 /64 (server/address-key.ts). */
export { sourceKey };

/** Lets one line through per key per interval, and counts the ones it held back. */
class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: Clock,
  ) {}

  /** Lines held back since the last one for `key`, or null to stay quiet this time. */
  take(key: string): number | null {
    const now = this.now();
    const entry = this.last.get(key);
    if (entry !== undefined && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return null;
    }
    this.last.set(key, { at: now, suppressed: 0 });
    return entry?.suppressed ?? 0;
  }
}

function checkLimits(limits: StunLimits): void {
  for (const [key, value] of Object.entries(limits)) {
    if (!(typeof value === "number" && Number.isFinite(value) && value > 0)) {
      throw new RangeError(`StunServer: limits.${key} must be a positive number, got ${String(value)}`);
    }
  }
  if (limits.maxDatagramBytes < 20) throw new RangeError("StunServer: limits.maxDatagramBytes must be at least 20, the STUN header");
}

function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}

export class StunServer {
  private readonly limits: StunLimits;
  private readonly log: Logger;
  private readonly tag: Tagger;
  private readonly throttle: LogThrottle;
  private readonly sources: SourceBuckets;
  private readonly global: TokenBucket;
  private readonly dropped = zeroCounts(DROP_REASONS);
  private readonly rateLimited = zeroCounts<StunRateLimit>(["source", "global"]);
  private answered = 0;
  private sendFailed = 0;
  private socket: Socket | undefined;
  private listening: Promise<{ address: string; port: number }> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: StunServerOptions) {
    this.limits = { ...DEFAULT_STUN_LIMITS, ...options.limits };
    checkLimits(this.limits);
    const now = options.now ?? monotonicClock;
    this.log = options.logger ?? silentLogger;
    this.tag = options.tag ?? createTagger();
    this.throttle = new LogThrottle((options.warnIntervalSeconds ?? DEFAULT_WARN_INTERVAL_SECONDS) * 1000, now);
    this.sources = new SourceBuckets(this.limits, now);
    this.global = new TokenBucket(this.limits.globalRequestsPerSecond, this.limits.globalRequestsPerSecond, now);
  }

  /**
   * Binds the socket; resolves with the actual address (port 0 picks one). Repeated calls share
   * one bind; after close() it rejects.
   */
  listen(): Promise<{ address: string; port: number }> {
    if (this.closing !== undefined) return Promise.reject(new Error("StunServer: closed"));
    this.listening ??= this.bind();
    return this.listening;
  }

  /** Closes the socket; waits for a bind in progress. Idempotent, and fine before listen(). */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  stats(): StunServerStats {
    return {
      answered: this.answered,
      dropped: { ...this.dropped },
      rateLimited: { ...this.rateLimited },
      sendFailed: this.sendFailed,
      sources: this.sources.size,
    };
  }

  private async bind(): Promise<{ address: string; port: number }> {
    if (this.closing !== undefined) throw new Error("StunServer: closed");
    const { host, port } = this.options;
    const address = isIP(host) === 0 ? (await lookup(host)).address : host;
    if (this.closing !== undefined) throw new Error("StunServer: closed");
    const socket = createSocket({ type: isIP(address) === 6 ? "udp6" : "udp4" });
    this.socket = socket;
    socket.on("message", (datagram, sender) => this.receive(datagram, sender));
    let bound = false;
    try {
      await new Promise<void>((resolve, reject) => {
        // One listener for the socket's whole life: before the bind completes an error fails
        // listen(); after, it is logged, because an unhandled 'error' event would end the process.
        socket.on("error", (error) => (bound ? this.socketError(error) : reject(error)));
        socket.bind(port, address, () => {
          bound = true;
          resolve();
        });
      });
    } catch (error) {
      this.socket = undefined;
      socket.close();
      throw error;
    }
    // No "listening" line here: the caller logs it, as main.ts does for the HTTP server.
    const local = socket.address();
    return { address: local.address, port: local.port };
  }

  private async shutdown(): Promise<void> {
    // A bind in progress finishes (or fails) first, so its socket is not left open behind us.
    await this.listening?.catch(() => {});
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private receive(datagram: Buffer, sender: RemoteInfo): void {
    try {
      this.answer(datagram, sender);
    } catch (error) {
      // A bug here must cost one datagram, not the relay: a throwing 'message' listener would crash it.
      this.logThrottled("handler_failed", () => this.log.error("stun_handler_failed", { error: errorText(error) }));
    }
  }

  private answer(datagram: Buffer, sender: RemoteInfo): void {
    // Checked before parsing: nothing that large is a browser's request, so it gets no more work.
    if (datagram.length > this.limits.maxDatagramBytes) return this.drop("too_large", sender);
    // Anything but a well-formed Binding request is dropped without a reply: answering garbage,
    // even with an error response, would make us a reflector for whatever a forged sender sends.
    // RFC 8489 answers unknown comprehension-required attributes with a 420 error, but a reply to
    // an odd packet is exactly what an amplifier wants, and browsers never send such attributes.
    const request = parseBindingRequest(datagram);
    if (request.kind === "drop") return this.drop(request.reason, sender);
    const ip = parseIpAddress(sender.address);
    if (ip === null || sender.port === 0) return this.drop("bad_source", sender);
    // Rates after parsing, so garbage neither spends a legitimate sender's tokens nor fills the
    // source table. The source first: were the global bucket charged first, one flooding source
    // would spend everyone's budget even while its own limit refuses it.
    if (!this.sources.tryTake(sourceKey(ip))) return this.limit("source", sender);
    if (!this.global.tryTake()) return this.limit("global", sender);

    const response = encodeBindingSuccess(request.transactionId, { ip, port: sender.port }, request.hasFingerprint);
    // The no-amplification promise, checked rather than trusted to the encoder.
    if (response.length > datagram.length + xorMappedAddressBytes(ip.family)) return this.drop("amplification", sender);
    const socket = this.socket;
    if (socket === undefined) return;
    this.answered++;
    socket.send(response, sender.port, sender.address, (error) => {
      if (error) this.sendError(error);
    });
  }

  private drop(reason: StunServerDropReason, sender: RemoteInfo): void {
    this.dropped[reason]++;
    this.logThrottled(`drop:${reason}`, (suppressed) =>
      this.log.warn("stun_drop", { reason, address: this.tag(sender.address), suppressed }),
    );
  }

  private limit(limit: StunRateLimit, sender: RemoteInfo): void {
    this.rateLimited[limit]++;
    this.logThrottled(`limit:${limit}`, (suppressed) =>
      this.log.warn("limit", { limit: `stun_${limit}_rate`, address: this.tag(sender.address), suppressed }),
    );
  }

  private sendError(error: Error): void {
    this.sendFailed++;
    // The code only: dgram's send errors name the destination address and port in their message.
    this.logThrottled("send_failed", (suppressed) => this.log.error("stun_send_failed", { code: errorCode(error), suppressed }));
  }

  private socketError(error: Error): void {
    // Receive errors after bind carry no sender address (libuv reports them without one).
    this.logThrottled("socket_error", (suppressed) =>
      this.log.error("stun_socket_error", { code: errorCode(error), error: error.message, suppressed }),
    );
  }

  private logThrottled(key: string, write: (suppressed: number) => void): void {
    const suppressed = this.throttle.take(key);
    if (suppressed !== null) write(suppressed);
  }
}

function errorCode(error: Error): string | null {
  return "code" in error && typeof error.code === "string" ? error.code : null;
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
