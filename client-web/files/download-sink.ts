// Where a received file goes: a sink that takes the bytes as they arrive and hands them to the
// browser's download machinery. The path is chosen once per download, best first:
//
//   1. "service-worker" — the normal path. Our worker (/sw.js, client-web/sw/) answers a download
//      URL with a streamed Response fed from this page, so the browser writes the file to disk as
//      it arrives: flat memory, any size, the browser's own download UI (progress, cancel, a
//      failed entry instead of a truncated file). Needs `navigator.serviceWorker`, i.e. a secure
//      context (HTTPS or localhost) and a browser that has not disabled workers (some private modes).
//   2. "file-system" — only when the caller passes `preferPicker` and the File System Access API
//      exists (Chromium): the user picks the target file in a save dialog, and we write to it
//      directly. `showSaveFilePicker` needs a user gesture, so call openDownload from the click
//      handler, before any other await; without the API the request falls through to 1 and 3.
//   3. "memory" — last resort (no service worker, e.g. plain-HTTP deployments or private modes):
//      the file is assembled into a Blob and saved through an object URL when complete. Bounded by
//      MAX_MEMORY_DOWNLOAD_BYTES so a peer cannot make us allocate without limit
//      (keks-meet allocated whatever size the sender announced, as text/plain).
//
// The service-worker path starts the download by navigating this page to the download URL (the
// page stays: the response is an attachment). A page that asks "leave?" in `beforeunload` must
// skip that when isDownloadNavigation() is true. Owns no other UI; words for the user come with
// each DownloadError. Failures after opening reject write()/close() with a DownloadSinkError.

import { err, ok, type Result } from "../../common/result.js";
import {
  KEEP_ALIVE_INTERVAL_MS,
  MAX_CHUNK_MESSAGE_BYTES,
  parseDownloadMessage,
  safeDownloadName,
  safeMimeType,
  type DownloadMessage,
  type PagePortMessage,
  type WorkerGlobalMessage,
} from "../sw/download-protocol.js";

/**
 * Largest file the memory fallback accepts. The whole file lives in the browser's blob storage
 * (and briefly twice, while the final Blob is assembled) on a device that may be a phone; 256 MiB
 * is a video clip or a large archive, and beyond it a tab risks being killed for memory.
 */
export const MAX_MEMORY_DOWNLOAD_BYTES = 256 * 1024 * 1024;

const WORKER_SCRIPT_URL = "/sw.js";
const WORKER_SCOPE = "/";
/** Registration, install and activation of the worker on the first download (a small script). */
const WORKER_ACTIVATE_TIMEOUT_MS = 10_000;
/** The worker answers `download-open` at once; silence means it is not usable. */
const WORKER_READY_TIMEOUT_MS = 5_000;
/**
 * From the navigation to the worker seeing the fetch: normally a few ms. Longer means the browser
 * is holding the download (e.g. asking whether this site may download several files) or never
 * routed it to the worker; the caller gets `not-started` and can retry.
 */
const DOWNLOAD_START_TIMEOUT_MS = 15_000;
/** The worker acknowledges `end` as soon as it has queued the last bytes. */
const CLOSE_ACK_TIMEOUT_MS = 10_000;
/** Object URLs of finished memory downloads are revoked after this (the browser copies before). */
const OBJECT_URL_LIFETIME_MS = 60_000;
/** The memory sink folds its copies into a Blob every this many bytes, so they can leave the JS heap. */
const MEMORY_BLOB_PART_BYTES = 8 * 1024 * 1024;

export interface DownloadRequest {
  /** Suggested file name; sanitized here (it comes from the sender). */
  readonly name: string;
  /** Announced size in bytes, if known: used as Content-Length and checked at close(). */
  readonly size?: number | undefined;
  /** The sender's MIME type; anything not plainly inert becomes application/octet-stream. */
  readonly mimeType: string;
  /** Ask the user where to save (File System Access API) when the browser has it. Needs a user gesture. */
  readonly preferPicker?: boolean;
}

export interface WriteOptions {
  /**
   * The caller hands the chunk over and never reads or writes it again, so the sink keeps its
   * memory instead of copying it (a chunk spanning a whole ArrayBuffer may be transferred to the
   * service worker, which detaches it). A received data-channel message is such a chunk.
   */
  readonly handOver?: boolean;
}

export interface DownloadSink {
  readonly kind: "service-worker" | "file-system" | "memory";
  /**
   * Resolves when the chunk has been accepted: for "service-worker", once it fits in the credit the
   * worker granted (so awaiting each write is the backpressure); unless handed over, the sink
   * copies the bytes, so the caller may reuse the buffer. Writes are applied in call order. Rejects
   * with a DownloadSinkError once the download has ended (cancelled in the browser, aborted, more
   * bytes than announced).
   */
  write(chunk: Uint8Array, options?: WriteOptions): Promise<void>;
  /** Finishes the file. Rejects (and fails the download) if fewer bytes than announced were written. */
  close(): Promise<void>;
  /** Fails the download: the browser shows it as failed, no complete-looking file is left. Idempotent. */
  abort(reason: string): Promise<void>;
  /**
   * Aborted when the download ends without this page asking (the user cancelled it in the browser,
   * or the browser could not write it); `reason` is a DownloadSinkError. Stop feeding it then.
   */
  readonly signal: AbortSignal;
}

export type DownloadErrorCode =
  /** The announced size is not a byte count. */
  | "invalid-size"
  /** Only the memory path is available and the file is larger than MAX_MEMORY_DOWNLOAD_BYTES. */
  | "too-large-for-memory"
  /** The user dismissed the save dialog, or cancelled the download in the browser. */
  | "cancelled"
  /** The browser never fetched the download from our worker. */
  | "not-started"
  /** More or fewer bytes than announced: the file is discarded, not saved broken. */
  | "size-mismatch"
  /** This page aborted the download (write after abort). */
  | "aborted"
  /** Anything else the browser refused (disk full, permission, a broken worker). */
  | "failed";

export interface DownloadError {
  readonly code: DownloadErrorCode;
  /** A sentence for the user. */
  readonly message: string;
}

/** How write()/close() reject once a sink has ended; `error` says why. */
export class DownloadSinkError extends Error {
  constructor(readonly error: DownloadError) {
    super(error.message);
    this.name = "DownloadSinkError";
  }
}

/**
 * `chunk` itself when it was handed over and spans its whole (transferable) ArrayBuffer: no copy
 * needed. Undefined when the sink must copy.
 */
function ownedBuffer(chunk: Uint8Array, handOver: boolean): Uint8Array<ArrayBuffer> | undefined {
  const { buffer } = chunk;
  if (!handOver || !(buffer instanceof ArrayBuffer)) return undefined;
  return chunk.byteOffset === 0 && chunk.byteLength === buffer.byteLength ? new Uint8Array(buffer) : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MiB`;
}

export function downloadError(code: DownloadErrorCode, detail?: string): DownloadError {
  switch (code) {
    case "invalid-size":
      return { code, message: "The file's announced size is not valid, so it cannot be received." };
    case "too-large-for-memory":
      return {
        code,
        message:
          `This file${detail ? ` (${detail})` : ""} is too large to receive in this browser. Without streaming downloads ` +
          `(service workers, which need HTTPS and are off in some private windows) a file must fit in memory, ` +
          `up to ${mib(MAX_MEMORY_DOWNLOAD_BYTES)}.`,
      };
    case "cancelled":
      return { code, message: "The download was cancelled." };
    case "not-started":
      return {
        code,
        message: "The browser did not start the download. If it asked whether this site may download files, allow it and try again.",
      };
    case "size-mismatch":
      return { code, message: "The file did not have the size the sender announced, so it was not saved." };
    case "aborted":
      return { code, message: detail ? `The download was stopped: ${detail}.` : "The download was stopped." };
    case "failed":
      return { code, message: detail ? `The file could not be saved: ${detail}.` : "The file could not be saved." };
  }
}

/** Opens a download by the best available path (see the file header). */
export async function openDownload(request: DownloadRequest): Promise<Result<DownloadSink, DownloadError>> {
  const { size } = request;
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) return err(downloadError("invalid-size"));
  const name = safeDownloadName(request.name);
  const mimeType = safeMimeType(request.mimeType);

  if (request.preferPicker) {
    const picker = savePicker();
    if (picker) return openFileSystemDownload(picker, name, size);
  }

  const worker = await activeWorker();
  if (worker) {
    const opened = await openWorkerDownload(worker, name, mimeType, size);
    if (opened) return opened;
    // The worker exists but did not answer: treat it like no worker at all.
  }
  return openMemoryDownload(name, mimeType, size);
}

// ---- shared helpers -------------------------------------------------------------------------

const TIMED_OUT = Symbol("timed out");

/** `promise`, or TIMED_OUT after `ms`; the timer never outlives the race. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Saves `href` (a blob: URL) under `name` the way a user's click on a download link would. */
function clickDownloadLink(href: string, name: string): void {
  const link = document.createElement("a");
  link.href = href;
  link.download = name;
  link.rel = "noopener";
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
}

/** True only while navigateToDownload() runs; see isDownloadNavigation(). */
let navigatingToDownload = false;

/**
 * Whether the `beforeunload` being handled is our own download navigation, which leaves nothing:
 * a page that asks "leave?" in beforeunload (the room does while the user shares something)
 * should not ask then. Chromium and Firefox dispatch beforeunload synchronously inside
 * `location.assign`, so this is exact, not a time window.
 */
export function isDownloadNavigation(): boolean {
  return navigatingToDownload;
}

/**
 * Starts the worker's download by navigating this page to it. The response is an attachment, so
 * the browser saves it and the page stays: nothing unloads, the meeting goes on. Not
 * `<a download>`: Chromium sends those straight to the network, past the service worker (seen in
 * Chromium 156), so the relay would answer 404. Not an iframe: the app's CSP (`default-src
 * 'none'`, no frame-src) blocks frames.
 */
function navigateToDownload(path: string): void {
  navigatingToDownload = true;
  try {
    window.location.assign(path);
  } finally {
    navigatingToDownload = false;
  }
}

/** The tail of the queue of download navigations; see startInTurn(). */
let navigationTurn: Promise<unknown> = Promise.resolve();

/**
 * Runs `start` (announce, navigate, wait for the worker's `started`) after every earlier one has
 * finished. A navigation begun while the previous one is still in flight cancels it (downloads
 * opened at once: all but the last cancelled, Chromium 156), and nothing tells the page when the
 * browser has turned a navigation into a download (the Navigation API reports it neither finished
 * nor failed). `started` means the worker has sent the browser its response; the next download
 * then still has to be announced and acknowledged (page → worker → page, where the worker handles
 * the announcement only after it finished the previous fetch) before its navigation begins.
 * Announcing inside the turn matters: with the announcement done early, navigating right after
 * `started` still lost downloads (2 of 5 runs with eight at once).
 */
function startInTurn<T>(start: () => Promise<T>): Promise<T> {
  const run = navigationTurn.then(start);
  // Only the order matters here; each caller handles its own outcome.
  navigationTurn = run.catch(() => undefined);
  return run;
}

/** A resolvable promise, for replies that arrive as messages. */
class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Rejections are read by whoever awaits `promise`; a deferred nobody awaits must not warn.
    this.promise.catch(() => undefined);
  }
}

/** Common state of every sink: the end signal, write ordering and the announced-size check. */
abstract class BaseSink implements DownloadSink {
  abstract readonly kind: DownloadSink["kind"];
  protected written = 0;
  /** Set once the sink can take no more bytes (closed, aborted, cancelled, failed). */
  protected ended: DownloadSinkError | "closed" | undefined;
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  /** Writes run one after another even if the caller does not await each. */
  private tail: Promise<void> = Promise.resolve();
  /** The one close() in progress or done; a second call gets the same outcome. */
  private closing: Promise<void> | undefined;
  /** Set when finish() starts: from then on the file is complete as far as this page is concerned. */
  private finishing = false;

  constructor(protected readonly size: number | undefined) {}

  write(chunk: Uint8Array, options: WriteOptions = {}): Promise<void> {
    // Writes made before close() still go out first; one made after it is a caller bug.
    if (this.closing) return Promise.reject(new DownloadSinkError(downloadError("failed", "the download was already closed")));
    const run = this.tail.then(() => this.writeInOrder(chunk, options.handOver === true));
    // The rejection goes to this write's caller; the chain only keeps the order.
    this.tail = run.catch(() => undefined);
    return run;
  }

  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  async abort(reason: string): Promise<void> {
    // Once finish() has begun, the last byte is on its way and abort has nothing left to stop.
    if (this.ended !== undefined || this.finishing) return;
    await this.end(new DownloadSinkError(downloadError("aborted", reason)), reason);
  }

  private async closeOnce(): Promise<void> {
    await this.tail;
    this.throwIfEnded();
    if (this.size !== undefined && this.written !== this.size) {
      const error = new DownloadSinkError(downloadError("size-mismatch"));
      await this.end(error, `received ${this.written} of ${this.size} bytes`);
      throw error;
    }
    this.finishing = true;
    try {
      await this.finish();
    } catch (error) {
      const failure = error instanceof DownloadSinkError ? error : new DownloadSinkError(downloadError("failed", describe(error)));
      if (this.ended === undefined) {
        this.ended = failure;
        this.release();
      }
      throw failure;
    }
    this.ended = "closed";
    this.release();
  }

  /** Ends the download because the browser side stopped it; tells the owner through `signal`. */
  protected endedElsewhere(error: DownloadSinkError): void {
    if (this.ended !== undefined) return;
    this.ended = error;
    this.release();
    this.controller.abort(error);
  }

  private async writeInOrder(chunk: Uint8Array, handOver: boolean): Promise<void> {
    this.throwIfEnded();
    if (chunk.byteLength === 0) return;
    if (this.size !== undefined && this.written + chunk.byteLength > this.size) {
      const error = new DownloadSinkError(downloadError("size-mismatch"));
      await this.end(error, "more bytes than announced");
      throw error;
    }
    // Read first: a chunk handed over may be transferred away, which leaves it empty.
    const length = chunk.byteLength;
    await this.accept(chunk, handOver);
    this.written += length;
  }

  private async end(error: DownloadSinkError, reason: string): Promise<void> {
    this.ended = error;
    try {
      await this.discard(reason);
    } finally {
      this.release();
    }
  }

  protected throwIfEnded(): void {
    if (this.ended === "closed") throw new DownloadSinkError(downloadError("failed", "the download is already complete"));
    if (this.ended) throw this.ended;
  }

  /** Takes a chunk (copying it unless handed over), waiting for room if the path has flow control. */
  protected abstract accept(chunk: Uint8Array, handOver: boolean): Promise<void>;
  /** Completes the file after the last byte. */
  protected abstract finish(): Promise<void>;
  /** Throws the partial file away and makes the browser show the download as failed. */
  protected abstract discard(reason: string): Promise<void>;
  /** Frees timers, ports and buffers; called exactly once, whichever way the sink ended. */
  protected abstract release(): void;
}

// ---- 1. service worker ------------------------------------------------------------------------

function hasServiceWorkers(): boolean {
  // Absent outside secure contexts, even though the DOM types say it is always there.
  return "serviceWorker" in navigator && window.isSecureContext;
}

/** Our activated worker (registering it on first use), or null if this browser cannot have one. */
async function activeWorker(): Promise<ServiceWorker | null> {
  if (!hasServiceWorkers()) return null;
  const container = navigator.serviceWorker;
  try {
    const registration =
      (await container.getRegistration(WORKER_SCOPE)) ?? (await container.register(WORKER_SCRIPT_URL, { scope: WORKER_SCOPE }));
    const worker = await within(activated(registration), WORKER_ACTIVATE_TIMEOUT_MS);
    return worker === TIMED_OUT ? null : worker;
  } catch {
    // Registration refused (storage disabled, private mode, a broken sw.js): the memory path
    // still works for files that fit, and openDownload says so when one does not.
    return null;
  }
}

/** Resolves with the registration's worker once it is activated; rejects if it becomes redundant. */
function activated(registration: ServiceWorkerRegistration): Promise<ServiceWorker> {
  const worker = registration.active ?? registration.waiting ?? registration.installing;
  if (!worker) return Promise.reject(new Error("the registration has no worker"));
  if (worker.state === "activated") return Promise.resolve(worker);
  return new Promise((resolve, reject) => {
    const onChange = (): void => {
      if (worker.state === "activated") resolve(worker);
      else if (worker.state === "redundant") reject(new Error("the worker was replaced before it activated"));
      else return;
      worker.removeEventListener("statechange", onChange);
    };
    worker.addEventListener("statechange", onChange);
  });
}

/**
 * Announces the download to the worker, starts it once the worker is ready, and returns the sink
 * when the browser has begun fetching it. Null if the worker never answered (use another path).
 * The whole exchange waits its turn behind other downloads of this page (see startInTurn()).
 */
function openWorkerDownload(
  worker: ServiceWorker,
  name: string,
  mimeType: string,
  size: number | undefined,
): Promise<Result<DownloadSink, DownloadError> | null> {
  return startInTurn(async () => {
    const sink = new WorkerSink(worker, size);
    const open: WorkerGlobalMessage = { type: "download-open", id: sink.id, name, mimeType, ...(size === undefined ? {} : { size }) };
    worker.postMessage(open, [sink.remotePort]);
    const ready = await within(sink.ready.promise, WORKER_READY_TIMEOUT_MS);
    if (ready === TIMED_OUT) {
      await sink.abort("the service worker did not answer");
      return null;
    }
    if (!ready.ok) {
      await sink.abort(ready.error);
      return err(downloadError("failed", ready.error));
    }
    // Only now, when the worker holds the stream: keks-meet clicked after a 100 ms guess.
    navigateToDownload(ready.value);
    const started = await within(sink.started.promise, DOWNLOAD_START_TIMEOUT_MS);
    if (started === TIMED_OUT) {
      await sink.abort("the browser did not start the download");
      return err(downloadError("not-started"));
    }
    if (sink.signal.aborted) return err(downloadError("cancelled"));
    return ok(sink);
  });
}

/**
 * One streamed download through the worker.
 *   opening (until `ready`) → starting (navigated, until `started`) → open → closing (`end` sent) → closed
 *   any → ended (abort, cancelled by the browser, size mismatch)
 * `credit` is how many more bytes the worker agreed to take (see CREDIT_WINDOW_BYTES).
 */
class WorkerSink extends BaseSink {
  readonly kind = "service-worker" as const;
  readonly id = crypto.randomUUID();
  readonly ready = new Deferred<Result<string, string>>();
  readonly started = new Deferred<void>();
  private readonly port: MessagePort;
  /** Transferred to the worker with `download-open`. */
  readonly remotePort: MessagePort;
  private credit = 0;
  /** Resolved (and replaced) whenever credit arrives; rejected when the download ends. */
  private creditArrived = new Deferred<void>();
  private closedAck: Deferred<void> | undefined;
  private readonly keepAlive: ReturnType<typeof setInterval>;

  constructor(
    private readonly worker: ServiceWorker,
    size: number | undefined,
  ) {
    super(size);
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.remotePort = channel.port2;
    this.port.onmessage = (event: MessageEvent<unknown>) => this.handleMessage(parseDownloadMessage(event.data));
    this.keepAlive = setInterval(() => this.postToWorker({ type: "keep-alive", ids: [this.id] }), KEEP_ALIVE_INTERVAL_MS);
  }

  protected async accept(chunk: Uint8Array, handOver: boolean): Promise<void> {
    const total = chunk.byteLength; // before a transfer empties the chunk
    for (let offset = 0; offset < total; ) {
      const length = Math.min(MAX_CHUNK_MESSAGE_BYTES, total - offset);
      // Credit for the whole piece: one cut to a smaller credit could not be sent without a copy.
      // It always comes: the worker grants all it can once the browser has read what it holds.
      while (this.credit < length) await this.creditArrived.promise;
      this.throwIfEnded();
      // A chunk handed over whole goes as it is, transferred. Otherwise a copy of exactly this
      // range, transferred: posting a view would clone its whole buffer, and transferring the
      // caller's buffer would detach it under them.
      const whole = length === total ? ownedBuffer(chunk, handOver) : undefined;
      const bytes = whole ?? chunk.slice(offset, offset + length);
      this.postToPort({ type: "chunk", bytes }, [bytes.buffer]);
      this.credit -= length;
      offset += length;
    }
  }

  protected async finish(): Promise<void> {
    this.closedAck = new Deferred<void>();
    this.postToPort({ type: "end" });
    const acked = await within(this.closedAck.promise, CLOSE_ACK_TIMEOUT_MS);
    if (acked === TIMED_OUT) {
      const error = new DownloadSinkError(downloadError("failed", "the service worker stopped answering"));
      this.endedElsewhere(error);
      throw error;
    }
  }

  protected async discard(reason: string): Promise<void> {
    this.postToPort({ type: "abort", reason });
  }

  protected release(): void {
    clearInterval(this.keepAlive);
    this.port.onmessage = null;
    this.port.close();
    const error = this.ended instanceof DownloadSinkError ? this.ended : new DownloadSinkError(downloadError("aborted"));
    this.creditArrived.reject(error);
    this.ready.resolve(err(error.message));
    this.closedAck?.reject(error);
  }

  private handleMessage(message: DownloadMessage | null): void {
    switch (message?.type) {
      case "ready":
        this.ready.resolve(ok(message.path));
        return;
      case "refused":
        this.ready.resolve(err(message.reason));
        return;
      case "started":
        this.started.resolve();
        return;
      case "credit": {
        this.credit += message.bytes;
        const arrived = this.creditArrived;
        this.creditArrived = new Deferred<void>();
        arrived.resolve();
        return;
      }
      case "closed":
        this.closedAck?.resolve();
        return;
      case "cancelled":
        this.endedElsewhere(new DownloadSinkError(downloadError("cancelled")));
        // A cancel before the fetch arrived also settles openWorkerDownload's wait.
        this.started.resolve();
        return;
      default:
        return; // not a message the worker sends to pages (or from another release)
    }
  }

  private postToPort(message: PagePortMessage, transfer: Transferable[] = []): void {
    this.port.postMessage(message, transfer);
  }

  private postToWorker(message: WorkerGlobalMessage): void {
    this.worker.postMessage(message);
  }
}

// ---- 2. File System Access --------------------------------------------------------------------

/** The part of `showSaveFilePicker` we use; not in TypeScript's DOM types (Chromium only). */
type ShowSaveFilePicker = (options: { readonly suggestedName: string }) => Promise<FileSystemFileHandle>;

function isSavePicker(value: unknown): value is ShowSaveFilePicker {
  return typeof value === "function";
}

function savePicker(): ShowSaveFilePicker | null {
  const candidate: unknown = Reflect.get(window, "showSaveFilePicker");
  return isSavePicker(candidate) ? candidate.bind(window) : null;
}

async function openFileSystemDownload(
  picker: ShowSaveFilePicker,
  name: string,
  size: number | undefined,
): Promise<Result<DownloadSink, DownloadError>> {
  try {
    const handle = await picker({ suggestedName: name });
    return ok(new FileSystemSink(await handle.createWritable(), size));
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") return err(downloadError("cancelled"));
    return err(downloadError("failed", describe(error)));
  }
}

/**
 * Writes straight into the file the user picked. The writable stream writes to a temporary file
 * and moves it into place on close(), so an aborted download leaves the target untouched.
 */
class FileSystemSink extends BaseSink {
  readonly kind = "file-system" as const;

  constructor(
    private readonly writable: FileSystemWritableFileStream,
    size: number | undefined,
  ) {
    super(size);
  }

  protected async accept(chunk: Uint8Array, handOver: boolean): Promise<void> {
    try {
      // Not the caller's memory: the stream may hold the chunk after write() resolves.
      await this.writable.write(ownedBuffer(chunk, handOver) ?? chunk.slice());
    } catch (error) {
      const failure = new DownloadSinkError(downloadError("failed", describe(error)));
      this.endedElsewhere(failure);
      throw failure;
    }
  }

  protected async finish(): Promise<void> {
    await this.writable.close();
  }

  protected async discard(reason: string): Promise<void> {
    await this.writable.abort(reason);
  }

  protected release(): void {
    // The writable stream is closed or aborted by finish()/discard(); nothing else is held.
  }
}

// ---- 3. memory --------------------------------------------------------------------------------

function openMemoryDownload(name: string, mimeType: string, size: number | undefined): Result<DownloadSink, DownloadError> {
  if (size !== undefined && size > MAX_MEMORY_DOWNLOAD_BYTES) return err(downloadError("too-large-for-memory", mib(size)));
  return ok(new MemorySink(name, mimeType, size));
}

/** Collects the file in blob storage and saves it through an object URL when complete. */
class MemorySink extends BaseSink {
  readonly kind = "memory" as const;
  /** Finished parts: blob storage, which the browser may keep out of the JS heap (or on disk). */
  private parts: Blob[] = [];
  /** Recent copies not yet folded into a part. */
  private pending: Uint8Array<ArrayBuffer>[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly name: string,
    private readonly mimeType: string,
    size: number | undefined,
  ) {
    super(size);
  }

  protected async accept(chunk: Uint8Array, handOver: boolean): Promise<void> {
    // Checked as bytes arrive too: the size may be unknown, and the limit must hold regardless.
    if (this.written + chunk.byteLength > MAX_MEMORY_DOWNLOAD_BYTES) {
      const error = new DownloadSinkError(downloadError("too-large-for-memory", `more than ${mib(MAX_MEMORY_DOWNLOAD_BYTES)}`));
      this.endedElsewhere(error);
      throw error;
    }
    this.pending.push(ownedBuffer(chunk, handOver) ?? chunk.slice());
    this.pendingBytes += chunk.byteLength;
    if (this.pendingBytes >= MEMORY_BLOB_PART_BYTES) this.fold();
  }

  protected async finish(): Promise<void> {
    this.fold();
    // The sender's type (sanitized), not keks-meet's text/plain: the OS picks the right app.
    const url = URL.createObjectURL(new Blob(this.parts, { type: this.mimeType }));
    clickDownloadLink(url, this.name);
    // The download starts asynchronously from the URL; revoking at once could cancel it. This
    // timer is the last owner of the URL, so it is deliberately not tied to the sink's lifetime.
    setTimeout(() => URL.revokeObjectURL(url), OBJECT_URL_LIFETIME_MS);
  }

  protected async discard(): Promise<void> {
    // Nothing was shown to the user yet; dropping the parts is the whole abort.
  }

  protected release(): void {
    this.parts = [];
    this.pending = [];
    this.pendingBytes = 0;
  }

  private fold(): void {
    if (this.pending.length === 0) return;
    this.parts.push(new Blob(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }
}
