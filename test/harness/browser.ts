// Launching Debian's Chromium (through playwright-core) for end-to-end tests, recording page
// errors, and making sure no browser outlives the test process.
//
// Every launch first checks that we are inside the private network namespace made by
// scripts/netns-run.sh: Chromium only gathers ICE candidates on a non-loopback interface with a
// default route, and in that namespace the only such interface (v0) leads nowhere, so nothing a
// test does (ICE, mDNS, DNS, telemetry) can leave the machine. See test/harness/README.md.

import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import chromiumFlags from "./chromium-flags.json" with { type: "json" };
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";

/** The command that runs the e2e suite inside the namespace; quoted in error messages. */
export const E2E_COMMAND = "unshare -n scripts/netns-run.sh npx vitest run -c vitest.e2e.config.ts";

/**
 * Switches for every launch, in chromium-flags.json so that
 * web-test-runner.config.mjs launches the same way. `--no-sandbox` because we run as
 * root; the mDNS feature is disabled so candidates are plain 10.99.0.x addresses and Chromium sends
 * no multicast; the fake device/UI flags let getUserMedia/getDisplayMedia succeed headless.
 */
export const CHROMIUM_FLAGS: readonly string[] = chromiumFlags;

export type InterfaceList = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

const NETNS_INTERFACES = new Set(["lo", "v0", "v1"]);

/**
 * Throws unless `interfaces` looks like the namespace scripts/netns-run.sh builds: only lo, v0 and
 * v1, v0 holding 10.99.0.1, and no other routable address. (`os.networkInterfaces()` lists only
 * interfaces that have an address; one without any address cannot carry traffic either.)
 */
export function assertInPrivateNetns(interfaces: InterfaceList = os.networkInterfaces()): void {
  const names = Object.keys(interfaces).sort();
  const problems: string[] = [];
  const foreign = names.filter((name) => !NETNS_INTERFACES.has(name));
  if (foreign.length > 0) problems.push(`unexpected interface(s) ${foreign.join(", ")}`);
  const v0 = interfaces["v0"] ?? [];
  if (!v0.some((a) => a.family === "IPv4" && a.address === "10.99.0.1")) problems.push("v0 does not hold 10.99.0.1");
  for (const [name, addresses] of Object.entries(interfaces)) {
    for (const a of addresses ?? []) {
      if (a.internal) continue;
      const ok = a.family === "IPv4" ? a.address.startsWith("10.99.0.") : a.address.toLowerCase().startsWith("fe80:");
      if (!ok) problems.push(`routable address ${a.address} on ${name}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `refusing to run browser tests outside the private network namespace (${problems.join("; ")}; ` +
        `interfaces: ${names.join(", ") || "none"}). Run: ${E2E_COMMAND}`,
    );
  }
}

export interface LaunchBrowserOptions {
  /** Extra Chromium switches for this launch, after CHROMIUM_FLAGS (e.g. --use-file-for-fake-video-capture=…). */
  readonly extraArgs?: readonly string[];
  /** Defaults to $CHROME_PATH, then /usr/bin/chromium. */
  readonly executablePath?: string;
}

interface Launched {
  readonly browser: Browser;
  /** PID of Chromium's browser process (a process-group leader: Playwright spawns it detached); undefined if not found. */
  readonly pid: number | undefined;
  /** The switch that tags its command line; checked again before killing, in case the PID was reused. */
  readonly marker: string;
}

const launched = new Set<Launched>();

/** Launches headless Chromium with CHROMIUM_FLAGS (+ extraArgs). Close it with closeAll() (or browser.close()). */
export async function launchBrowser(options: LaunchBrowserOptions = {}): Promise<Browser> {
  assertInPrivateNetns();
  const executablePath = options.executablePath ?? process.env["CHROME_PATH"] ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}; run scripts/ensure-chromium.sh (or set CHROME_PATH)`);
  }
  installExitHandlers();
  // Playwright's Browser does not expose the process, so tag the command line to find the PID for
  // the synchronous kill in our exit handler. Chromium ignores switches it does not know.
  const marker = `--meshmeet-harness-browser=${randomUUID()}`;
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...(options.extraArgs ?? []), marker],
    timeout: 30_000,
  });
  const entry: Launched = { browser, pid: findBrowserPid(marker), marker };
  launched.add(entry);
  browser.on("disconnected", () => launched.delete(entry));
  return browser;
}

/** Closes every browser launchBrowser() started and still open; kills any that will not close. */
export async function closeAll(): Promise<void> {
  const entries = [...launched];
  await Promise.allSettled(entries.map((e) => e.browser.close()));
  for (const e of entries) killBrowserProcess(e);
  for (const e of entries) launched.delete(e);
}

/** One problem seen on a page opened with openPage(). */
export interface PageProblem {
  /**
   * `pageerror`: an uncaught exception **or an unhandled promise rejection** (Chromium reports both
   * through the same DevTools event); `console`: console.error, including failed loads and CSP
   * violations; `crash`: the renderer died.
   */
  readonly kind: "pageerror" | "console" | "crash";
  readonly message: string;
}

export interface OpenPageOptions {
  /** Open in this context; by default each page gets a new context (separate storage, like another user). */
  readonly context?: BrowserContext;
  /** Options for the new context (ignored when `context` is given). */
  readonly contextOptions?: BrowserContextOptions;
  /** console.error messages matching any of these are expected and not recorded. */
  readonly ignoreConsole?: readonly RegExp[];
}

const problemsByPage = new WeakMap<Page, PageProblem[]>();

/** Opens `url` in a new page that records its errors (see pageErrors()); resolves after `load`. */
export async function openPage(browser: Browser, url: string, options: OpenPageOptions = {}): Promise<Page> {
  const context = options.context ?? (await browser.newContext(options.contextOptions));
  const page = await context.newPage();
  const problems: PageProblem[] = [];
  problemsByPage.set(page, problems);
  page.on("pageerror", (error) => problems.push({ kind: "pageerror", message: error.stack ?? error.message }));
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const text = msg.text();
    if (options.ignoreConsole?.some((re) => re.test(text))) return;
    const where = msg.location();
    problems.push({ kind: "console", message: where.url ? `${text} (${where.url}:${where.lineNumber})` : text });
  });
  page.on("crash", () => problems.push({ kind: "crash", message: "renderer crashed" }));
  await page.goto(url, { waitUntil: "load" });
  return page;
}

/** Problems recorded so far on a page from openPage(); `expect(pageErrors(page)).toEqual([])`. */
export function pageErrors(page: Page): readonly PageProblem[] {
  const problems = problemsByPage.get(page);
  if (!problems) throw new Error("pageErrors: this page was not opened with openPage()");
  return [...problems];
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return []; // the process is gone
  }
}

function findBrowserPid(marker: string): number | undefined {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const argv = commandLine(Number(name));
    // Child processes (--type=renderer, …) do not inherit unknown switches, but be explicit.
    if (argv.includes(marker) && !argv.some((a) => a.startsWith("--type="))) return Number(name);
  }
  return undefined;
}

function killBrowserProcess({ pid, marker }: Launched): void {
  if (pid === undefined || !commandLine(pid).includes(marker)) return;
  try {
    process.kill(-pid, "SIGKILL"); // the whole group: renderers, GPU and utility processes
  } catch {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

let handlersInstalled = false;

// Playwright kills its browsers on `exit` and on SIGINT, but on SIGTERM/SIGHUP it only starts an
// asynchronous close and keeps the process alive. Ours kill synchronously and then exit, so an
// interrupted run (Ctrl-C, a CI timeout, vitest tearing down a worker) leaves no Chromium behind.
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const killAll = (): void => {
    for (const e of launched) killBrowserProcess(e);
  };
  process.on("exit", killAll);
  const signals: ReadonlyArray<readonly [NodeJS.Signals, number]> = [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ];
  for (const [signal, code] of signals) {
    process.once(signal, () => {
      killAll();
      process.exit(code);
    });
  }
}
