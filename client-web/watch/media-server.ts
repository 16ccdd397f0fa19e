// The sharer's end of one viewer's media channel: answers `get`s for opaque URLs with the bytes
// from the ShareSource, one response at a time and in order, in 64 KiB chunks, pausing while the
// channel's buffer is full so a slow viewer never makes us hold more than HIGH_WATER_BYTES for
// it. A `cancel` (the viewer's player gave up, e.g. after a seek) drops the response.

import {
  encodeChunk,
  encodeError,
  encodeResponseHead,
  MEDIA_CHUNK_BYTES,
  parseMediaText,
  splitIntoChunks,
} from "../../common/watch-together/media-protocol.js";
import type { Result } from "../../common/result.js";
import type { ServedMedia, ServeError } from "./share-source.js";

/** Enough to keep SCTP busy on a fast link; small enough that control waits little behind it. */
const HIGH_WATER_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = 256 * 1024;
/** A viewer asks for a playlist, an init segment and a segment or two at a time; more is abuse. */
const MAX_QUEUED_REQUESTS = 32;

interface Request {
  readonly rid: number;
  readonly url: string;
}

export class MediaServer {
  private readonly queue: Request[] = [];
  private readonly cancelled = new Set<number>();
  private running = false;
  /** The rid being answered now (a cancel may still stop it). */
  private serving: number | undefined;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly channel: RTCDataChannel,
    private readonly serve: (url: string) => Promise<Result<ServedMedia, ServeError>>,
    /** A peer that breaks the protocol: the caller closes the channel and may say so. */
    private readonly onProtocolError: (message: string) => void,
  ) {
    channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    channel.addEventListener("message", this.onMessage);
    channel.addEventListener("bufferedamountlow", this.onWake);
    channel.addEventListener("close", this.onClose);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.removeEventListener("message", this.onMessage);
    this.channel.removeEventListener("bufferedamountlow", this.onWake);
    this.channel.removeEventListener("close", this.onClose);
    this.channel.close();
    this.onWake();
  }

  private readonly onMessage = (event: MessageEvent): void => {
    if (typeof event.data !== "string") return this.fail("a binary message from a viewer");
    const parsed = parseMediaText(event.data);
    if (!parsed.ok) return this.fail(parsed.error.message);
    const message = parsed.value;
    if (message.t === "get") {
      if (this.queue.length >= MAX_QUEUED_REQUESTS) return this.fail("too many requests at once");
      this.queue.push({ rid: message.rid, url: message.url });
      void this.run();
    } else if (message.t === "cancel") {
      // Only for a request we have: cancels for anything else would pile up (a hostile viewer).
      if (this.queue.some((r) => r.rid === message.rid) || this.serving === message.rid) this.cancelled.add(message.rid);
    } else {
      this.fail(`a "${message.t}" message from a viewer`);
    }
  };

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let request = this.queue.shift(); request && !this.closed; request = this.queue.shift()) {
        if (this.cancelled.delete(request.rid)) continue;
        this.serving = request.rid;
        const served = await this.serve(request.url);
        if (this.closed) return;
        if (this.cancelled.delete(request.rid)) continue;
        if (!served.ok) {
          this.send(encodeError({ rid: request.rid, status: served.error.status, msg: served.error.message }));
          continue;
        }
        await this.sendResponse(request.rid, served.value);
      }
    } finally {
      this.running = false;
      this.serving = undefined;
    }
  }

  private async sendResponse(rid: number, media: ServedMedia): Promise<void> {
    const bytes = new Uint8Array(media.bytes);
    const chunks = splitIntoChunks(bytes, MEDIA_CHUNK_BYTES);
    if (!this.send(encodeResponseHead({ rid, status: 200, mime: media.mime, size: bytes.byteLength, chunks: chunks.length }))) return;
    for (let index = 0; index < chunks.length; index++) {
      while (!this.closed && this.channel.bufferedAmount > HIGH_WATER_BYTES) await new Promise<void>((resolve) => (this.wake = resolve));
      if (this.closed) return;
      // A cancel in the middle: the viewer's assembler has forgotten this rid, so stop sending.
      if (this.cancelled.delete(rid)) return;
      const chunk = chunks[index];
      if (!chunk || !this.send(encodeChunk(rid, index, chunk))) return;
    }
  }

  private send(data: string | Uint8Array): boolean {
    if (this.closed || this.channel.readyState !== "open") return false;
    try {
      // A view on an ArrayBuffer: what RTCDataChannel.send takes for binary.
      if (typeof data === "string") this.channel.send(data);
      else this.channel.send(data as Uint8Array<ArrayBuffer>);
      return true;
    } catch (error) {
      // E.g. a frame over the remote's maxMessageSize: say so instead of failing silently.
      this.onProtocolError(`sending failed: ${error instanceof Error ? error.message : String(error)}`);
      this.close();
      return false;
    }
  }

  private fail(message: string): void {
    this.onProtocolError(message);
    this.close();
  }

  private readonly onWake = (): void => {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  };

  private readonly onClose = (): void => this.close();
}
