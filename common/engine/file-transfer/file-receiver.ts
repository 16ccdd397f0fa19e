// Receives one file from one data channel into a sink (protocol.ts has the message sequence).
// Owns the channel from construction on (sets binaryType, closes it when done, as keks-meet
// expects of a receiver) and the sink (writes one chunk at a time, then closes or aborts it).
// Construct it synchronously in the room's `channel` event: werift delivers messages as soon as
// the channel exists, and a message sent before a listener is attached is lost.

import { Emitter } from "../../events.js";
import {
  isAcceptableFileSize,
  CANCEL_MESSAGE,
  MAX_PENDING_WRITE_BYTES,
  parseControl,
  type ReceiverFailureCode,
  type TransferChannel,
  type TransferFailure,
  type TransferHeader,
} from "./protocol.js";
import { inThreadSha256, type RunningSha256, type Sha256Factory } from "./sha256.js";

export interface FileSink {
  /**
   * Appends. Never called again before the previous call settled. The chunk is handed over: the
   * receiver never reads or writes it again, so a sink may keep its memory (or transfer its
   * buffer to another thread) instead of copying it.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** All bytes arrived and verified (or could not be: keks-meet sender). */
  close(): Promise<void>;
  /** The transfer failed or was cancelled; discard what was written. */
  abort(reason: string): Promise<void>;
}

/**
 * What an interrupted receiver knows, for a new FileReceiver on a new channel (with the same
 * sink, still positioned after `bytesWritten`). Request the file again with `offset: bytesWritten`.
 * In memory only: the hash state is an object, not bytes.
 */
export interface ResumeState {
  /** Bytes the sink has accepted: the file's [0, bytesWritten). */
  readonly bytesWritten: number;
  /** The announced size those bytes belong to; a resume against another size is refused. */
  readonly size: number;
  /** SHA-256 over exactly those bytes. A receiver resuming from it takes its own clone. */
  readonly hash: RunningSha256;
}

export interface FileReceiverOptions {
  readonly channel: TransferChannel;
  /** The size from the `provide`; refused unless isAcceptableFileSize. */
  readonly size: number;
  readonly sink: FileSink;
  /** From `resumeState()` of an interrupted receiver of the same file. */
  readonly resume?: ResumeState | undefined;
  /** Where the digest is computed; default: in this thread. */
  readonly sha256?: Sha256Factory | undefined;
}

/**
 * waiting     → receiving     the first message: a header (meshmeet sender) or bytes (keks-meet)
 * waiting | receiving → finishing    `end` with every byte, and the digest matched (if one came)
 * finishing   → done          queued writes finished, sink closed, then we closed the channel
 * waiting | receiving → interrupted  the channel closed without `end`; queued writes finished
 *                             first. The sink stays open: resume with resumeState(), or cancel()
 * waiting | receiving | finishing → failed    (ReceiverFailureCode; channel closed, sink aborted)
 * waiting | receiving | finishing | interrupted → cancelled   cancel(): channel closed, sink aborted
 * (Aborts always wait for the write in flight: never an abort racing a write.)
 */
export type ReceiverState = "waiting" | "receiving" | "finishing" | "done" | "failed" | "cancelled" | "interrupted";

export interface ReceiverProgress {
  /** Bytes the sink has accepted, including the part of a resumed transfer. */
  readonly bytesReceived: number;
  readonly size: number;
}

export interface ReceiverDone {
  /** True when a meshmeet sender's SHA-256 over the whole file matched ours. */
  readonly verified: boolean;
  /** Our SHA-256 of what the sink received (lowercase hex). */
  readonly sha256: string;
}

export interface ReceiverInterrupted {
  readonly bytesWritten: number;
  readonly size: number;
}

export interface FileReceiverEvents extends Record<string, unknown> {
  /** After each chunk the sink accepted. */
  progress: ReceiverProgress;
  /** State is `done`: the sink is closed and the channel is closed. */
  done: ReceiverDone;
  /** State is `failed`: the channel is closed; the sink is aborted once its write in flight (if any) settles. */
  failed: TransferFailure<ReceiverFailureCode>;
  /** State is `interrupted`: resumeState() is available and the sink is still open. */
  interrupted: ReceiverInterrupted;
}

export class FileReceiver {
  readonly events = new Emitter<FileReceiverEvents>();
  private currentState: ReceiverState = "waiting";
  private readonly channel: TransferChannel;
  private readonly sink: FileSink;
  private readonly size: number;
  private readonly hash: RunningSha256;
  /** File offset of the next incoming byte (a header may start it before `accepted`). */
  private position = 0;
  /** Bytes hashed and queued for the sink: the file's [0, accepted). */
  private accepted: number;
  /** Bytes the sink has accepted. */
  private written: number;
  private header: TransferHeader | undefined;
  private digest: string | undefined;
  /** Serialized writes; RTCDataChannel offers no way to slow the sender, so this is bounded. */
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private pumping: Promise<void> | undefined;
  private handedOver: ResumeState | undefined;
  /** Once sink.close() has started, cancel() can no longer undo the transfer. */
  private sinkClosing = false;

  constructor(options: FileReceiverOptions) {
    this.channel = options.channel;
    this.sink = options.sink;
    this.size = options.size;
    const resume = options.resume;
    this.accepted = this.written = resume?.bytesWritten ?? 0;
    this.hash = resume ? resume.hash.clone() : (options.sha256 ?? inThreadSha256)();
    // keks-meet bug 15: Blobs are read asynchronously and can overtake `end`.
    this.channel.binaryType = "arraybuffer";
    this.channel.addEventListener("message", this.onMessage);
    this.channel.addEventListener("close", this.onClose);

    const refusal = this.checkOptions(resume);
    // Reported after the constructor returns, so listeners attached right after `new` hear it.
    if (refusal) queueMicrotask(() => this.fail(refusal.code, refusal.message));
    else if (this.channel.readyState === "closed") queueMicrotask(this.onClose);
  }

  get state(): ReceiverState {
    return this.currentState;
  }

  /** For a new FileReceiver after `interrupted`; undefined in any other state. */
  resumeState(): ResumeState | undefined {
    if (this.currentState !== "interrupted") return undefined;
    // Hands over our hash rather than a copy (a copy may cost a round trip to a worker): this
    // receiver will never hash again, and receivers resuming from the state clone it. The holder
    // disposes it once no receiver will resume from it.
    this.handedOver ??= { bytesWritten: this.written, size: this.size, hash: this.hash };
    return this.handedOver;
  }

  /** Gives up: closes the channel and aborts the sink. No-op once the sink is being closed. */
  cancel(): void {
    if (this.currentState === "interrupted") {
      this.currentState = "cancelled";
      if (!this.handedOver) this.hash.dispose();
      void this.abortSink("cancelled");
      return;
    }
    if (!this.isLive() || this.sinkClosing) return;
    this.currentState = "cancelled";
    // A meshmeet sender would otherwise take the close for a dropped connection (see protocol.ts).
    if (this.header && this.channel.readyState === "open") this.channel.send(CANCEL_MESSAGE);
    this.stop();
    void this.abortSink("cancelled");
  }

  private checkOptions(resume: ResumeState | undefined): TransferFailure<ReceiverFailureCode> | undefined {
    if (!isAcceptableFileSize(this.size)) return { code: "bad_size", message: `announced size ${this.size} is not acceptable` };
    if (!resume) return undefined;
    const { bytesWritten, size } = resume;
    if (size !== this.size) return { code: "bad_resume", message: `resuming a ${size}-byte file as a ${this.size}-byte one` };
    if (!Number.isSafeInteger(bytesWritten) || bytesWritten < 0 || bytesWritten > size) {
      return { code: "bad_resume", message: `resume point ${bytesWritten} is outside the file` };
    }
    return undefined;
  }

  private readonly onMessage = (event: { readonly data: unknown }): void => {
    // After `end` nothing more is expected; whatever a sender adds has nowhere to go.
    if (this.currentState !== "waiting" && this.currentState !== "receiving") return;
    const data = event.data;
    if (typeof data === "string") {
      this.handleText(data);
      return;
    }
    const bytes = asBytes(data);
    if (bytes) this.handleBytes(bytes);
    else this.fail("protocol", "a message that is neither text nor bytes");
  };

  private handleText(text: string): void {
    const parsed = parseControl(text);
    if (!parsed.ok) return this.fail(parsed.error.code, parsed.error.message);
    const message = parsed.value;
    switch (message.type) {
      case "header":
        if (this.currentState !== "waiting") return this.fail("protocol", "a header after the first message");
        if (message.size !== this.size) return this.fail("protocol", `the header says ${message.size} bytes, the offer said ${this.size}`);
        // A later start would leave a hole; an earlier one only repeats bytes we drop.
        if (message.offset > this.accepted) return this.fail("protocol", `the sender starts at ${message.offset}, we have ${this.accepted}`);
        this.header = message;
        this.position = message.offset;
        this.currentState = "receiving";
        return;
      case "digest":
        if (!this.header) return this.fail("protocol", "a digest from a sender that sent no header");
        if (this.digest !== undefined) return this.fail("protocol", "a second digest");
        this.digest = message.sha256;
        return;
      case "end":
        return this.handleEnd();
      case "cancel":
        return this.fail("sender_cancelled", "the sender cancelled");
    }
  }

  private handleBytes(bytes: Uint8Array): void {
    if (this.digest !== undefined) return this.fail("protocol", "bytes after the digest");
    this.currentState = "receiving"; // no header first: a keks-meet sender, starting at 0
    if (bytes.length > this.size - this.position) return this.fail("too_many_bytes", "peer sent more than it announced");
    const start = this.position;
    this.position += bytes.length;
    // A resumed transfer may repeat bytes we already hashed and wrote: drop them.
    const skip = Math.min(Math.max(this.accepted - start, 0), bytes.length);
    if (skip === bytes.length) return;
    const chunk = skip === 0 ? bytes : bytes.subarray(skip);
    this.hash.update(chunk);
    this.accepted += chunk.length;
    this.enqueue(chunk);
  }

  private handleEnd(): void {
    if (this.position < this.size) return this.fail("too_few_bytes", `end after ${this.position} of ${this.size} bytes`);
    if (this.header && this.digest === undefined) return this.fail("protocol", "end without the digest the header promised");
    this.currentState = "finishing";
    void this.verifyAndFinish(this.digest);
  }

  /** Never rejects. The digest may come from another thread, so the writes drain meanwhile. */
  private async verifyAndFinish(expected: string | undefined): Promise<void> {
    let sha256Hex: string;
    try {
      sha256Hex = await this.hash.digest();
    } catch (error) {
      return this.fail("hash_failed", `hashing the file failed: ${describe(error)}`);
    }
    if (this.currentState !== "finishing") return; // cancel() meanwhile
    if (expected !== undefined && expected !== sha256Hex) return this.fail("digest_mismatch", "contents differ from what the sender hashed");
    await this.finish({ verified: expected !== undefined, sha256: sha256Hex });
  }

  /** Never rejects: every failure becomes the `failed` state. */
  private async finish(done: ReceiverDone): Promise<void> {
    await this.drained();
    if (this.currentState !== "finishing") return; // a write failed, or cancel()
    this.sinkClosing = true;
    try {
      await this.sink.close();
    } catch (error) {
      this.sinkClosing = false;
      return this.fail("sink_failed", `closing the sink failed: ${describe(error)}`);
    }
    this.currentState = "done";
    this.stop(); // closing the channel is the receiver's job in keks-meet's protocol
    this.events.emit("done", done);
  }

  private readonly onClose = (): void => {
    // In `finishing` the sender (rift) or we ourselves closed after `end`: nothing is lost.
    if (this.currentState === "waiting" || this.currentState === "receiving") void this.interrupt();
  };

  /** Never rejects. Waits for queued bytes to reach the sink so that the resume point is exact. */
  private async interrupt(): Promise<void> {
    this.detach();
    await this.drained();
    if (this.currentState !== "waiting" && this.currentState !== "receiving") return; // a write failed, or cancel()
    this.currentState = "interrupted";
    this.events.emit("interrupted", { bytesWritten: this.written, size: this.size });
  }

  private enqueue(chunk: Uint8Array): void {
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > MAX_PENDING_WRITE_BYTES) {
      return this.fail("write_backlog", `the sink fell more than ${MAX_PENDING_WRITE_BYTES} bytes behind the network`);
    }
    // Cleared in `finally`, after the assignment, even when a write throws synchronously.
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined;
    });
  }

  /** The one writer: never two sink.write calls at once. Never rejects. */
  private async pump(): Promise<void> {
    for (let chunk = this.queue.shift(); chunk !== undefined && this.isLive(); chunk = this.queue.shift()) {
      // Read first: the sink may transfer the chunk's buffer away, which leaves it empty.
      const length = chunk.length;
      try {
        await this.sink.write(chunk);
      } catch (error) {
        return this.fail("sink_failed", `writing failed: ${describe(error)}`);
      }
      this.queuedBytes -= length;
      this.written += length;
      if (this.isLive()) this.events.emit("progress", { bytesReceived: this.written, size: this.size });
    }
  }

  private async drained(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private isLive(): boolean {
    return this.currentState === "waiting" || this.currentState === "receiving" || this.currentState === "finishing";
  }

  private fail(code: ReceiverFailureCode, message: string): void {
    if (!this.isLive()) return;
    this.currentState = "failed";
    this.stop();
    void this.abortSink(message);
    // Not after the abort: a sink stuck in a write (the backlog case) would hold the news back.
    this.events.emit("failed", { code, message });
  }

  /** After the write in flight (if any) settles: never an abort racing a write. Never rejects. */
  private async abortSink(reason: string): Promise<void> {
    this.queue.length = 0;
    this.queuedBytes = 0;
    await this.drained();
    try {
      await this.sink.abort(reason);
    } catch {
      // The transfer has already failed or been cancelled; a sink that cannot even abort has
      // nothing more to lose, and the reason we report is the original one.
    }
  }

  private detach(): void {
    this.channel.removeEventListener("message", this.onMessage);
    this.channel.removeEventListener("close", this.onClose);
  }

  private stop(): void {
    this.detach();
    this.channel.close();
    this.hash.dispose(); // spent already after a digest; then this does nothing
  }
}

/**
 * A binary message as bytes, without copying: ArrayBuffer (browsers), Uint8Array including Node's
 * Buffer (werift), or any other view. The message's memory is ours from here on: browsers hand
 * out a fresh ArrayBuffer per message and werift a fresh Buffer, so queued views stay valid.
 */
function asBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
