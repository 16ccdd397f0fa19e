// server/main.ts as a process: config file and BIND, the "listening" line, SIGTERM closing every
// socket with 1001 and exiting 0, and a bad config stopping the start with the key named.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cleanup, TestClient } from "./helpers.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "meshmeet-main-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await cleanup();
});

interface Started {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

/** Runs main.ts from source with an explicit config file (a local config/meshmeet.toml is never read). */
function runMain(configToml: string, env: Record<string, string>): Started {
  const configPath = path.join(dir, `config-${children.length}.toml`);
  writeFileSync(configPath, configToml);
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts", configPath], {
    cwd: REPO,
    env: { ...process.env, ...env },
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      lines.push(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, lines, exited };
}

async function lineWith(started: Started, event: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const line = started.lines.find((entry) => entry.event === event);
    if (line) return line;
    if (performance.now() > deadline || started.child.exitCode !== null) throw new Error(`no "${event}" line; got ${JSON.stringify(started.lines)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("server/main.ts", () => {
  it("listens on BIND, logs the URL, and on SIGTERM closes sockets with 1001 and exits 0", async () => {
    const started = runMain("[limits]\nmax_room_members = 3\n", { BIND: "127.0.0.1:0" });
    const listening = await lineWith(started, "listening");
    expect(listening).toMatchObject({ level: "info", address: "127.0.0.1", port: expect.any(Number) });
    const port = Number(listening.port);
    expect(port).toBeGreaterThan(0);
    expect(listening.url).toBe(`http://127.0.0.1:${port}/`);

    const client = await TestClient.connect(`ws://127.0.0.1:${port}/signaling`);
    client.join("f".repeat(64));
    expect(await client.next()).toEqual({ type: "client_join", id: client.id });
    const joinLine = await lineWith(started, "join");
    expect(JSON.stringify(joinLine)).not.toContain("f".repeat(64));

    started.child.kill("SIGTERM");
    expect(await client.closedWithin(5000)).toEqual({ code: 1001, reason: "server shutting down" });
    expect(await started.exited).toBe(0);
  });

  it("refuses an invalid config file, naming the key, with exit code 1", async () => {
    const started = runMain("[limits]\nmax_frame = 1\n", { BIND: "127.0.0.1:0" });
    expect(await started.exited).toBe(1);
    const line = await lineWith(started, "config_invalid");
    expect(String(line.error)).toMatch(/unknown key limits\.max_frame/);
  });
});
