// Structured logging: one JSON object per line, an event name plus flat fields.
// Never logged: message contents, close reasons sent by clients, raw room hashes and raw client
// addresses (hashes and addresses go through a Tagger first).

import { createHmac, randomBytes } from "node:crypto";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogValue = string | number | boolean | null;
export type LogFields = Readonly<Record<string, LogValue>>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export interface LogEntry {
  readonly level: LogLevel;
  readonly event: string;
  readonly fields: LogFields;
}

function byLevel(write: (level: LogLevel, event: string, fields: LogFields) => void): Logger {
  return {
    debug: (event, fields = {}) => write("debug", event, fields),
    info: (event, fields = {}) => write("info", event, fields),
    warn: (event, fields = {}) => write("warn", event, fields),
    error: (event, fields = {}) => write("error", event, fields),
  };
}

/** JSON lines through `write` (main passes stdout); debug lines only when asked for. */
export function createJsonLogger(
  write: (line: string) => void,
  options: { readonly debug?: boolean; readonly now?: () => Date } = {},
): Logger {
  const now = options.now ?? (() => new Date());
  return byLevel((level, event, fields) => {
    if (level === "debug" && options.debug !== true) return;
    write(`${JSON.stringify({ time: now().toISOString(), level, event, ...fields })}\n`);
  });
}

export const silentLogger: Logger = byLevel(() => {});

/** Keeps entries in memory, for tests that assert what was (and was not) logged. */
export function createCapturingLogger(): Logger & { readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return { entries, ...byLevel((level, event, fields) => entries.push({ level, event, fields })) };
}

/** Maps a sensitive value (room hash, client address) to a short tag for logs. */
export type Tagger = (value: string) => string;

/** Tags kept by a Tagger: a few hundred KiB at most, whatever the load. */
const TAG_CACHE_SIZE = 1024;

/**
 * HMAC-SHA-256 under a random key that lives only in this process, cut to 48 bits. Lines about
 * the same room or address share a tag, so logs still correlate; but logs alone cannot be used
 * to test guesses offline (a plain hash of the room hash would be such an oracle for rooms named
 * by people), and tags change with every restart.
 */
export function createTagger(key: Buffer = randomBytes(32), cacheSize = TAG_CACHE_SIZE): Tagger {
  // The last tags computed are kept: the relay tags the address on every connect and the room
  // on every join and leave, mostly the same few values. Each HMAC holds native memory until
  // the GC finds its wrapper, and 20 000 of them in a join storm left megabytes of malloc heap
  // behind (the relay's memory goal is within 10 % of a bare ws forwarder's per idle socket).
  const recent = new Map<string, string>();
  return (value) => {
    let tag = recent.get(value);
    if (tag === undefined) {
      tag = createHmac("sha256", key).update(value).digest("hex").slice(0, 12);
      // The oldest entry goes first (a Map keeps insertion order).
      if (recent.size >= cacheSize) recent.delete(recent.keys().next().value as string);
      recent.set(value, tag);
    }
    return tag;
  };
}
