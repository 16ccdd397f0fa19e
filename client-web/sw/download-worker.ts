/// <reference lib="webworker" />
// The service worker (built to /sw.js, scope /). Its only job is streaming downloads: a page
// announces a download and feeds it over a MessagePort; the browser's fetch of
// /download/<id>/<name> is answered with a Response whose body is that feed, so the file goes to
// disk as the bytes arrive and neither the page nor the worker ever holds more than
// CREDIT_WINDOW_BYTES of it. Every other request is left alone (no respondWith: the network
// answers as if there were no worker), so the app never depends on this worker for anything else.
//
// keks-meet's worker called respondWith twice for downloads and after an await
// for everything else, and the page clicked the link 100 ms after announcing it. Here respondWith
// runs once, synchronously, inside the fetch event, and the page navigates only after `ready`.
// The page need not be controlled by this worker: a navigation goes to the worker whose scope
// covers its URL (checked after a hard reload, which leaves the page uncontrolled).

import {
  CREDIT_WINDOW_BYTES,
  MIN_CREDIT_GRANT_BYTES,
  PAGE_SILENCE_LIMIT_MS,
  contentDisposition,
  downloadIdOf,
  downloadPath,
  DOWNLOAD_PATH_PREFIX,
  parseDownloadMessage,
  safeDownloadName,
  safeMimeType,
  type DownloadMessage,
  type WorkerGlobalMessage,
  type WorkerPortMessage,
} from "./download-protocol.js";

// In this module `self` is the worker's global scope; the project-wide DOM lib types it as Window.
declare const self: ServiceWorkerGlobalScope;

/** The downloaded document must never run anything, even if a browser showed it inline. */
const RESPONSE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": "default-src 'none'",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
};

/**
 * One download, from `download-open` until the browser has it all (or it failed). Two things
 * progress independently, because the page may feed (up to the credit) before the fetch arrives:
 *   feed:  open → done (`end`: the stream is closed, queued bytes still flow out)
 *   fetch: waiting → fetched (the first fetch of the URL got the stream)
 * It is forgotten once fetched and done, or when it fails (abort, cancel, protocol error, page gone).
 */
class Download {
  private fetched = false;
  private feedDone = false;
  private failed = false;
  /** When the page last said it is alive (keep-alive or any port message). */
  lastSeen = Date.now();
  private readonly stream: ReadableStream<Uint8Array>;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private readonly headers: Headers;
  /** Credit granted to the page and not yet used by a chunk. */
  private outstanding = 0;
  private received = 0;

  constructor(
    readonly id: string,
    private readonly port: MessagePort,
    private readonly size: number | undefined,
    name: string,
    mimeType: string,
    private readonly onFinished: (download: Download) => void,
  ) {
    this.headers = new Headers({
      ...RESPONSE_SECURITY_HEADERS,
      "Content-Type": safeMimeType(mimeType),
      "Content-Disposition": contentDisposition(safeDownloadName(name)),
    });
    // With the length the browser shows progress, and a body that ends short fails the download
    // instead of leaving a truncated file that looks complete.
    if (size !== undefined) this.headers.set("Content-Length", String(size));
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.grantCredit(),
        cancel: () => {
          // The user cancelled in the browser's download UI, or the browser could not write.
          this.fail(null);
        },
      },
      // The queue holds what the browser has not read yet; its high-water mark is the window.
      { highWaterMark: CREDIT_WINDOW_BYTES, size: (chunk) => chunk.byteLength },
    );
    port.onmessage = (event: MessageEvent<unknown>) => this.handlePortMessage(parseDownloadMessage(event.data));
  }

  /** Whether the next fetch of this id gets the stream (a body can be read only once). */
  get servable(): boolean {
    return !this.fetched && !this.failed;
  }

  /** The response that streams the file; call once, for the first fetch (see `servable`). */
  respond(): Response {
    this.fetched = true;
    this.post({ type: "started" });
    if (this.feedDone) this.onFinished(this);
    return new Response(this.stream, { status: 200, headers: this.headers });
  }

  /**
   * Ends the download as failed: the stream errors (the browser marks the download failed, never
   * complete; null when the browser itself cancelled it) and the page hears `cancelled`.
   */
  fail(reason: string | null): void {
    if (this.failed || (this.feedDone && this.fetched)) return;
    this.failed = true;
    if (reason !== null) this.controller?.error(new TypeError(reason));
    // The page closes the port when it reads this (if it is still there to read it).
    this.post({ type: "cancelled" });
    this.port.onmessage = null;
    this.onFinished(this);
  }

  /**
   * Runs whenever the stream wants more (after start, after each chunk is queued and each read):
   * grants the page whatever the window has free beyond what is queued or already promised, but
   * never past the announced size, and in steps of MIN_CREDIT_GRANT_BYTES to keep messages few.
   */
  private grantCredit(): void {
    if (this.failed || this.feedDone || !this.controller) return;
    const free = (this.controller.desiredSize ?? 0) - this.outstanding;
    const remaining = this.size === undefined ? Number.POSITIVE_INFINITY : this.size - this.received - this.outstanding;
    const bytes = Math.min(free, remaining);
    if (bytes <= 0) return;
    if (bytes < MIN_CREDIT_GRANT_BYTES && bytes !== remaining) return;
    this.outstanding += bytes;
    this.post({ type: "credit", bytes });
  }

  private handlePortMessage(message: DownloadMessage | null): void {
    if (this.failed || this.feedDone || !this.controller) return;
    this.lastSeen = Date.now();
    switch (message?.type) {
      case "chunk": {
        const length = message.bytes.byteLength;
        // The page is our own code; these checks keep the memory bound true even if it has a bug.
        if (length > this.outstanding) return this.fail("the page sent more than its credit");
        if (this.size !== undefined && this.received + length > this.size) return this.fail("more bytes than announced");
        this.outstanding -= length;
        this.received += length;
        if (length > 0) this.controller.enqueue(message.bytes);
        return;
      }
      case "end":
        if (this.size !== undefined && this.received !== this.size) return this.fail("fewer bytes than announced");
        this.feedDone = true;
        this.controller.close();
        // The page closes the port when it reads this; closing here could drop the message.
        this.post({ type: "closed" });
        this.port.onmessage = null;
        if (this.fetched) this.onFinished(this);
        return;
      case "abort":
        this.fail(message.reason);
        return;
      default:
        // Unknown or malformed (a page from another release): not worth failing a download over.
        return;
    }
  }

  private post(message: WorkerPortMessage): void {
    this.port.postMessage(message);
  }
}

const downloads = new Map<string, Download>();
let watchdog: ReturnType<typeof setInterval> | undefined;

/**
 * Fails downloads whose page stopped saying it is alive (tab closed, crashed): otherwise the
 * browser would show them as in progress forever. Runs only while there are downloads.
 */
function checkPagesAlive(): void {
  const now = Date.now();
  for (const download of downloads.values()) {
    if (now - download.lastSeen > PAGE_SILENCE_LIMIT_MS) download.fail("the page that fed this download went away");
  }
}

function forget(download: Download): void {
  if (downloads.get(download.id) === download) downloads.delete(download.id);
  if (downloads.size === 0 && watchdog !== undefined) {
    clearInterval(watchdog);
    watchdog = undefined;
  }
}

function openDownload(message: Extract<WorkerGlobalMessage, { type: "download-open" }>, port: MessagePort): void {
  if (downloads.has(message.id)) {
    port.postMessage({ type: "refused", reason: "a download with this id is already open" } satisfies WorkerPortMessage);
    return;
  }
  const download = new Download(message.id, port, message.size, message.name, message.mimeType, forget);
  downloads.set(message.id, download);
  watchdog ??= setInterval(checkPagesAlive, PAGE_SILENCE_LIMIT_MS / 4);
  port.postMessage({ type: "ready", path: downloadPath(message.id, safeDownloadName(message.name)) } satisfies WorkerPortMessage);
}

/**
 * For an id we do not hold (never opened, already fetched, failed, or lost when the browser
 * restarted this worker). A navigation gets 204 instead of 404: downloads start by navigating the
 * meeting page itself, and a 204 leaves that page where it is, while a 404 would replace the
 * meeting with an error page. The page's openDownload() then reports `not-started`.
 */
function unknownDownload(request: Request): Response {
  if (request.mode === "navigate") return new Response(null, { status: 204, headers: RESPONSE_SECURITY_HEADERS });
  return new Response("no such download\n", {
    status: 404,
    headers: { ...RESPONSE_SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8" },
  });
}

self.addEventListener("install", (event) => {
  // A new worker has no state worth waiting for; take over at once.
  event.waitUntil(self.skipWaiting());
});

self.addEventListener("activate", (event) => {
  // Control pages that loaded before the worker existed (the first visit), so they need no reload.
  event.waitUntil(self.clients.claim());
});

self.addEventListener("message", (event) => {
  const message = parseDownloadMessage(event.data);
  switch (message?.type) {
    case "download-open": {
      const port = event.ports[0];
      if (port) openDownload(message, port);
      return;
    }
    case "keep-alive":
      for (const id of message.ids) {
        const download = downloads.get(id);
        if (download) download.lastSeen = Date.now();
      }
      return;
    default:
      return; // not for us (or from an incompatible release)
  }
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(DOWNLOAD_PATH_PREFIX)) return; // the network's
  if (event.request.method !== "GET") return;
  const id = downloadIdOf(url.pathname);
  const download = id === null ? undefined : downloads.get(id);
  // Synchronously, exactly once: the stream exists already, nothing needs awaiting. A second fetch
  // of the same id is an unknown download: a body can be read only once.
  event.respondWith(download?.servable ? download.respond() : unknownDownload(event.request));
});
