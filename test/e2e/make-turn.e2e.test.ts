// `make turn` (scripts/turn.sh): the coturn it starts accepts the credentials that a relay run on
// the config it writes mints, and refuses others. Real coturn and the real relay, on loopback in
// the test namespace (coturn's own check: a TURN Allocate, signed as a browser signs it).

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { mintTurnCredential } from "../../server/turn-credentials.js";
import { turnAllocate } from "../harness/turn-allocate.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
// Not 3479 (the script's default): a port of its own, so a developer's `make turn` cannot clash.
const PORT = 34791;

let dir: string;
let coturn: ChildProcess;
let stderr = "";

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "make-turn-"));
  coturn = spawn("bash", ["scripts/turn.sh"], {
    cwd: REPO_ROOT,
    env: { ...process.env, TURN_HOST: "127.0.0.1", TURN_PORT: String(PORT), TURN_CONFIG_DIR: dir },
    stdio: ["ignore", "ignore", "pipe"],
  });
  coturn.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  // Ready once it answers an Allocate at all (the unauthenticated first try gets a 401).
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answer = await turnAllocate("127.0.0.1", PORT, "probe", "probe", 1_000).catch(() => null);
    if (answer !== null) break;
    if (Date.now() > deadline || coturn.exitCode !== null) throw new Error(`make turn did not come up: ${stderr}`);
  }
});

afterAll(async () => {
  if (coturn && coturn.exitCode === null) {
    const exited = new Promise((resolve) => coturn.once("exit", resolve));
    coturn.kill("SIGTERM");
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("make turn", () => {
  it("writes a relay config whose minted credentials its coturn accepts, over the URLs it names", async () => {
    const toml = await readFile(path.join(dir, "turn.toml"), "utf8");
    const config = loadConfig(toml);
    expect(config.turn.urls).toEqual([`turn:127.0.0.1:${PORT}?transport=udp`, `turn:127.0.0.1:${PORT}?transport=tcp`]);
    const secret = config.turn.secret;
    if (secret === null) throw new Error("no TURN secret in the written config");
    // The secret is kept for the next run, readable by its owner only.
    const kept = path.join(dir, "turn-secret");
    expect((await readFile(kept, "utf8")).trim()).toBe(secret);
    expect((await stat(kept)).mode & 0o077).toBe(0);
    const minted = mintTurnCredential({ ...config.turn, secret });
    const allocated = await turnAllocate("127.0.0.1", PORT, minted.username, minted.credential);
    expect(allocated.ok, JSON.stringify(allocated)).toBe(true);
  });

  it("refuses a credential minted with another secret, and one that has expired", async () => {
    const config = loadConfig(await readFile(path.join(dir, "turn.toml"), "utf8"));
    const secret = config.turn.secret;
    if (secret === null) throw new Error("no TURN secret in the written config");
    const forged = mintTurnCredential({ ...config.turn, secret: "some-other-secret-0123456789" });
    expect(await turnAllocate("127.0.0.1", PORT, forged.username, forged.credential)).toMatchObject({ ok: false, errorCode: 401 });
    const expired = mintTurnCredential({ ...config.turn, secret }, Date.now() - 2 * config.turn.credentialLifetimeSeconds * 1000);
    expect(await turnAllocate("127.0.0.1", PORT, expired.username, expired.credential)).toMatchObject({ ok: false, errorCode: 401 });
  });
});
