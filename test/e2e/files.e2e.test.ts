// Files end to end: the built client and the real relay, files chosen through the page's file
// input and saved through the browser's own download (the streaming service-worker path), compared
// byte for byte in Node.

import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomRoomSecret } from "../../common/prefs/fragment.js";
import { loadConfig } from "../../server/config.js";
import { createRelay, type Relay } from "../../server/create-relay.js";
import { closeAll, launchBrowser, openPage, pageErrors } from "../harness/browser.js";

const STATIC_ROOT = fileURLToPath(new URL("../../dist/public/", import.meta.url));
const MiB = 1024 * 1024;

let relay: Relay;
let origin: string;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  if (!existsSync(`${STATIC_ROOT}room.html`)) throw new Error("dist/public is missing: run `make build` first");
  relay = createRelay(loadConfig('[server]\nbind = "127.0.0.1:0"\n'), { staticRoot: STATIC_ROOT });
  origin = `http://127.0.0.1:${(await relay.listen()).port}`;
  browser = await launchBrowser();
  dir = await mkdtemp(path.join(os.tmpdir(), "meshmeet-files-"));
});

afterAll(async () => {
  await closeAll();
  await relay?.close();
  await rm(dir, { recursive: true, force: true });
});

async function joinAs(secret: string, username: string): Promise<Page> {
  const page = await openPage(browser, `${origin}/room#${secret}?username=${username}`);
  await page.getByRole("group", { name: `You (${username})` }).waitFor();
  return page;
}

function tile(page: Page, name: string): Locator {
  return page.getByRole("group", { name, exact: true });
}

async function makeFile(name: string, bytes: number): Promise<{ file: string; sha256: string }> {
  const file = path.join(dir, name);
  const data = randomBytes(bytes);
  await writeFile(file, data);
  return { file, sha256: createHash("sha256").update(data).digest("hex") };
}

async function share(page: Page, ...files: string[]): Promise<void> {
  await page.locator("#file-picker").setInputFiles(files);
}

async function sha256Of(file: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
}

/** Clicks Download on `from`'s offer of `name` and returns the finished download's file. */
async function download(page: Page, from: string, name: string): Promise<string> {
  const started = page.waitForEvent("download", { timeout: 60_000 });
  await tile(page, from).getByRole("button", { name: `Download ${name} from ${from}` }).click();
  const done = await started;
  const saved = await done.path();
  if (!saved) throw new Error(`download failed: ${await done.failure()}`);
  return saved;
}

describe("files", () => {
  it("sends a 50 MiB file that arrives byte-identical and verified", async () => {
    const secret = randomRoomSecret();
    const ana = await joinAs(secret, "ana");
    const bo = await joinAs(secret, "bo");
    const { file, sha256 } = await makeFile("random-50.bin", 50 * MiB);
    await share(ana, file);
    await tile(bo, "ana").getByText("random-50.bin").waitFor();
    const saved = await download(bo, "ana", "random-50.bin");
    expect(await sha256Of(saved)).toBe(sha256);
    await tile(bo, "ana").getByText("Verified: the file is intact.").waitFor();
    await ana.getByText("Sent.").waitFor();
    for (const page of [ana, bo]) expect(pageErrors(page)).toEqual([]);
    // Both sides hashed in their worker, and the relay's CSP lets it compile WebAssembly there.
    for (const page of [ana, bo]) {
      const hasher = page.workers().find((w) => w.url().endsWith("/assets/sha256-worker.js"));
      expect(hasher, "the page's SHA-256 worker").toBeDefined();
      expect(await hasher?.evaluate(() => WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])).then(() => "compiled", String))).toBe("compiled");
    }
  });

  it("sends two files at once to two peers", async () => {
    const secret = randomRoomSecret();
    const ana = await joinAs(secret, "ana");
    const bo = await joinAs(secret, "bo");
    const cy = await joinAs(secret, "cy");
    const one = await makeFile("one.bin", 6 * MiB);
    const two = await makeFile("two.bin", 4 * MiB);
    await share(ana, one.file, two.file);
    for (const page of [bo, cy]) await tile(page, "ana").getByText("two.bin").waitFor();
    // Both receivers start both downloads at once; each page's downloads are told apart by name.
    const collected = [bo, cy].map((page) => {
      const downloads: Promise<[string, string]>[] = [];
      const all = new Promise<Array<[string, string]>>((resolve) => {
        page.on("download", (d) => {
          downloads.push(d.path().then((p) => [d.suggestedFilename(), p ?? ""] as [string, string]));
          if (downloads.length === 2) resolve(Promise.all(downloads));
        });
      });
      return all;
    });
    for (const page of [bo, cy]) {
      for (const name of ["one.bin", "two.bin"]) {
        await tile(page, "ana").getByRole("button", { name: `Download ${name} from ana` }).click();
      }
    }
    for (const files of await Promise.all(collected)) {
      const byName = new Map(files);
      expect(await sha256Of(byName.get("one.bin") ?? "")).toBe(one.sha256);
      expect(await sha256Of(byName.get("two.bin") ?? "")).toBe(two.sha256);
    }
    for (const page of [bo, cy]) await expect.poll(() => tile(page, "ana").getByText("Verified: the file is intact.").count()).toBe(2);
  });

  it("cancels from the receiver and from the sender", async () => {
    const secret = randomRoomSecret();
    const ana = await joinAs(secret, "ana");
    const bo = await joinAs(secret, "bo");
    const big = await makeFile("big.bin", 200 * MiB);
    await share(ana, big.file);
    await tile(bo, "ana").getByText("big.bin").waitFor();

    // Receiver cancels.
    await tile(bo, "ana").getByRole("button", { name: "Download big.bin from ana" }).click();
    const progress = tile(bo, "ana").getByRole("progressbar");
    await expect.poll(() => progress.getAttribute("aria-valuetext"), { timeout: 20_000 }).toMatch(/^([1-9]|[1-9][0-9]) percent/);
    await tile(bo, "ana").getByRole("button", { name: "Cancel Download of big.bin from ana" }).click();
    await tile(bo, "ana").getByText("You cancelled it.").waitFor();
    await ana.getByText(/cancelled/i).first().waitFor();

    // Sender cancels the next attempt.
    await tile(bo, "ana").getByRole("button", { name: "Download big.bin from ana" }).click();
    const upload = ana.getByRole("button", { name: "Cancel Upload of big.bin to bo" });
    await upload.waitFor({ timeout: 20_000 });
    await upload.click();
    // The receiver is told (not left to think the connection dropped, which would resume).
    await tile(bo, "ana").getByText("ana cancelled it. The partial file was discarded.").waitFor({ timeout: 20_000 });
    await ana.getByText("You cancelled it.").waitFor();
    expect(pageErrors(bo)).toEqual([]);
  });

  it("resumes after the channel drops mid-transfer and still verifies", async () => {
    const secret = randomRoomSecret();
    const ana = await joinAs(secret, "ana");
    const bo = await joinAs(secret, "bo");
    const { file, sha256 } = await makeFile("resume.bin", 40 * MiB);
    await share(ana, file);
    await tile(bo, "ana").getByText("resume.bin").waitFor();
    // Keep the first data channel bo receives, to cut it from under the transfer.
    await bo.evaluate(() => {
      const room = (window as unknown as { meshmeet: { room: { events: { on: (t: string, f: (e: { channel: RTCDataChannel }) => void) => void } } } })
        .meshmeet.room;
      const w = window as unknown as { firstChannel?: RTCDataChannel };
      room.events.on("channel", ({ channel }) => {
        w.firstChannel ??= channel;
      });
    });
    const started = bo.waitForEvent("download", { timeout: 60_000 });
    await tile(bo, "ana").getByRole("button", { name: "Download resume.bin from ana" }).click();
    const progress = tile(bo, "ana").getByRole("progressbar");
    await expect.poll(() => progress.getAttribute("aria-valuetext"), { timeout: 20_000 }).toMatch(/^([1-9]|[1-9][0-9]) percent/);
    await bo.evaluate(() => (window as unknown as { firstChannel?: RTCDataChannel }).firstChannel?.close());
    const saved = await (await started).path();
    expect(saved && (await sha256Of(saved))).toBe(sha256);
    await tile(bo, "ana").getByText("Verified: the file is intact.").waitFor();
    for (const page of [ana, bo]) expect(pageErrors(page)).toEqual([]);
  });
});
