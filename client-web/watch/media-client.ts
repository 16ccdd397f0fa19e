// A viewer's end of the media channel: fetch(opaqueUrl) → the bytes, reassembled from the
// sharer's chunks. Requests are numbered; an abort sends `cancel` and forgets the response.

import { encodeCancel, encodeGet, parseChunk, parseMediaText, ResponseAssembler } from "../../common/watch-together/media-protocol.js";
import { err, ok, type Result } from "../../common/result.js";

export interface FetchedMedia {
  readonly bytes: ArrayBuffer;
  readonly mime: string;
}

export interface MediaFetchError {
  /** HTTP-like: 404 unknown, 502 the sharer's Jellyfin failed, 504 too slow, 0 channel or protocol trouble. */
  readonly status: number;
  readonly message: string;
}

interface Waiting {
  resolve(result: Result<FetchedMedia, MediaFetchError>): void;
  mime: string;
}

export class MediaClient {
  private nextRid = 1;
  private readonly waiting = new Map<number, Waiting>();
  private readonly assembler = new ResponseAssembler();
  private closedReason: string | undefined;

  constructor(
    private readonly channel: RTCDataChannel,
    private readonly onProtocolError: (message: string) => void,
  ) {
    channel.binaryType = "arraybuffer";
    channel.addEventListener("message", this.onMessage);
    channel.addEventListener("close", this.onClose);
  }

  get isOpen(): boolean {
    return this.closedReason === undefined && this.channel.readyState === "open";
  }

  fetch(url: string, signal?: AbortSignal): Promise<Result<FetchedMedia, MediaFetchError>> {
    if (this.closedReason !== undefined) return Promise.resolve(err({ status: 0, message: this.closedReason }));
    const rid = this.nextRid++;
    return new Promise((resolve) => {
      const finish = (result: Result<FetchedMedia, MediaFetchError>): void => {
        signal?.removeEventListener("abort", onAbort);
        this.waiting.delete(rid);
        resolve(result);
      };
      const onAbort = (): void => {
        this.assembler.cancel(rid);
        if (this.channel.readyState === "open") this.channel.send(encodeCancel(rid));
        finish(err({ status: 0, message: "aborted" }));
      };
      if (signal?.aborted) return resolve(err({ status: 0, message: "aborted" }));
      signal?.addEventListener("abort", onAbort);
      this.waiting.set(rid, { resolve: finish, mime: "" });
      try {
        this.channel.send(encodeGet(rid, url));
      } catch {
        finish(err({ status: 0, message: "the media channel is closed" }));
      }
    });
  }

  close(reason = "the media channel closed"): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.channel.removeEventListener("message", this.onMessage);
    this.channel.removeEventListener("close", this.onClose);
    this.channel.close();
    for (const waiter of [...this.waiting.values()]) waiter.resolve(err({ status: 0, message: reason }));
    this.waiting.clear();
  }

  private readonly onMessage = (event: MessageEvent): void => {
    if (typeof event.data === "string") {
      const parsed = parseMediaText(event.data);
      if (!parsed.ok) return this.fail(parsed.error.message);
      const message = parsed.value;
      if ((message.t === "res" || message.t === "err") && message.rid >= this.nextRid) {
        return this.fail(`an answer to request ${message.rid}, which we never made`);
      }
      if (message.t === "res") {
        const waiter = this.waiting.get(message.rid);
        if (!waiter) return; // cancelled by us; its chunks are dropped below too
        waiter.mime = message.mime;
        const begun = this.assembler.begin(message);
        if (!begun.ok) return this.fail(begun.error.message);
        if (message.chunks === 0) waiter.resolve(ok({ bytes: new ArrayBuffer(0), mime: message.mime }));
      } else if (message.t === "err") {
        this.assembler.cancel(message.rid); // an error after a head frees what the head reserved
        this.waiting.get(message.rid)?.resolve(err({ status: message.status, message: message.msg }));
      } else {
        this.fail(`a "${message.t}" message from the sharer`);
      }
      return;
    }
    if (!(event.data instanceof ArrayBuffer)) return this.fail("a message that is neither text nor bytes");
    const chunk = parseChunk(new Uint8Array(event.data));
    if (!chunk.ok) return this.fail(chunk.error.message);
    if (chunk.value.rid >= this.nextRid) return this.fail(`bytes for request ${chunk.value.rid}, which we never made`);
    const waiter = this.waiting.get(chunk.value.rid);
    if (!waiter) return; // a response we cancelled: the sharer may still be sending it
    const added = this.assembler.add(chunk.value);
    if (!added.ok) return this.fail(added.error.message);
    if (added.value) waiter.resolve(ok({ bytes: added.value, mime: waiter.mime }));
  };

  private fail(message: string): void {
    this.onProtocolError(message);
    this.close(`the sharer broke the protocol: ${message}`);
  }

  private readonly onClose = (): void => this.close();
}
