// The messages between the page (client-web/files/download-sink.ts) and the download service
// worker (download-worker.ts), as one typed union, plus the pure helpers both sides need to agree
// on: the download URL, the file name and MIME type the response may carry, and flow-control sizes.
// No DOM, no worker globals: both bundles import this file.
//
// Flow (one download):
//   page → worker (postMessage to the ServiceWorker, transferring a MessagePort): download-open
//   worker → page (port): ready {path}  | refused {reason}
//   page navigates itself to path; the worker answers that fetch with a streamed attachment
//   worker → page (port): started, then credit {bytes} whenever the stream wants more
//   page → worker (port): chunk {bytes} (never more than the credit it holds), end | abort {reason}
//   worker → page (port): closed (after end) | cancelled (the user or browser stopped the download)
//   page → worker (postMessage, every KEEP_ALIVE_INTERVAL_MS while a download is open): keep-alive

/** Where downloads live; nothing else under it is served by the relay. */
export const DOWNLOAD_PATH_PREFIX = "/download/";

/**
 * The most bytes the page may have sent that the browser has not yet taken from the stream. The
 * worker's stream queue plus the messages in flight never exceed this, so memory stays flat
 * whatever the file size; 4 MiB is ~0.1–0.4 s of data-channel throughput, enough to ride out a
 * slow disk write without stalling the sender.
 */
export const CREDIT_WINDOW_BYTES = 4 * 1024 * 1024;
/** The worker grants credit in steps of at least this much, so one chunk read ≠ one message. */
export const MIN_CREDIT_GRANT_BYTES = 256 * 1024;
/** Largest chunk message; bigger writes are split so a single write cannot exceed the window. */
export const MAX_CHUNK_MESSAGE_BYTES = 256 * 1024;
/**
 * How often an open download tells the worker its page is alive. A message to the worker's
 * global scope (not to a MessagePort) is what extends a service worker's lifetime; Firefox stops
 * an idle worker after 30 s even while it streams a response (StreamSaver.js #366).
 */
export const KEEP_ALIVE_INTERVAL_MS = 10_000;
/** A download whose page has not said it is alive for this long is failed by the worker. */
export const PAGE_SILENCE_LIMIT_MS = 4 * KEEP_ALIVE_INTERVAL_MS;

/** Every message either side sends. `download-open` and `keep-alive` go to the worker's global scope; the rest travel over the download's port. */
export type DownloadMessage =
  // page → worker (global scope)
  | { readonly type: "download-open"; readonly id: string; readonly name: string; readonly size?: number; readonly mimeType: string }
  | { readonly type: "keep-alive"; readonly ids: readonly string[] }
  // page → worker (port)
  | { readonly type: "chunk"; readonly bytes: Uint8Array }
  | { readonly type: "end" }
  | { readonly type: "abort"; readonly reason: string }
  // worker → page (port)
  | { readonly type: "ready"; readonly path: string }
  | { readonly type: "refused"; readonly reason: string }
  | { readonly type: "started" }
  | { readonly type: "credit"; readonly bytes: number }
  /** After `end`: every byte is in the response stream. The page may close the port now. */
  | { readonly type: "closed" }
  /**
   * The download ended without the page asking: the user cancelled it in the browser, the browser
   * could not write it, or the worker refused a chunk (a page bug). The page may close the port.
   */
  | { readonly type: "cancelled" };

/** Messages the worker's global scope accepts. */
export type WorkerGlobalMessage = Extract<DownloadMessage, { type: "download-open" | "keep-alive" }>;
/** Messages the worker accepts on a download's port. */
export type PagePortMessage = Extract<DownloadMessage, { type: "chunk" | "end" | "abort" }>;
/** Messages the page accepts on a download's port. */
export type WorkerPortMessage = Extract<DownloadMessage, { type: "ready" | "refused" | "started" | "credit" | "closed" | "cancelled" }>;

const ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;
const MAX_NAME_LENGTH = 1024;
const MAX_REASON_LENGTH = 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isByteCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function boundedString(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length <= max;
}

/**
 * Checks a structured-clone payload against the union. Both ends are our own code, but the page
 * may run an older bundle than the worker (or the reverse) during an update, so shapes are
 * verified rather than assumed; anything else is null and gets dropped.
 */
export function parseDownloadMessage(data: unknown): DownloadMessage | null {
  if (!isRecord(data) || typeof data["type"] !== "string") return null;
  switch (data["type"]) {
    case "download-open": {
      const { id, name, size, mimeType } = data;
      if (typeof id !== "string" || !ID_PATTERN.test(id)) return null;
      if (!boundedString(name, MAX_NAME_LENGTH) || !boundedString(mimeType, MAX_NAME_LENGTH)) return null;
      if (size !== undefined && !isByteCount(size)) return null;
      return size === undefined ? { type: "download-open", id, name, mimeType } : { type: "download-open", id, name, size, mimeType };
    }
    case "keep-alive": {
      const { ids } = data;
      if (!Array.isArray(ids) || ids.length > 1024) return null;
      const valid: string[] = [];
      for (const id of ids) if (typeof id === "string" && ID_PATTERN.test(id)) valid.push(id);
      return { type: "keep-alive", ids: valid };
    }
    case "chunk":
      return data["bytes"] instanceof Uint8Array ? { type: "chunk", bytes: data["bytes"] } : null;
    case "abort":
    case "refused": {
      const reason = data["reason"];
      return boundedString(reason, MAX_REASON_LENGTH) ? { type: data["type"], reason } : null;
    }
    case "ready":
      return typeof data["path"] === "string" && data["path"].startsWith(DOWNLOAD_PATH_PREFIX) ? { type: "ready", path: data["path"] } : null;
    case "credit":
      return isByteCount(data["bytes"]) ? { type: "credit", bytes: data["bytes"] } : null;
    case "end":
    case "started":
    case "closed":
    case "cancelled":
      return { type: data["type"] };
    default:
      return null;
  }
}

// ---- names, types, headers -------------------------------------------------------------------

const MAX_FILE_NAME_CODE_POINTS = 200;
const FALLBACK_FILE_NAME = "download";
/** Names Windows will not create in any directory, whatever the extension. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * A file name safe to suggest to the browser and the OS: no path separators or characters
 * Windows forbids, no control or bidirectional-override characters (they can disguise
 * "invoice‮fdp.exe" as "invoice.pdf…"), no leading or trailing dots or spaces (hidden files,
 * names Windows trims), at most 200 code points, never empty. The sender chose the name, so it
 * is untrusted; browsers sanitize too, but not all the same way.
 */
export function safeDownloadName(name: string): string {
  const cleaned = name
    .normalize("NFC")
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, "")
    .replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "")
    .replace(/[/\\:*?"<>|]/g, "_")
    .replace(/^[\s.]+|[\s.]+$/g, "");
  const truncated = Array.from(cleaned).slice(0, MAX_FILE_NAME_CODE_POINTS).join("").replace(/[\s.]+$/, "");
  if (truncated === "") return FALLBACK_FILE_NAME;
  return WINDOWS_RESERVED.test(truncated) ? `_${truncated}` : truncated;
}

const MIME_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
/**
 * Types a browser might render or run if the response were ever shown inline instead of saved
 * (it is `attachment` with a `default-src 'none'` CSP, so this is defence in depth).
 */
const ACTIVE_TYPE = /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|text\/javascript|application\/javascript|application\/ecmascript|text\/ecmascript)$|\+xml$/;
export const FALLBACK_MIME_TYPE = "application/octet-stream";

/** The sender's MIME type if it is a plain, inert `type/subtype` (parameters dropped); else application/octet-stream. */
export function safeMimeType(mimeType: string): string {
  const bare = mimeType.split(";", 1)[0]?.trim().toLowerCase() ?? "";
  return MIME_PATTERN.test(bare) && !ACTIVE_TYPE.test(bare) ? bare : FALLBACK_MIME_TYPE;
}

/** RFC 8187 attr-char is stricter than encodeURIComponent: it also excludes ' ( ) *. */
function encodeRfc8187(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `attachment` with an ASCII `filename` fallback and the exact name as `filename*` (RFC 6266 §4.3:
 * senders should send both, fallback first). Expects a name from safeDownloadName().
 */
export function contentDisposition(safeName: string): string {
  const ascii = safeName.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeRfc8187(safeName)}`;
}

/** `/download/<id>/<name>`: the name only makes the URL readable; the worker goes by the id. */
export function downloadPath(id: string, safeName: string): string {
  return `${DOWNLOAD_PATH_PREFIX}${id}/${encodeURIComponent(safeName)}`;
}

/** The id a `/download/<id>/…` path names, or null for any other path. */
export function downloadIdOf(pathname: string): string | null {
  if (!pathname.startsWith(DOWNLOAD_PATH_PREFIX)) return null;
  const id = pathname.slice(DOWNLOAD_PATH_PREFIX.length).split("/", 1)[0] ?? "";
  return ID_PATTERN.test(id) ? id : null;
}
