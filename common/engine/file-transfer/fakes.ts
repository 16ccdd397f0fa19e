// Test support, imported only by *.test.ts: an in-memory file source and sink, and two in-memory
// data channels joined back to back, shaped like the TransferChannel subset of RTCDataChannel. Messages are delivered in order on
// later macrotasks, `bufferedAmount` drains as they go (so water marks and `bufferedamountlow`
// behave as in a browser), `send` refuses messages above the peer's maxMessageSize, and hooks
// let a test rewrite, drop or cut messages in flight.

import type { FileSink } from "./file-receiver.js";
import type { FileSource } from "./file-sender.js";
import type { TransferChannel } from "./protocol.js";

type Message = string | Uint8Array;
type Listener = (event: { readonly data: unknown }) => void;

export interface FakeChannelOptions {
  readonly label?: string;
  /** What each side accepts per message; `send` throws above it, as werift does. */
  readonly maxMessageSize?: number;
  /** Bytes delivered per macrotask: the "link rate". */
  readonly bytesPerTick?: number;
  /** Start in "connecting"; call `open()` on either end. */
  readonly connecting?: boolean;
  /** How a binary message reaches the receiver (default: a fresh ArrayBuffer, like a browser). */
  readonly deliver?: (bytes: Uint8Array) => unknown;
}

export class FakeChannel implements TransferChannel {
  readyState: RTCDataChannelState;
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType: BinaryType = "blob";
  /** Rewrites (or drops, with undefined) the nth message this end sends. */
  intercept: ((message: Message, index: number) => Message | undefined) | undefined;
  /** Every message this end sent, as sent (binary as byte lengths to keep memory flat). */
  readonly sentLog: (string | number)[] = [];
  peer: FakeChannel | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly outbox: { message: Message; bytes: number }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sentCount = 0;

  constructor(
    readonly label: string,
    private readonly options: FakeChannelOptions,
  ) {
    this.readyState = options.connecting ? "connecting" : "open";
  }

  send(data: string | Uint8Array): void {
    if (this.readyState !== "open") throw new Error("InvalidStateError: the channel is not open");
    const bytes = typeof data === "string" ? new TextEncoder().encode(data).length : data.byteLength;
    const max = this.options.maxMessageSize ?? 65536;
    if (bytes > max) throw new TypeError(`message of ${bytes} bytes exceeds max-message-size ${max}`);
    this.sentLog.push(typeof data === "string" ? data : data.byteLength);
    // Browsers copy on send; so do we, so a test can tamper without touching the sender's memory.
    const copy = typeof data === "string" ? data : data.slice();
    const message = this.intercept ? this.intercept(copy, this.sentCount) : copy;
    this.sentCount++;
    this.bufferedAmount += bytes;
    this.outbox.push({ message: message ?? "", bytes: message === undefined ? -bytes : bytes });
    this.schedule();
  }

  close(): void {
    if (this.readyState === "closing" || this.readyState === "closed") return;
    this.readyState = "closing";
    this.schedule(); // what is queued still goes out first, as in the W3C closing procedure
  }

  /** Both ends open (from "connecting"). */
  open(): void {
    for (const end of [this, this.peer]) {
      if (end && end.readyState === "connecting") {
        end.readyState = "open";
        end.dispatch("open", { data: undefined });
      }
    }
  }

  /** The connection dies: both ends close now and whatever is in flight is lost. */
  breakConnection(): void {
    for (const end of [this, this.peer]) {
      if (!end || end.readyState === "closed") continue;
      end.outbox.length = 0;
      if (end.timer !== undefined) clearTimeout(end.timer);
      end.timer = undefined;
      end.readyState = "closed";
    }
    for (const end of [this, this.peer]) end?.dispatch("close", { data: undefined });
  }

  addEventListener(type: string, listener: Listener): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  listenerCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  private dispatch(type: string, event: { readonly data: unknown }): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener(event);
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => this.flush(), 0);
  }

  private flush(): void {
    this.timer = undefined;
    let budget = this.options.bytesPerTick ?? 256 * 1024;
    while (budget > 0 && this.outbox.length > 0 && this.readyState !== "closed") {
      const item = this.outbox.shift();
      if (!item) break;
      const bytes = Math.abs(item.bytes);
      budget -= bytes;
      const before = this.bufferedAmount;
      this.bufferedAmount -= bytes;
      const peer = this.peer;
      if (item.bytes >= 0 && peer && peer.readyState === "open") {
        const data = typeof item.message === "string" ? item.message : peer.toWire(item.message);
        peer.dispatch("message", { data });
      }
      if (before > this.bufferedAmountLowThreshold && this.bufferedAmount <= this.bufferedAmountLowThreshold) {
        this.dispatch("bufferedamountlow", { data: undefined });
      }
    }
    if (this.outbox.length > 0) this.schedule();
    else if (this.readyState === "closing") this.finishClose();
  }

  private toWire(bytes: Uint8Array): unknown {
    if (this.options.deliver) return this.options.deliver(bytes);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }

  /** Our queue is empty: both ends close; the other end's unsent messages are lost. */
  private finishClose(): void {
    const ends = [this, this.peer].filter((end): end is FakeChannel => end !== undefined && end.readyState !== "closed");
    for (const end of ends) {
      end.outbox.length = 0;
      if (end.timer !== undefined) clearTimeout(end.timer);
      end.timer = undefined;
      end.readyState = "closed";
    }
    for (const end of ends) end.dispatch("close", { data: undefined });
  }
}

/** [sender end, receiver end]. */
export function createChannelPair(options: FakeChannelOptions = {}): [FakeChannel, FakeChannel] {
  const label = options.label ?? "file";
  const a = new FakeChannel(label, options);
  const b = new FakeChannel(label, options);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export interface MemorySourceOptions {
  /** Reject the read that covers this offset. */
  readonly failAt?: number;
  /** Return one byte less for the read that covers this offset (a file that shrank). */
  readonly shortAt?: number;
  /** Every read, for assertions. */
  readonly reads?: { offset: number; length: number }[];
}

/** Reads are views into `bytes` (no copy), resolved on a later microtask. */
export function memorySource(bytes: Uint8Array, options: MemorySourceOptions = {}): FileSource {
  return {
    size: bytes.length,
    async read(offset: number, length: number): Promise<Uint8Array> {
      options.reads?.push({ offset, length });
      const covers = (at: number | undefined) => at !== undefined && at >= offset && at < offset + length;
      if (covers(options.failAt)) throw new Error("disk on fire");
      const end = covers(options.shortAt) ? offset + length - 1 : offset + length;
      return bytes.subarray(offset, end);
    },
  };
}

export interface MemorySinkOptions {
  /** Milliseconds each write takes. */
  readonly writeMs?: number;
  readonly failWriteAt?: number;
  readonly failClose?: boolean;
  /** Writes wait until `release()`: a disk that has stalled. */
  readonly held?: boolean;
}

/** Collects what it is given; records concurrency and how it ended. */
export class MemorySink implements FileSink {
  readonly chunks: Uint8Array[] = [];
  bytes = 0;
  writesInFlight = 0;
  maxWritesInFlight = 0;
  writeCalls = 0;
  closed = false;
  aborted: string | undefined;
  /** True if anything touched the sink after it closed or aborted. */
  usedAfterEnd = false;

  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(private readonly options: MemorySinkOptions = {}) {
    if (options.held) this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  /** Lets held writes proceed. */
  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed || this.aborted !== undefined) this.usedAfterEnd = true;
    this.writeCalls++;
    this.writesInFlight++;
    this.maxWritesInFlight = Math.max(this.maxWritesInFlight, this.writesInFlight);
    try {
      if (this.gate) await this.gate;
      if (this.options.writeMs) await new Promise((resolve) => setTimeout(resolve, this.options.writeMs));
      if (this.options.failWriteAt !== undefined && this.writeCalls > this.options.failWriteAt) throw new Error("disk full");
      this.chunks.push(chunk);
      this.bytes += chunk.length;
    } finally {
      this.writesInFlight--;
    }
  }

  async close(): Promise<void> {
    if (this.closed || this.aborted !== undefined || this.writesInFlight > 0) this.usedAfterEnd = true;
    if (this.options.failClose) throw new Error("cannot rename");
    this.closed = true;
  }

  async abort(reason: string): Promise<void> {
    if (this.closed || this.aborted !== undefined || this.writesInFlight > 0) this.usedAfterEnd = true;
    this.aborted = reason;
  }

  /** Everything written, in one array. */
  contents(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function patternBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
