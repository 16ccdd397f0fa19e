// Sends one file over one data channel (protocol.ts has the message sequence). Owns the channel
// from construction on: it sets the low-water threshold, closes the channel when it stops, and
// never reads from it. Knows nothing of rooms, peers or the UI.

import { Emitter } from "../../events.js";
import { err, ok, type Result } from "../../result.js";
import {
  chunkBytesFor,
  encodeDigest,
  encodeHeader,
  CANCEL_MESSAGE,
  END_MESSAGE,
  FINISH_TIMEOUT_MS,
  HIGH_WATER_BYTES,
  isAcceptableFileSize,
  LOW_WATER_BYTES,
  parseControl,
  READ_BLOCK_BYTES,
  type SenderFailureCode,
  type TransferChannel,
  type TransferFailure,
} from "./protocol.js";
import { inThreadSha256, type RunningSha256, type Sha256Factory } from "./sha256.js";

export interface FileSource {
  readonly size: number;
  /**
   * Resolves with exactly `length` bytes starting at `offset` (never asked past `size`; blocks of
   * READ_BLOCK_BYTES). Reads overlap: the next block is read while this one is sent. Views into
   * the bytes go to `channel.send` as they are, and werift keeps a Node Buffer without copying,
   * so a source must not reuse the memory it returned.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface FileSenderOptions {
  readonly channel: TransferChannel;
  readonly source: FileSource;
  /** The peer's request. `offset` present (even 0) = a meshmeet receiver: header, digest, resume. */
  readonly request: { readonly offset?: number | undefined };
  /** The remote's maxMessageSize (`pc.sctp.maxMessageSize`; 0 or Infinity: no limit). */
  readonly maxMessageSize: number;
  /** Tests shorten it; see FINISH_TIMEOUT_MS. */
  readonly finishTimeoutMs?: number;
  /** Where the digest is computed; default: in this thread. */
  readonly sha256?: Sha256Factory | undefined;
  /**
   * The file's SHA-256 (hex) from an earlier complete send, if known. A request to resume at the
   * very end is then answered with it at no cost; without it such a request is refused, since
   * a peer could otherwise make us hash the whole file, again and again, to send nothing.
   */
  readonly knownDigest?: string | undefined;
}

/**
 * starting  → sending     the channel is open, the header (if any) is sent and bytes before the
 *                         request's offset are hashed
 * sending   → finishing   every byte, the digest (if any) and `end` were handed to the channel
 * finishing → done        the receiver closed the channel, or it did not within the timeout
 *                         although everything drained (rift never closes)
 * starting | sending | finishing → failed      (see SenderFailureCode; the channel is closed)
 * starting | sending | finishing → cancelled   cancel() (the channel is closed)
 */
export type SenderState = "starting" | "sending" | "finishing" | "done" | "cancelled" | "failed";

export interface SenderProgress {
  /** File offset up to which bytes were handed to the channel (counts the resumed part as sent). */
  readonly bytesSent: number;
  /** bytesSent minus what the channel still buffers: roughly what went out on the wire. */
  readonly bytesAcked: number;
  readonly size: number;
}

/**
 * Everything, `end` included, was handed to the channel and then the channel closed (or drained
 * and timed out). Only the receiver can tell whether the bytes arrived intact: a connection that
 * dies after `end` looks the same from here as a receiver closing.
 */
export interface SenderDone {
  readonly size: number;
  /** False when we closed the channel ourselves after FINISH_TIMEOUT_MS (a rift receiver). */
  readonly receiverClosed: boolean;
  /** The digest we sent; only to meshmeet receivers. */
  readonly sha256?: string;
}

export interface FileSenderEvents extends Record<string, unknown> {
  /** After each chunk is handed to the channel, and once everything has drained after `end`. */
  progress: SenderProgress;
  /** State is `done`; the channel is closed. */
  done: SenderDone;
  /** State is `failed`; the channel is closed. */
  failed: TransferFailure<SenderFailureCode>;
}

export class FileSender {
  readonly events = new Emitter<FileSenderEvents>();
  private currentState: SenderState = "starting";
  private readonly channel: TransferChannel;
  private readonly source: FileSource;
  private readonly size: number;
  private readonly requestOffset: number | undefined;
  private readonly maxMessageSize: number;
  private readonly finishTimeoutMs: number;
  /** Only meshmeet receivers get a digest, so only they cost us hashing. */
  private readonly hash: RunningSha256 | undefined;
  private digestHex: string | undefined;
  private readonly knownDigest: string | undefined;
  /** File offset of the next byte to send. */
  private position = 0;
  /** Resolves whatever `run` is waiting on: open, low water, close or cancel. */
  private wake: (() => void) | undefined;
  private finishTimer: ReturnType<typeof setTimeout> | undefined;
  private bufferedAtLastCheck = 0;

  constructor(options: FileSenderOptions) {
    this.channel = options.channel;
    this.source = options.source;
    this.size = options.source.size;
    this.requestOffset = options.request.offset;
    this.maxMessageSize = options.maxMessageSize;
    this.finishTimeoutMs = options.finishTimeoutMs ?? FINISH_TIMEOUT_MS;
    this.knownDigest = options.knownDigest;
    this.hash = this.requestOffset === undefined ? undefined : (options.sha256 ?? inThreadSha256)();
    this.channel.addEventListener("open", this.onWake);
    this.channel.addEventListener("bufferedamountlow", this.onLow);
    this.channel.addEventListener("close", this.onClose);
    this.channel.addEventListener("message", this.onMessage);
    // `run` turns every expected failure (channel, source, request) into the `failed` state; it
    // rejects only on a bug, which should then surface as an unhandled rejection.
    void this.run();
  }

  get state(): SenderState {
    return this.currentState;
  }

  /**
   * Stops sending and closes the channel. A meshmeet receiver is told first ({"cancel":1}), so it
   * does not take the close for a dropped connection and resume; a keks-meet one sees a close
   * without `end`.
   */
  cancel(): void {
    if (!this.isActive()) return;
    this.currentState = "cancelled";
    if (this.requestOffset !== undefined && this.channel.readyState === "open") this.channel.send(CANCEL_MESSAGE);
    this.stop();
  }

  private async run(): Promise<void> {
    // Everything, even refusing a bad request, happens after the constructor has returned, so
    // listeners attached right after `new` hear about it.
    await Promise.resolve();
    const extended = this.requestOffset !== undefined;
    const start = this.requestOffset ?? 0;
    if (!isAcceptableFileSize(this.size)) return this.fail("source_failed", `the source's size ${this.size} is not a file size`);
    if (!Number.isSafeInteger(start) || start < 0) return this.fail("bad_request", "the request's offset is not a non-negative integer");
    if (start > this.size) return this.fail("offset_beyond_size", `the request asks to resume at ${start} of a ${this.size}-byte file`);
    // Nothing left to send: only the digest is wanted, and it must not cost a pass over the file.
    const onlyDigest = extended && start === this.size && this.size > 0;
    if (onlyDigest && this.knownDigest === undefined) {
      return this.fail("nothing_to_send", `the request asks to resume at the end of the ${this.size}-byte file, whose digest is not known yet`);
    }
    const chunkBytes = chunkBytesFor(this.maxMessageSize, extended);
    if (chunkBytes === undefined) return this.fail("bad_max_message_size", `the remote's maxMessageSize ${this.maxMessageSize} is too small`);

    if (!(await this.opened())) return;
    this.channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    if (extended && !this.trySend(encodeHeader({ offset: start, size: this.size }))) return;
    if (this.hash && !onlyDigest && !(await this.prehash(this.hash, start))) return;
    this.position = start;
    this.currentState = "sending";
    if (!(await this.sendFrom(start, chunkBytes))) return;

    if (this.hash) {
      try {
        this.digestHex = (onlyDigest ? this.knownDigest : undefined) ?? (await this.hash.digest());
      } catch (error) {
        return this.fail("hash_failed", `hashing the file failed: ${describe(error)}`);
      }
      if (!this.isActive()) return;
      if (!this.trySend(encodeDigest(this.digestHex))) return;
    }
    if (!this.trySend(END_MESSAGE)) return;
    this.currentState = "finishing";
    // Hear when the last byte has left, to report it and to start the close timeout from there.
    this.channel.bufferedAmountLowThreshold = 0;
    this.emitProgress();
    this.armFinishTimer();
  }

  /** True once open; false if the channel closed (already reported) or we were cancelled. */
  private async opened(): Promise<boolean> {
    while (this.isActive() && this.channel.readyState === "connecting") await this.nextWake();
    if (!this.isActive()) return false;
    if (this.channel.readyState !== "open") {
      this.fail("channel_closed", "the channel closed before it opened");
      return false;
    }
    return true;
  }

  /** Resuming: hash [0, start) without sending it, so the digest still covers the whole file. */
  private async prehash(hash: RunningSha256, start: number): Promise<boolean> {
    const reader = new ReadAhead(this.source, 0, start, READ_BLOCK_BYTES);
    for (let offset = 0; offset < start; ) {
      const block = await reader.next();
      if (!this.isActive()) return false;
      if (!block.ok) {
        this.fail("source_failed", block.error);
        return false;
      }
      hash.update(block.value);
      offset += block.value.length;
    }
    return true;
  }

  /**
   * Fill until full (w3c/webrtc-pc#1979): keep sending while bufferedAmount is at or below high
   * water, rather than one chunk per `bufferedamountlow`, because browsers hand data to SCTP at
   * once and an event per chunk would leave the pipe idle between events. Each block is hashed
   * once and sent as views: no copy on our side.
   */
  private async sendFrom(start: number, chunkBytes: number): Promise<boolean> {
    const reader = new ReadAhead(this.source, start, this.size, READ_BLOCK_BYTES);
    while (this.position < this.size) {
      const block = await reader.next();
      if (!this.isActive()) return false;
      if (!block.ok) {
        this.fail("source_failed", block.error);
        return false;
      }
      const bytes = block.value;
      this.hash?.update(bytes);
      for (let at = 0; at < bytes.length; at += chunkBytes) {
        const chunk = bytes.subarray(at, at + chunkBytes);
        if (!this.trySend(chunk)) return false;
        this.position += chunk.length;
        this.emitProgress();
        while (this.isActive() && this.channel.bufferedAmount > HIGH_WATER_BYTES) await this.nextWake();
        if (!this.isActive()) return false;
      }
    }
    return this.isActive();
  }

  private trySend(data: string | Uint8Array): boolean {
    try {
      this.channel.send(data);
      return true;
    } catch (error) {
      // Browsers throw InvalidStateError once the channel is closing; its close event follows.
      if (this.channel.readyState !== "open") this.fail("channel_closed", "the channel closed while sending");
      else this.fail("send_failed", `send failed: ${describe(error)}`);
      return false;
    }
  }

  private emitProgress(): void {
    const start = this.requestOffset ?? 0;
    const bytesAcked = Math.max(start, this.position - this.channel.bufferedAmount);
    this.events.emit("progress", { bytesSent: this.position, bytesAcked, size: this.size });
  }

  /**
   * After `end` the receiver should close the channel. rift never does, and a slow link may
   * still be draining: the timer restarts while `bufferedAmount` keeps falling; once all of it
   * has left we close ourselves (done), if it stops falling we give up (stalled).
   */
  private armFinishTimer(): void {
    this.bufferedAtLastCheck = this.channel.bufferedAmount;
    this.finishTimer = setTimeout(() => {
      this.finishTimer = undefined;
      if (this.currentState !== "finishing") return;
      const buffered = this.channel.bufferedAmount;
      if (buffered === 0) this.succeed(false);
      else if (buffered < this.bufferedAtLastCheck) this.armFinishTimer();
      else this.fail("stalled", `${buffered} bytes did not drain within ${this.finishTimeoutMs} ms after end`);
    }, this.finishTimeoutMs);
  }

  private readonly onWake = (): void => {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  };

  private readonly onLow = (): void => {
    if (this.currentState === "finishing") this.emitProgress();
    this.onWake();
  };

  /** The receiver sends nothing but, from a meshmeet receiver, a cancel. */
  private readonly onMessage = (event: { readonly data: unknown }): void => {
    if (typeof event.data !== "string") return;
    const parsed = parseControl(event.data);
    if (parsed.ok && parsed.value.type === "cancel") this.fail("receiver_cancelled", "the receiver cancelled");
  };

  private readonly onClose = (): void => {
    if (this.currentState === "finishing") this.succeed(true);
    else this.fail("channel_closed", "the receiver closed the channel before the end");
  };

  private nextWake(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private isActive(): boolean {
    return this.currentState === "starting" || this.currentState === "sending" || this.currentState === "finishing";
  }

  private succeed(receiverClosed: boolean): void {
    if (!this.isActive()) return;
    this.currentState = "done";
    this.stop();
    const done: SenderDone = { size: this.size, receiverClosed };
    this.events.emit("done", this.digestHex === undefined ? done : { ...done, sha256: this.digestHex });
  }

  private fail(code: SenderFailureCode, message: string): void {
    if (!this.isActive()) return;
    this.currentState = "failed";
    this.stop();
    this.events.emit("failed", { code, message });
  }

  /** Every way out: our timer and listeners go, the channel closes, a waiting `run` wakes and sees the state. */
  private stop(): void {
    this.hash?.dispose(); // spent already after a digest; then this does nothing
    if (this.finishTimer !== undefined) clearTimeout(this.finishTimer);
    this.finishTimer = undefined;
    this.channel.removeEventListener("open", this.onWake);
    this.channel.removeEventListener("bufferedamountlow", this.onLow);
    this.channel.removeEventListener("close", this.onClose);
    this.channel.removeEventListener("message", this.onMessage);
    this.channel.close();
    this.onWake();
  }
}

/**
 * Reads [start, end) in blocks, one read always in flight ahead of the consumer, so the disk
 * (or File) works while the previous block is hashed and sent. A read never rejects here: it
 * becomes an error result, so an abandoned read-ahead cannot turn into an unhandled rejection.
 */
class ReadAhead {
  private position: number;
  private pending: Promise<Result<Uint8Array, string>> | undefined;

  constructor(
    private readonly source: FileSource,
    start: number,
    private readonly end: number,
    private readonly blockBytes: number,
  ) {
    this.position = start;
    this.pending = this.fetch();
  }

  next(): Promise<Result<Uint8Array, string>> {
    const current = this.pending ?? Promise.resolve(err("read past the end"));
    this.pending = this.fetch();
    return current;
  }

  private fetch(): Promise<Result<Uint8Array, string>> | undefined {
    if (this.position >= this.end) return undefined;
    const offset = this.position;
    const length = Math.min(this.blockBytes, this.end - offset);
    this.position += length;
    let read: Promise<Uint8Array>;
    try {
      read = this.source.read(offset, length);
    } catch (error) {
      return Promise.resolve(err(`reading at ${offset} failed: ${describe(error)}`));
    }
    return read.then(
      (bytes: unknown): Result<Uint8Array, string> => {
        if (!(bytes instanceof Uint8Array)) return err(`reading at ${offset} gave something other than a Uint8Array`);
        if (bytes.length !== length) return err(`reading at ${offset} gave ${bytes.length} bytes instead of ${length} (did the file change?)`);
        return ok(bytes);
      },
      (error: unknown) => err(`reading at ${offset} failed: ${describe(error)}`),
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
