// Proves the browser harness on its own, without meshmeet code: the netns guard, a bundled page
// served under a strict CSP, a real RTCPeerConnection data channel between two pages (signaling
// relayed by this process) on 10.99.0.x host candidates, the page-error recorder and axe.

import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAxe } from "../harness/axe.js";
import { assertInPrivateNetns, closeAll, launchBrowser, openPage, pageErrors, type InterfaceList } from "../harness/browser.js";
import { bundleTestPage, type BundledSite } from "../harness/static-site.js";
import type { SmokeApi } from "./harness-smoke.page.js";

describe("assertInPrivateNetns", () => {
  const lo = { address: "127.0.0.1", netmask: "255.0.0.0", family: "IPv4", mac: "00:00:00:00:00:00", internal: true, cidr: "127.0.0.1/8" } as const;
  const v0 = { address: "10.99.0.1", netmask: "255.255.255.0", family: "IPv4", mac: "02:00:00:00:00:01", internal: false, cidr: "10.99.0.1/24" } as const;
  const v1LinkLocal = { address: "fe80::1", netmask: "ffff:ffff:ffff:ffff::", family: "IPv6", mac: "02:00:00:00:00:02", internal: false, cidr: "fe80::1/64", scopeid: 3 } as const;

  it("throws for a host's interface list", () => {
    const host: InterfaceList = {
      lo: [lo],
      eth0: [{ address: "192.0.2.2", netmask: "255.255.255.0", family: "IPv4", mac: "02:00:00:00:00:03", internal: false, cidr: "192.0.2.2/24" }],
    };
    expect(() => assertInPrivateNetns(host)).toThrow(/outside the private network namespace.*eth0/);
  });

  it("throws for lo alone (a fresh `unshare -n` without netns-run.sh)", () => {
    expect(() => assertInPrivateNetns({ lo: [lo] })).toThrow(/v0 does not hold 10\.99\.0\.1/);
  });

  it("throws when v0 carries a routable address", () => {
    const v0Global = { ...v0, address: "2001:db8::1", family: "IPv6", cidr: "2001:db8::1/64", netmask: "ffff:ffff:ffff:ffff::", scopeid: 0 } as const;
    expect(() => assertInPrivateNetns({ lo: [lo], v0: [v0, v0Global] })).toThrow(/routable address 2001:db8::1/);
  });

  it("accepts the netns-run.sh layout, and the real interfaces of this run", () => {
    expect(() => assertInPrivateNetns({ lo: [lo], v0: [v0], v1: [v1LinkLocal] })).not.toThrow();
    expect(() => assertInPrivateNetns()).not.toThrow();
  });
});

/** A stand-in for the relay's static root: files from `root`, with the relay's strict CSP. */
async function serveStatic(root: string): Promise<{ server: Server; origin: string }> {
  const types: Record<string, string> = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".map": "application/json",
    ".svg": "image/svg+xml",
  };
  const server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = path.join(root, path.normalize(pathname.endsWith("/") ? `${pathname}index.html` : pathname));
    const reply = (status: number, body: string | Buffer, type = "text/plain"): void => {
      res.writeHead(status, { "content-type": type, "content-security-policy": "default-src 'self'; script-src 'self'" });
      res.end(body);
    };
    if (!file.startsWith(root + path.sep)) return reply(404, "not found");
    readFile(file).then(
      (body) => reply(200, body, types[path.extname(file)] ?? "application/octet-stream"),
      () => reply(404, "not found"),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Calls one method of the page's smoke API (harness-smoke.page.ts) and returns its result. */
function call<K extends keyof SmokeApi>(
  page: Page,
  method: K,
  ...args: Parameters<SmokeApi[K]>
): Promise<Awaited<ReturnType<SmokeApi[K]>>> {
  // Only data crosses into the page (the function body is serialized and must not close over
  // anything), hence dispatch by method name.
  return page.evaluate(
    ({ method, args }) => {
      const api = window.harnessSmoke;
      if (!api) throw new Error("harness-smoke.page.ts did not load");
      const fn = api[method] as (...a: unknown[]) => unknown;
      return fn.apply(api, args);
    },
    { method, args },
  ) as Promise<Awaited<ReturnType<SmokeApi[K]>>>;
}

/** Forwards every signal `from` sends to `to`, in order, like a relay. */
async function relaySignals(from: Page, to: Page): Promise<void> {
  let chain = Promise.resolve();
  await from.exposeFunction("harnessSendSignal", (json: string) => {
    const next = chain.then(() => call(to, "receive", json));
    chain = next.catch(() => {}); // one failure must not block later signals; the page reports it
    return next;
  });
}

describe("browser harness", () => {
  let site: BundledSite;
  let server: Server;
  let origin: string;
  let browser: Browser;
  let launchMs = 0;

  beforeAll(async () => {
    site = await bundleTestPage("test/e2e/harness-smoke.page.ts", { title: "harness smoke" });
    ({ server, origin } = await serveStatic(site.dir));
    const t0 = performance.now();
    browser = await launchBrowser();
    launchMs = performance.now() - t0;
  });

  afterAll(async () => {
    await closeAll();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await site?.cleanup();
  });

  it("opens a data channel between two pages over 10.99.0.x host candidates", async () => {
    const t0 = performance.now();
    const [a, b] = await Promise.all([openPage(browser, `${origin}/`), openPage(browser, `${origin}/`)]);
    const pagesMs = performance.now() - t0;
    await relaySignals(a, b);
    await relaySignals(b, a);

    const t1 = performance.now();
    await call(b, "start", "answerer");
    await call(a, "start", "offerer");
    const [openA, openB] = await Promise.all([call(a, "opened"), call(b, "opened")]);
    const openWallMs = performance.now() - t1;

    const fromA = call(b, "nextMessage");
    await call(a, "send", "ping from A");
    expect(await fromA).toBe("ping from A");
    const fromB = call(a, "nextMessage");
    await call(b, "send", "pong from B");
    expect(await fromB).toBe("pong from B");

    for (const page of [a, b]) {
      const pair = await call(page, "selectedPair");
      expect(pair).not.toBeNull();
      expect(pair?.local).toMatchObject({ address: expect.stringMatching(/^10\.99\.0\.\d+$/), candidateType: "host" });
      expect(pair?.remote).toMatchObject({ address: expect.stringMatching(/^10\.99\.0\.\d+$/), candidateType: "host" });
      const gathered = await call(page, "gatheredCandidates");
      expect(gathered.some((c) => c.includes(" 10.99.0.1 "))).toBe(true);
      expect(gathered.filter((c) => c.includes(".local"))).toEqual([]);
      expect(pageErrors(page)).toEqual([]);
    }
    console.info(
      `[harness-smoke] browser launch ${launchMs.toFixed(0)} ms; two pages ${pagesMs.toFixed(0)} ms; ` +
        `data channel open ${openA.toFixed(0)}/${openB.toFixed(0)} ms in-page, ${openWallMs.toFixed(0)} ms wall`,
    );
  });

  it("records unhandled rejections, uncaught errors and console errors", async () => {
    const page = await openPage(browser, `${origin}/`);
    expect(pageErrors(page)).toEqual([]);
    const rejection = page.waitForEvent("pageerror");
    await page.evaluate(() => {
      void Promise.reject(new Error("deliberate rejection"));
    });
    await rejection;
    const thrown = page.waitForEvent("pageerror");
    await page.evaluate(() => {
      setTimeout(() => {
        throw new Error("deliberate throw");
      }, 0);
    });
    await thrown;
    const logged = page.waitForEvent("console");
    await page.evaluate(() => console.error("deliberate console error"));
    await logged;
    expect(pageErrors(page).map((p) => `${p.kind}: ${p.message.split("\n")[0]}`)).toEqual([
      "pageerror: Error: deliberate rejection",
      "pageerror: Error: deliberate throw",
      "console: deliberate console error",
    ]);
    await page.context().close();
  });

  it("runs axe under the strict CSP: clean page passes, a broken one fails", async () => {
    const page = await openPage(browser, `${origin}/`);
    expect(await runAxe(page)).toEqual([]);
    await page.evaluate(() => {
      const img = document.createElement("img");
      img.src = "favicon.svg"; // no alt text: a WCAG 2.0 A failure (image-alt)
      document.getElementById("app")?.append(img);
    });
    const violations = await runAxe(page);
    expect(violations.map((v) => v.id)).toEqual(["image-alt"]);
    expect(violations[0]?.targets).toEqual(["img"]);
    expect(pageErrors(page)).toEqual([]);
    await page.context().close();
  });
});
