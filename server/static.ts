// Static files from one root directory: MIME type by extension, ETag/304, HEAD, precompressed
// copies (`x.js.br`, `x.js.gz`, written by the build) for clients that accept them, and paths that
// cannot leave the root (no dot segments, no encoded slashes, no hidden files, no symlinks out).
// Which URL maps to which file, and caching policy, is the router's business (http.ts).

import type { Stats } from "node:fs";
import { realpath, open, type FileHandle } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import Negotiator from "negotiator";

export const MIME_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".wasm": "application/wasm",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".txt": "text/plain; charset=utf-8",
};

const FALLBACK_TYPE = "application/octet-stream";

/**
 * The precompressed copies the build may write next to a file, in the order we prefer them:
 * brotli is about 15 % smaller than gzip on our scripts. Compressing ahead of time, at the
 * highest levels, costs the relay no CPU per request (on-the-fly brotli-11 would be too slow).
 */
const PRECOMPRESSED = [
  { encoding: "br", suffix: ".br" },
  { encoding: "gzip", suffix: ".gz" },
] as const;

export function mimeTypeOf(file: string): string {
  return MIME_TYPES[path.extname(file).toLowerCase()] ?? FALLBACK_TYPE;
}

/**
 * Percent-decoded path segments, or null if any segment could point elsewhere: empty, `.`,
 * `..`, hidden (leading dot), or holding a slash, backslash or NUL once decoded.
 */
export function safeSegments(encoded: readonly string[]): string[] | null {
  const segments: string[] = [];
  for (const part of encoded) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      // Malformed percent-encoding names no file.
      return null;
    }
    if (segment === "" || segment.startsWith(".") || /[/\\\0]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || tag === etag || tag === `W/${etag}`;
  });
}

interface Precompressed {
  readonly file: FileHandle;
  readonly stat: Stats;
  readonly encoding: string;
}

export class StaticFiles {
  private realRoot: Promise<string> | undefined;

  constructor(private readonly root: string) {}

  /**
   * Serves `segments` (already safe, see safeSegments) under the root. Resolves false, having
   * written nothing, when there is no such regular file inside the root.
   */
  async serve(req: IncomingMessage, res: ServerResponse, segments: readonly string[], cacheControl: string): Promise<boolean> {
    const original = await this.open(segments);
    if (!original) return false;
    let variant: Precompressed | null = null;
    try {
      const originalStat = await original.stat();
      if (!originalStat.isFile()) return false;
      variant = await this.precompressed(req, segments);
      const file = variant?.file ?? original;
      const stat = variant?.stat ?? originalStat;
      const encoding = variant?.encoding;
      // Each encoding is its own representation: its own validator, and caches must key on the header.
      const etag = `"${stat.size.toString(16)}-${Math.trunc(stat.mtimeMs).toString(16)}${encoding ? `-${encoding}` : ""}"`;
      res.setHeader("ETag", etag);
      res.setHeader("Cache-Control", cacheControl);
      res.setHeader("Vary", "Accept-Encoding");
      if (matchesEtag(req.headers["if-none-match"], etag)) {
        res.writeHead(304).end();
        return true;
      }
      res.writeHead(200, {
        "Content-Type": mimeTypeOf(segments.at(-1) ?? ""),
        "Content-Length": stat.size,
        ...(encoding ? { "Content-Encoding": encoding } : {}),
      });
      if (req.method === "HEAD") {
        res.end();
        return true;
      }
      await pipeline(file.createReadStream({ autoClose: false }), res);
      return true;
    } finally {
      await original.close();
      await variant?.file.close();
    }
  }

  /** The best precompressed copy the client accepts (q=0 excludes one), if the build wrote it. */
  private async precompressed(req: IncomingMessage, segments: readonly string[]): Promise<Precompressed | null> {
    const last = segments.at(-1);
    if (last === undefined || req.headers["accept-encoding"] === undefined) return null;
    const negotiator = new Negotiator(req);
    for (const { encoding, suffix } of PRECOMPRESSED) {
      if (negotiator.encodings([encoding]).length === 0) continue;
      const file = await this.open([...segments.slice(0, -1), last + suffix]);
      if (!file) continue;
      const stat = await file.stat();
      if (stat.isFile()) return { file, stat, encoding };
      await file.close();
    }
    return null;
  }

  /** Opens the file if its real path (symlinks resolved) lies inside the real root. */
  private async open(segments: readonly string[]): Promise<FileHandle | null> {
    this.realRoot ??= realpath(this.root);
    let realRoot: string;
    let real: string;
    try {
      realRoot = await this.realRoot;
      real = await realpath(path.join(realRoot, ...segments));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    if (!real.startsWith(realRoot + path.sep)) return null;
    try {
      return await open(real, "r");
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }
}

function isMissing(error: unknown): boolean {
  if (!(error instanceof Error) || !("code" in error)) return false;
  return error.code === "ENOENT" || error.code === "ENOTDIR" || error.code === "EISDIR" || error.code === "ENAMETOOLONG";
}
