// coturn in a NAT lab's public namespace, on the lab's TURN address, with the shared-secret
// ("TURN REST API") credentials the relay mints. Plain TURN only (no TLS/DTLS): UDP and TCP on
// one port, relaying from a small port range on the same address.

import { createHmac, randomBytes } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { NatLab } from "./nat-lab.js";

export interface CoturnOptions {
  /** static-auth-secret; a random one by default. */
  readonly secret?: string;
  readonly realm?: string;
  readonly port?: number;
  /** The relay port range; small, as a lab needs few allocations. */
  readonly relayPorts?: { readonly min: number; readonly max: number };
  /** Extra turnserver.conf lines (e.g. "verbose"). */
  readonly extraConfig?: readonly string[];
  readonly readyTimeoutMs?: number;
}

export interface Coturn {
  readonly pid: number;
  /** `turn:` URLs for RTCPeerConnection's iceServers. */
  readonly urls: { readonly udp: string; readonly tcp: string };
  readonly secret: string;
  readonly realm: string;
  readonly address: string;
  readonly port: number;
  /** coturn's log; show it when a test fails. Kept after stop() (TMPDIR goes at the end of the run). */
  readonly logFile: string;
  /** Stops this turnserver (SIGTERM, then SIGKILL) and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

export interface TurnCredential {
  readonly username: string;
  readonly credential: string;
  /** Unix seconds. */
  readonly expiresAt: number;
}

/**
 * A credential coturn accepts with `use-auth-secret`: username `<unix expiry>:<id>`, password
 * base64(HMAC-SHA1(secret, username)). Written here from coturn's documented scheme rather than
 * borrowed from the relay, so a test can hold the relay's credentials against it.
 */
export function mintTurnCredential(secret: string, lifetimeSeconds: number, nowMs: number = Date.now()): TurnCredential {
  const expiresAt = Math.floor(nowMs / 1000) + lifetimeSeconds;
  const username = `${expiresAt}:nat-lab-${randomBytes(6).toString("hex")}`;
  const credential = createHmac("sha1", secret).update(username).digest("base64");
  return { username, credential, expiresAt };
}

function configFile(lab: NatLab, o: Required<Omit<CoturnOptions, "readyTimeoutMs">>, dir: string, logFile: string): string {
  const address = lab.publicAddresses.turn;
  return [
    `listening-ip=${address}`,
    `listening-port=${o.port}`,
    // The address allocations relay from; the same one, as the lab has one TURN host.
    `relay-ip=${address}`,
    `min-port=${o.relayPorts.min}`,
    `max-port=${o.relayPorts.max}`,
    "use-auth-secret",
    `static-auth-secret=${o.secret}`,
    `realm=${o.realm}`,
    "fingerprint",
    "no-tls",
    "no-dtls",
    "no-cli",
    "no-multicast-peers",
    // coturn 4.6 denies only loopback peers by default, so the lab's 10.99.x.y addresses would
    // pass anyway; say it explicitly, and deny every other address, so no relayed packet is
    // ever aimed outside the lab whatever a future coturn's defaults are.
    "denied-peer-ip=0.0.0.0-255.255.255.255",
    "allowed-peer-ip=10.99.1.0-10.99.255.255",
    `log-file=${logFile}`,
    // No rollover, no PID/date in the name: the file is exactly logFile.
    "simple-log",
    // Keep coturn's files out of /var: its pid file and the SQLite user database it opens even
    // when, as here, no user is stored.
    `pidfile=${path.join(dir, "turnserver.pid")}`,
    `userdb=${path.join(dir, "turndb")}`,
    ...o.extraConfig,
    "",
  ].join("\n");
}

// Sends STUN Binding requests (RFC 8489: type 0x0001, no attributes) to host:port over UDP (every
// 50 ms) and over TCP (reconnecting every 100 ms) until each transport gets the matching Binding
// success (0x0101), or the deadline (argv[3], ms) passes. Exit 0 when both answered.
const STUN_PROBE = `
import dgram from "node:dgram";
import net from "node:net";
import { createHmac, randomBytes } from "node:crypto";
const [host, portText, deadlineText] = process.argv.slice(1);
const port = Number(portText);
const request = () => {
  const m = Buffer.alloc(20);
  m.writeUInt16BE(0x0001, 0);
  m.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(m, 8);
  return m;
};
const isAnswer = (req, res) => res.length >= 20 && res.readUInt16BE(0) === 0x0101 && res.subarray(8, 20).equals(req.subarray(8, 20));
const udp = new Promise((resolve) => {
  const s = dgram.createSocket("udp4");
  const req = request();
  s.on("message", (res) => { if (isAnswer(req, res)) { clearInterval(timer); s.close(); resolve(); } });
  s.on("error", () => {});
  const timer = setInterval(() => s.send(req, port, host, () => {}), 50);
});
const tcp = new Promise((resolve) => {
  const attempt = () => {
    const req = request();
    const c = net.connect({ host, port }, () => c.write(req));
    let got = Buffer.alloc(0);
    c.on("data", (d) => { got = Buffer.concat([got, d]); if (isAnswer(req, got)) { c.destroy(); resolve(); } });
    c.on("error", () => setTimeout(attempt, 100));
  };
  attempt();
});
const done = { udp: false, tcp: false };
udp.then(() => (done.udp = true));
tcp.then(() => (done.tcp = true));
setTimeout(() => { console.log("no STUN answer in time:", JSON.stringify(done)); process.exit(1); }, Number(deadlineText));
await Promise.all([udp, tcp]);
process.exit(0);
`;

/** Starts turnserver in the lab's public namespace and waits until it answers STUN over UDP and TCP. */
export async function startCoturn(lab: NatLab, options: CoturnOptions = {}): Promise<Coturn> {
  const o = {
    secret: options.secret ?? randomBytes(24).toString("base64url"),
    realm: options.realm ?? "nat-lab.test",
    port: options.port ?? 3478,
    relayPorts: options.relayPorts ?? { min: 49152, max: 49200 },
    extraConfig: options.extraConfig ?? [],
  };
  const address = lab.publicAddresses.turn;
  const dir = await mkdtemp(path.join(os.tmpdir(), "coturn-"));
  const logFile = path.join(dir, "turnserver.log");
  const conf = path.join(dir, "turnserver.conf");
  await writeFile(conf, configFile(lab, o, dir, logFile));

  // Foreground (no -o): the lab tracks the process, and a daemon would escape it.
  const child = lab.spawnPublic("turnserver", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = String(signal ?? code);
      resolve();
    });
    child.once("error", (error) => {
      exited = error.message;
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (exited === undefined) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exit;
      clearTimeout(timer);
    }
  };

  // Ready = it answers a STUN Binding request over both UDP and TCP, asked from inside the public
  // namespace. (Its log is no signal: the "listener opened" lines sometimes never reach the file.)
  const probe = lab.spawnPublic(process.execPath, ["--input-type=module", "-e", STUN_PROBE, address, String(o.port), String(options.readyTimeoutMs ?? 10_000)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let probeOutput = "";
  probe.stdout?.on("data", (chunk: Buffer) => (probeOutput += chunk.toString()));
  probe.stderr?.on("data", (chunk: Buffer) => (probeOutput += chunk.toString()));
  const probeCode = await new Promise<number | null>((resolve) => {
    probe.once("exit", (code) => resolve(code));
    probe.once("error", () => resolve(null));
  });
  if (probeCode !== 0 || exited !== undefined) {
    await stop();
    const log = await readFile(logFile, "utf8").catch(() => "(no log)");
    const why = exited !== undefined ? `exited (${exited})` : `did not answer STUN (${probeOutput.trim()})`;
    throw new Error(`coturn ${why}; stderr: ${stderr.trim() || "(none)"}\nlog ${logFile}:\n${log}`);
  }

  const pid = child.pid;
  if (pid === undefined) throw new Error("coturn has no PID");
  return {
    pid,
    urls: { udp: `turn:${address}:${o.port}?transport=udp`, tcp: `turn:${address}:${o.port}?transport=tcp` },
    secret: o.secret,
    realm: o.realm,
    address,
    port: o.port,
    logFile,
    stop,
  };
}
