// The relay's HTTP surface over real sockets: pages and assets with their types and caching,
// security headers everywhere, the generated routes, upgrades, and hostile requests.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { contentSecurityPolicy } from "../../server/http.js";
import { cleanup, httpRequest, rawExchange, startRelay, TestClient, type HttpResult, type RunningRelay } from "./helpers.js";

let base: string;
let root: string;

beforeAll(() => {
  base = mkdtempSync(path.join(tmpdir(), "meshmeet-http-"));
  root = path.join(base, "public");
  mkdirSync(path.join(root, "assets", "icons"), { recursive: true });
  writeFileSync(path.join(base, "secret.txt"), "TOP SECRET");
  writeFileSync(path.join(root, "index.html"), "<!doctype html><title>start</title>");
  writeFileSync(path.join(root, "room.html"), "<!doctype html><title>room</title>");
  writeFileSync(path.join(root, "favicon.ico"), Buffer.from([0, 0, 1, 0]));
  writeFileSync(path.join(root, "sw.js"), "self.x = 1;");
  writeFileSync(path.join(root, ".env"), "HIDDEN");
  const assets: Record<string, string> = {
    "app.js": "export {};",
    "mod.mjs": "export {};",
    "style.css": "body{}",
    "icons/leave.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
    "pic.png": "png",
    "noise.wasm": "wasm",
    "data.json": "{}",
    "app.webmanifest": "{}",
    "font.woff2": "woff2",
    "notes.txt": "notes",
    "app.js.map": "{}",
    "blob.bin": "bin",
  };
  for (const [name, content] of Object.entries(assets)) writeFileSync(path.join(root, "assets", name), content);
  symlinkSync(path.join(base, "secret.txt"), path.join(root, "assets", "escape.txt"));
  // A build output with its precompressed copies, and one whose copies are not regular files.
  writeFileSync(path.join(root, "assets", "bundle.js"), BUNDLE);
  writeFileSync(path.join(root, "assets", "bundle.js.br"), brotliCompressSync(BUNDLE));
  writeFileSync(path.join(root, "assets", "bundle.js.gz"), gzipSync(BUNDLE));
  writeFileSync(path.join(root, "assets", "plain.js"), BUNDLE);
  mkdirSync(path.join(root, "assets", "plain.js.br"));
  symlinkSync(path.join(base, "secret.txt"), path.join(root, "assets", "plain.js.gz"));
});

const BUNDLE = `export const words = ${JSON.stringify("meshmeet ".repeat(500))};\n`;

afterAll(() => rmSync(base, { recursive: true, force: true }));
afterEach(cleanup);

async function relayWithFiles(overrides: Parameters<typeof startRelay>[0] = {}): Promise<RunningRelay> {
  return startRelay(overrides, { staticRoot: root });
}

function expectSecurityHeaders(result: HttpResult): void {
  expect(result.headers["content-security-policy"]).toBe(contentSecurityPolicy({ servers: ["*"] }));
  expect(result.headers["x-content-type-options"]).toBe("nosniff");
  expect(result.headers["referrer-policy"]).toBe("no-referrer");
  expect(result.headers["permissions-policy"]).toBe("camera=(self), microphone=(self), display-capture=(self)");
  expect(result.headers["cross-origin-opener-policy"]).toBe("same-origin");
  expect(result.headers["x-frame-options"]).toBe("DENY");
}

describe("static files", () => {
  it.each([
    ["/", "text/html; charset=utf-8", "no-cache"],
    ["/room", "text/html; charset=utf-8", "no-cache"],
    ["/favicon.ico", "image/x-icon", "public, max-age=300"],
    ["/sw.js", "text/javascript; charset=utf-8", "no-cache"],
    ["/assets/app.js", "text/javascript; charset=utf-8", "public, max-age=300"],
    ["/assets/mod.mjs", "text/javascript; charset=utf-8", "public, max-age=300"],
    ["/assets/style.css", "text/css; charset=utf-8", "public, max-age=300"],
    ["/assets/icons/leave.svg", "image/svg+xml", "public, max-age=300"],
    ["/assets/pic.png", "image/png", "public, max-age=300"],
    ["/assets/noise.wasm", "application/wasm", "public, max-age=300"],
    ["/assets/data.json", "application/json; charset=utf-8", "no-cache"],
    ["/assets/app.webmanifest", "application/manifest+json; charset=utf-8", "no-cache"],
    ["/assets/font.woff2", "font/woff2", "public, max-age=300"],
    ["/assets/notes.txt", "text/plain; charset=utf-8", "public, max-age=300"],
    ["/assets/app.js.map", "application/json; charset=utf-8", "no-cache"],
    ["/assets/blob.bin", "application/octet-stream", "public, max-age=300"],
  ])("serves %s as %s (%s)", async (url, type, cache) => {
    const { port } = await relayWithFiles();
    const result = await httpRequest(port, url);
    expect(result.status).toBe(200);
    expect(result.headers["content-type"]).toBe(type);
    expect(result.headers["cache-control"]).toBe(cache);
    expect(result.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expectSecurityHeaders(result);
  });

  it("answers a matching If-None-Match with 304, and HEAD with headers only", async () => {
    const { port } = await relayWithFiles();
    const first = await httpRequest(port, "/assets/app.js");
    const etag = String(first.headers.etag);
    const cached = await httpRequest(port, "/assets/app.js", { headers: { "If-None-Match": `"other", ${etag}` } });
    expect(cached.status).toBe(304);
    expect(cached.body.length).toBe(0);
    expectSecurityHeaders(cached);
    const head = await httpRequest(port, "/room", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String("<!doctype html><title>room</title>".length));
    expect(head.body.length).toBe(0);
  });

  it.each([
    ["gzip, deflate, br, zstd", "br"],
    ["gzip, deflate", "gzip"],
    ["br;q=0, gzip", "gzip"],
    ["GZIP;q=0.5", "gzip"],
    ["identity", undefined],
    ["br;q=0, gzip;q=0", undefined],
  ])("with Accept-Encoding %j serves the build's %s copy, the same bytes once decoded", async (accept, encoding) => {
    const { port } = await relayWithFiles();
    const result = await httpRequest(port, "/assets/bundle.js", { headers: { "Accept-Encoding": accept } });
    expect(result.status).toBe(200);
    expect(result.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(result.headers["content-encoding"]).toBe(encoding);
    expect(result.headers.vary).toBe("Accept-Encoding");
    expect(Number(result.headers["content-length"])).toBe(result.body.length);
    const decoded = encoding === "br" ? brotliDecompressSync(result.body) : encoding === "gzip" ? gunzipSync(result.body) : result.body;
    expect(decoded.toString()).toBe(BUNDLE);
    if (encoding) expect(result.body.length).toBeLessThan(BUNDLE.length / 10);
    expectSecurityHeaders(result);
  });

  it("gives each encoding its own ETag, so a cached copy is revalidated only by the same encoding", async () => {
    const { port } = await relayWithFiles();
    const br = await httpRequest(port, "/assets/bundle.js", { headers: { "Accept-Encoding": "br" } });
    const plain = await httpRequest(port, "/assets/bundle.js");
    expect(br.headers.etag).not.toBe(plain.headers.etag);
    const again = await httpRequest(port, "/assets/bundle.js", { headers: { "Accept-Encoding": "br", "If-None-Match": String(br.headers.etag) } });
    expect(again.status).toBe(304);
    const other = await httpRequest(port, "/assets/bundle.js", { headers: { "Accept-Encoding": "gzip", "If-None-Match": String(br.headers.etag) } });
    expect(other.status).toBe(200);
    expect(other.headers["content-encoding"]).toBe("gzip");
  });

  it("ignores a compressed copy that is a directory or a link out of the root", async () => {
    const { port } = await relayWithFiles();
    const result = await httpRequest(port, "/assets/plain.js", { headers: { "Accept-Encoding": "br, gzip" } });
    expect(result.status).toBe(200);
    expect(result.headers["content-encoding"]).toBeUndefined();
    expect(result.body.toString()).toBe(BUNDLE);
  });

  it.each([
    "/assets/../../etc/passwd",
    "/assets/../../secret.txt",
    "/assets/%2e%2e/%2e%2e/secret.txt",
    "/assets/..%2f..%2fsecret.txt",
    "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/assets/..%5c..%5csecret.txt",
    "/assets/%252e%252e/secret.txt",
    "/assets/escape.txt",
    "/assets/icons",
    "/assets/",
    "/assets/app.js%00.txt",
    "/assets/%E0%A4%A",
    "/.env",
    "/index.html",
    "/room.html",
    "/style.css",
    "/../secret.txt",
    "//etc/passwd",
  ])("gives 404 for %s", async (url) => {
    const { port } = await relayWithFiles();
    const result = await httpRequest(port, url);
    expect(result.status).toBe(404);
    expect(result.body.toString()).toBe("not found\n");
    expect(result.body.toString()).not.toContain("SECRET");
    expectSecurityHeaders(result);
  });

  it("gives 404 for pages missing from the static root", async () => {
    const { port } = await startRelay();
    expect((await httpRequest(port, "/")).status).toBe(404);
    expect((await httpRequest(port, "/assets/app.js")).status).toBe(404);
  });

  it("gives 405 for other methods", async () => {
    const { port } = await relayWithFiles();
    const result = await httpRequest(port, "/", { method: "POST" });
    expect(result.status).toBe(405);
    expect(result.headers.allow).toBe("GET, HEAD");
    expectSecurityHeaders(result);
  });
});

describe("generated routes", () => {
  it("serves /config.json with ICE servers and colours, and nothing about the relay's address", async () => {
    const { port, relay } = await relayWithFiles({
      webrtc: 'stun = ["stun:stun.example.org:3478"]\nturn = ["turn:turn.example.org:3478"]\nturn_user = "u"\nturn_cred = "c"',
      appearance: 'accent = "#123456"',
    });
    const result = await httpRequest(port, "/config.json", { headers: { Host: "meet.example.org:8443" } });
    expect(result.status).toBe(200);
    expect(result.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(result.headers["cache-control"]).toBe("no-cache");
    expectSecurityHeaders(result);
    const json: unknown = JSON.parse(result.body.toString());
    expect(json).toEqual({
      webrtc: {
        // The relay's own STUN server, at the host the page was loaded from, on its real port.
        stun: `stun:meet.example.org:${relay.stunAddress()?.port}`,
        turn: "turn:turn.example.org:3478",
        turn_user: "u",
        turn_cred: "c",
        ice_servers: [
          { urls: [`stun:meet.example.org:${relay.stunAddress()?.port}`, "stun:stun.example.org:3478"] },
          { urls: ["turn:turn.example.org:3478"], username: "u", credential: "c" },
        ],
      },
      appearance: {
        accent: "#123456",
        accent_light: expect.stringMatching(/^#/),
        accent_dark: expect.stringMatching(/^#/),
        background: expect.stringMatching(/^#/),
        background_dark: expect.stringMatching(/^#/),
        background_light: expect.stringMatching(/^#/),
      },
      jellyfin: { servers: ["*"] },
    });
    expect(result.body.toString()).not.toContain("127.0.0.1");
    expect(result.body.toString()).not.toContain(String(port));
    expect(result.body.toString()).not.toContain("bind");
  });

  it("serves /overrides.css, /version, and the legacy /room/<x> redirect", async () => {
    const { port } = await relayWithFiles({ appearance: 'accent_dark = "#abcdef"' });
    const css = await httpRequest(port, "/overrides.css");
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    expect(css.body.toString()).toMatch(/^:root\{--bg:#[0-9a-f]{6};.*--ac-dark:#abcdef;--ac-dark-transparent:#abcdefc9;/);
    const version = await httpRequest(port, "/version");
    expect(version.body.toString()).toMatch(/^\d+\.\d+\.\d+/);
    const redirect = await httpRequest(port, "/room/my%20secret");
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe("/room#my%20secret?warn_redirect=true");
    expectSecurityHeaders(redirect);
    expect((await httpRequest(port, "/room/a/b")).status).toBe(404);
  });
});

describe("/signaling", () => {
  it("answers a plain GET with 426", async () => {
    const { port } = await relayWithFiles();
    const result = await httpRequest(port, "/signaling");
    expect(result.status).toBe(426);
    expect(result.headers.upgrade).toBe("websocket");
    expectSecurityHeaders(result);
  });

  it("refuses upgrades on any other path with 404 and closes the connection", async () => {
    const { port, origin } = await relayWithFiles();
    await expect(TestClient.open(`${origin.replace("http", "ws")}/`)).rejects.toThrow(/404/);
    await expect(TestClient.open(`${origin.replace("http", "ws")}/signaling/x`)).rejects.toThrow(/404/);
    const raw = await rawExchange(
      port,
      "GET /other HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    expect(raw).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(raw).toContain("Content-Security-Policy:");
  });

  it("refuses broken handshakes with 400 without affecting others", async () => {
    const { port, url } = await relayWithFiles();
    const raw = await rawExchange(port, "GET /signaling HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    await expect(TestClient.connect(url)).resolves.toBeInstanceOf(TestClient);
  });
});

describe("hostile requests", () => {
  it("survives absurd URLs, headers and request lines, and keeps serving", async () => {
    const { port, url } = await relayWithFiles();
    const member = await TestClient.connect(url);
    const longUrl = await rawExchange(port, `GET /${"a".repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(longUrl).toMatch(/^HTTP\/1\.1 431 /);
    const manyHeaders = Array.from({ length: 3000 }, (_, index) => `X-H${index}: v\r\n`).join("");
    // CVE-2024-37890: ws < 8.17.1 crashed on an upgrade with more headers than maxHeadersCount.
    const crash = await rawExchange(
      port,
      `GET /signaling HTTP/1.1\r\nHost: x\r\n${manyHeaders}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    expect(crash).toMatch(/^HTTP\/1\.1 (400|431) /);
    expect(await rawExchange(port, "NONSENSE\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await rawExchange(port, "GET http://evil.example/room HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")).toMatch(/^HTTP\/1\.1 200 /);
    expect((await httpRequest(port, "/")).status).toBe(200);
    expect(await member.drain(0)).toEqual([]);
    expect(member.ws.readyState).toBe(member.ws.OPEN);
  });
});
