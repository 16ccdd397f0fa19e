// The NAT lab: network namespaces built from inside the test process that put browsers (or any
// process) in "homes" behind "routers" doing nftables NAT, with a "public" segment for the relay
// and a TURN server. Topology, addresses and router kinds: test/harness/README.md ("NAT lab").
//
// Every namespace is held by a small shell process (`unshare --net sh …`) reading a pipe from
// this process, never bound to a name under /run/netns. When the pipe closes (close(), or this
// process dying in any way, SIGKILL included, because the kernel closes its end), the holder
// SIGKILLs every process still in its namespace and exits; the namespace, and with it every veth
// end inside it, then disappears. So nothing needs a process-exit hook, and a killed run leaves
// neither namespaces nor links behind. The test process's own namespace (netns-run.sh's) is never
// changed: all links are created inside lab namespaces, so assertInPrivateNetns() keeps holding.

import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * What a home's router does:
 * - `none`: plain routing, no NAT: the home's own address is reachable from the public segment.
 * - `cone`: nft `masquerade`; conntrack keeps the source port when free and reuses one mapping for
 *   every destination (endpoint-independent mapping), inbound only from where the home sent to:
 *   a port-restricted cone.
 * - `symmetric`: nft `masquerade random,fully-random`: a fresh random port per destination.
 * - `udp-blocked`: masquerade, and every forwarded UDP datagram dropped: only TCP gets out (TURN
 *   over TCP/TLS).
 */
export type RouterKind = "none" | "cone" | "symmetric" | "udp-blocked";

export const ROUTER_KINDS: readonly RouterKind[] = ["none", "cone", "symmetric", "udp-blocked"];

export interface NatLabOptions {
  /** Home name → its router's kind. Names: letters, digits, `-`, `_` (they name files). */
  readonly homes: Readonly<Record<string, RouterKind>>;
  /** The browser the homes' wrapper scripts exec; defaults to $CHROME_PATH, then /usr/bin/chromium. */
  readonly chromiumPath?: string;
}

export interface PublicAddresses {
  /** For the relay (and anything else the homes should reach as "a server on the internet"). */
  readonly relay: string;
  /** For the TURN server (startCoturn listens and relays here). */
  readonly turn: string;
  /** The public namespace's own address, the routers' default gateway ("the internet core"). */
  readonly gateway: string;
}

export interface LabHome {
  readonly name: string;
  readonly kind: RouterKind;
  /** The home's address on its LAN (private unless `kind` is "none"); its only non-loopback one. */
  readonly address: string;
  /** The home's LAN, e.g. 10.99.101.0/24. */
  readonly subnet: string;
  /** The router's LAN address: the home's default gateway. */
  readonly routerLanAddress: string;
  /** The router's WAN address on the public segment: what NAT rewrites the home's source to. */
  readonly routerPublicAddress: string;
  /** An executable script that execs Chromium inside this home; pass it as launchBrowser's executablePath. */
  readonly chromiumExecutable: string;
}

export interface NatLab {
  readonly publicAddresses: PublicAddresses;
  /** The public segment, e.g. 10.99.1.0/24. */
  readonly publicSubnet: string;
  readonly homes: readonly LabHome[];
  /** A directory for the lab's files (wrapper scripts, rulesets); removed by close(). */
  readonly dir: string;
  /** The home named `name`; throws for an unknown name. */
  home(name: string): LabHome;
  /** Starts `command` in the public namespace; close() kills it if it is still running. */
  spawnPublic(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Starts `command` in a home's namespace; close() kills it if it is still running. */
  spawnInHome(name: string, command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Starts `command` in a home's router (e.g. `nft list ruleset`, `cat /proc/net/nf_conntrack`). */
  spawnInRouter(name: string, command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Kills every process the lab started (and anything else left in its namespaces) and removes the namespaces. Idempotent. */
  close(): Promise<void>;
}

/**
 * The Chromium switch that makes `origins` secure contexts. Pages in the homes load from
 * `http://<relay address>:<port>`, which is not potentially trustworthy, so without it
 * crypto.subtle and getUserMedia are missing. Chromium honours only the last copy of a switch:
 * pass every origin in one call.
 */
export function insecureOriginAsSecureFlag(...origins: readonly string[]): string {
  if (origins.length === 0) throw new Error("insecureOriginAsSecureFlag: give at least one origin");
  return `--unsafely-treat-insecure-origin-as-secure=${origins.map((o) => new URL(o).origin).join(",")}`;
}

// Addresses. 10.99.0.0/24 belongs to netns-run.sh; the lab uses 10.99.1.0/24 for the public
// segment and 10.99.(100+i).0/24 for home i (1-based), whose router sits at 10.99.1.(100+i):
// the third octet of a home equals the last octet of its router, which makes packet dumps readable.
const PUBLIC_SUBNET = "10.99.1.0/24";
const PUBLIC_ADDRESSES: PublicAddresses = { gateway: "10.99.1.1", relay: "10.99.1.2", turn: "10.99.1.3" };
const MAX_HOMES = 50;
const HOME_NAME = /^[A-Za-z0-9_-]{1,32}$/;

interface HomePlan {
  readonly index: number;
  readonly name: string;
  readonly kind: RouterKind;
  readonly subnet: string;
  readonly address: string;
  readonly routerLanAddress: string;
  readonly routerPublicAddress: string;
}

function planHomes(homes: Readonly<Record<string, RouterKind>>): HomePlan[] {
  const entries = Object.entries(homes);
  if (entries.length === 0) throw new Error("createNatLab: give at least one home");
  if (entries.length > MAX_HOMES) throw new Error(`createNatLab: at most ${MAX_HOMES} homes`);
  return entries.map(([name, kind], i) => {
    if (!HOME_NAME.test(name)) throw new Error(`createNatLab: bad home name ${JSON.stringify(name)} (letters, digits, - and _)`);
    if (!ROUTER_KINDS.includes(kind)) throw new Error(`createNatLab: unknown router kind ${JSON.stringify(kind)} for home ${name}`);
    const n = 100 + i + 1;
    return {
      index: i + 1,
      name,
      kind,
      subnet: `10.99.${n}.0/24`,
      address: `10.99.${n}.2`,
      routerLanAddress: `10.99.${n}.1`,
      routerPublicAddress: `10.99.1.${n}`,
    };
  });
}

// Our shell scripts call ip and nft, which live in /usr/sbin: not on every PATH.
const TOOL_PATH = [process.env["PATH"] ?? "", "/usr/sbin", "/sbin", "/usr/bin", "/bin"].filter(Boolean).join(":");

function findTool(name: string): string | undefined {
  for (const dir of TOOL_PATH.split(":")) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function requireTools(names: readonly string[]): Record<string, string> {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    const at = findTool(name);
    if (at === undefined) missing.push(name);
    else found[name] = at;
  }
  if (missing.length > 0) throw new Error(`NAT lab: ${missing.join(", ")} not found; run scripts/ensure-chromium.sh`);
  return found;
}

/** Single-quotes `s` for sh. */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function netnsInode(pid: number | "self"): number {
  return statSync(`/proc/${pid}/ns/net`).ino;
}

// The holder: the namespace's first process. It brings lo up, disables IPv6 (the lab is IPv4
// only, and this spares Chromium link-local candidates and router solicitations), says "ready",
// then waits for EOF on stdin, or TERM/HUP/INT, and kills everything else in its namespace.
// Zombies have no readable ns link, so a pass that finds nothing live ends the sweep; a few passes
// catch children forked while we scanned.
const HOLDER_SCRIPT = [
  "sweep() {",
  "  me=$(stat -L -c %i /proc/$$/ns/net) || return 0",
  "  for pass in 1 2 3 4 5; do",
  "    set -- $(stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null)",
  "    found=",
  "    while [ $# -ge 2 ]; do",
  '      if [ "$1" = "$me" ]; then',
  "        p=${2#/proc/}; p=${p%%/*}",
  '        if [ "$p" != "$$" ]; then kill -9 "$p" 2>/dev/null && found=1; fi',
  "      fi",
  "      shift 2",
  "    done",
  '    [ -n "$found" ] || return 0',
  "    sleep 0.05",
  "  done",
  "}",
  "trap 'sweep; exit 0' TERM HUP INT",
  "for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6; do",
  '  [ -w "$f" ] && echo 1 > "$f"',
  "done",
  "ip link set lo up",
  "echo ready",
  "read -r _ || :",
  "sweep",
].join("\n");

interface Namespace {
  readonly label: string;
  readonly pid: number;
  /** Closes the holder's stdin and waits until it has swept the namespace and exited. */
  release(): Promise<void>;
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Streams of a child that must not keep the event loop (a forgotten close()) alive. */
function unrefStreams(child: ChildProcess): void {
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    if (stream instanceof Socket) stream.unref();
  }
  child.unref();
}

async function startNamespace(label: string, env: NodeJS.ProcessEnv): Promise<Namespace> {
  // detached: its own session, so a signal to our process group (Ctrl-C, netns-run.sh's TERM) does
  // not kill it before it can sweep; it ends when our end of its stdin closes instead.
  const child = spawn("unshare", ["--net", "--", "sh", "-c", HOLDER_SCRIPT, `nat-lab-${label}`], {
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
    env,
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("ready\n")) resolve();
    });
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      reject(new Error(`NAT lab: namespace holder ${label} exited (${signal ?? code}) before it was ready: ${stderr.trim()}`)),
    );
  });
  unrefStreams(child);
  const release = async (): Promise<void> => {
    child.stdin?.end();
    if ((await withTimeout(exitOf(child), 5_000)) === "timeout") child.kill("SIGKILL");
    await exitOf(child);
  };
  try {
    if ((await withTimeout(ready, 10_000)) === "timeout") throw new Error(`NAT lab: namespace holder ${label} not ready after 10 s: ${stderr.trim()}`);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`NAT lab: namespace holder ${label} has no PID`);
    // "ready" is printed after unshare, but check anyway: configuring our own namespace by
    // mistake would give the test process the lab's links and routes.
    if (netnsInode(pid) === netnsInode("self")) throw new Error(`NAT lab: holder ${label} is in the test process's namespace`);
    return { label, pid, release };
  } catch (error) {
    await release();
    throw error;
  }
}

/** Runs a `sh -e` script inside the namespace of `pid`; rejects with its trace on failure. */
function runInNamespace(nsenter: string, pid: number, script: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(nsenter, ["-t", String(pid), "-n", "--", "sh", "-exc", script], { stdio: ["ignore", "ignore", "pipe"], env });
    let trace = "";
    child.stderr?.on("data", (chunk: Buffer) => (trace += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`NAT lab: setup failed in namespace of PID ${pid} (${signal ?? `exit ${code}`}):\n${trace.trim()}`));
    });
  });
}

/**
 * The router's nft ruleset, or null for "none" (no NAT, no filtering: plain routing). Linux
 * conntrack gives what real home routers do: replies to a flow the home opened come back in,
 * anything unsolicited does not.
 */
export function routerRuleset(kind: RouterKind): string | null {
  if (kind === "none") return null;
  const masquerade =
    kind === "symmetric"
      ? [
          "    # A random source port for every new flow, i.e. every new destination address:port:",
          "    # address-and-port-dependent mapping, a symmetric NAT. STUN's answer is useless to peers.",
          `    oifname "wan" masquerade random,fully-random`,
        ]
      : [
          "    # Conntrack keeps the home's source port when it is free on the WAN address and reuses it",
          "    # for every destination: endpoint-independent mapping (the port STUN saw works for peers).",
          `    oifname "wan" masquerade`,
        ];
  const udpDrop =
    kind === "udp-blocked"
      ? [
          "    # A firewall that lets only TCP out: every forwarded UDP datagram, either way, is dropped",
          "    # silently (no ICMP), so ICE over UDP and TURN over UDP time out and only TURN/TCP works.",
          "    meta l4proto udp drop",
        ]
      : [];
  return [
    `# NAT lab router, kind "${kind}". wan: the public segment; lan: the home.`,
    "flush ruleset",
    "",
    "table ip nat_lab {",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    ...masquerade,
    "  }",
    "",
    "  chain input {",
    "    type filter hook input priority filter; policy accept;",
    "    # A packet to a mapped port from someone the home never sent to matches no conntrack entry",
    "    # and lands here; drop it silently like a home router instead of answering ICMP",
    "    # port-unreachable (address-and-port-dependent filtering: the cone is port-restricted).",
    `    iifname "wan" ct state new,invalid drop`,
    "  }",
    "",
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    ...udpDrop,
    "    # Nobody outside may open a flow into the home, even with a route to its private subnet.",
    `    iifname "wan" oifname "lan" ct state new,invalid drop`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** Next hop of the public segment's default route: an address no namespace holds. */
const VOID_GATEWAY = "10.99.0.2";

/** The public namespace: a bridge ("the internet") joining the routers' WAN links, holding the relay and TURN addresses. */
function publicSetupScript(plans: readonly HomePlan[]): string {
  const lines = [
    "ip link add internet type bridge",
    `ip addr add ${PUBLIC_ADDRESSES.gateway}/24 dev internet`,
    `ip addr add ${PUBLIC_ADDRESSES.relay}/24 dev internet`,
    `ip addr add ${PUBLIC_ADDRESSES.turn}/24 dev internet`,
    "ip link set internet up",
  ];
  for (const p of plans) lines.push(`ip link set r${p.index} master internet`, `ip link set r${p.index} up`);
  // Only un-NATed homes are routable, as on the internet; NATed homes' private subnets have no
  // route here, so nothing public can address them.
  for (const p of plans) if (p.kind === "none") lines.push(`ip route add ${p.subnet} via ${p.routerPublicAddress} dev internet`);
  // Everything else (a NATed home's private address, as a peer's host candidate names it) goes
  // nowhere, silently: on the internet a datagram to 192.168.x.y leaves and is lost. Without a
  // default route sendto() fails at once with ENETUNREACH, which nothing real does, and coturn
  // then ends the whole TURN session of the client that asked it to send there. The "void" veth
  // sends to a gateway MAC that nothing has, so its peer end discards every frame (no dummy
  // module in these kernels).
  lines.push(
    "ip link add void0 type veth peer name void1",
    "ip link set void0 up",
    "ip link set void1 up",
    `ip route add default via ${VOID_GATEWAY} dev void0 onlink`,
    `ip neigh add ${VOID_GATEWAY} lladdr 02:00:00:00:00:02 dev void0 nud permanent`,
  );
  // Forwarding serves NATed homes talking to un-NATed ones (their routers' default route points
  // here). Such a hop goes back out the same bridge, for which Linux would send ICMP redirects.
  lines.push(
    "echo 1 > /proc/sys/net/ipv4/ip_forward",
    "echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects",
    "echo 0 > /proc/sys/net/ipv4/conf/internet/send_redirects",
  );
  return lines.join("\n");
}

/** Interface index `n` (1–4) of home `p`'s links: unique across the lab. */
function linkIndex(p: HomePlan, n: number): number {
  return 1000 + 10 * p.index + n;
}

function routerSetupScript(p: HomePlan, publicPid: number, homePid: number, rulesetFile: string | null): string {
  return [
    // Each veth is created here with its peer placed straight into the other namespace, so no
    // link ever appears in the test process's namespace, not even for a moment. Explicit, distinct
    // interface indexes: when a veth end's index equals its peer's (common in fresh namespaces,
    // which all number from 2) the kernel treats its carrier change as not urgent and lets no
    // packet through for up to a second.
    `ip link add wan index ${linkIndex(p, 1)} type veth peer name r${p.index} index ${linkIndex(p, 2)} netns ${publicPid}`,
    `ip link add lan index ${linkIndex(p, 3)} type veth peer name eth0 index ${linkIndex(p, 4)} netns ${homePid}`,
    `ip addr add ${p.routerPublicAddress}/24 dev wan`,
    `ip addr add ${p.routerLanAddress}/24 dev lan`,
    "ip link set wan up",
    "ip link set lan up",
    `ip route add default via ${PUBLIC_ADDRESSES.gateway} dev wan`,
    "echo 1 > /proc/sys/net/ipv4/ip_forward",
    ...(rulesetFile === null ? [] : [`nft -f ${shQuote(rulesetFile)}`]),
  ].join("\n");
}

function homeSetupScript(p: HomePlan): string {
  // Chromium gathers host candidates only on an interface with a default route.
  return [
    `ip addr add ${p.address}/24 dev eth0`,
    "ip link set eth0 up",
    `ip route add default via ${p.routerLanAddress} dev eth0`,
  ].join("\n");
}

// A link that just got its carrier passes no packets until the kernel's link watcher has run
// (see linkIndex for why that is quick here); wait for it, or a test's first datagram can vanish.
// `ip -o link` prints one line per link; lo's state is always UNKNOWN.
const WAIT_FOR_LINKS_UP_SCRIPT = [
  "set +x",
  "i=0",
  "while ip -o link show | grep -v ': lo:' | grep -qv 'state UP'; do",
  "  i=$((i + 1))",
  "  if [ $i -gt 250 ]; then ip -o link show >&2; echo 'links not up after 5 s' >&2; exit 1; fi",
  "  sleep 0.02",
  "done",
].join("\n");

function chromiumWrapper(nsenter: string, pid: number, chromium: string, home: string): string {
  return [
    "#!/bin/sh",
    `# Chromium inside NAT-lab home "${home}" (the network namespace held by PID ${pid}). Playwright`,
    "# drives it over a pipe, so control needs no network; exec keeps Playwright's PID Chromium's.",
    `exec ${shQuote(nsenter)} -t ${pid} -n -- ${shQuote(chromium)} "$@"`,
    "",
  ].join("\n");
}

/** Kills `child` (TERM, then KILL after `graceMs`) and waits for it to exit. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if ((await withTimeout(exitOf(child), graceMs)) === "timeout") child.kill("SIGKILL");
  await exitOf(child);
}

/** Builds the lab; see NatLab. Needs root (or CAP_SYS_ADMIN + CAP_NET_ADMIN) and scripts/ensure-chromium.sh's tools. */
export async function createNatLab(options: NatLabOptions): Promise<NatLab> {
  const plans = planHomes(options.homes);
  const needsNft = plans.some((p) => p.kind !== "none");
  const tools = requireTools(["unshare", "nsenter", "ip", ...(needsNft ? ["nft"] : [])]);
  const nsenter = tools["nsenter"] ?? "nsenter";
  const chromium = options.chromiumPath ?? process.env["CHROME_PATH"] ?? "/usr/bin/chromium";
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: TOOL_PATH };

  const dir = await mkdtemp(path.join(os.tmpdir(), "nat-lab-"));
  const namespaces: Namespace[] = [];
  const children = new Set<ChildProcess>();
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.allSettled([...children].map((c) => stopChild(c, 2_000)));
      await Promise.allSettled(namespaces.map((n) => n.release()));
      await rm(dir, { recursive: true, force: true });
    })();
    return closing;
  };

  try {
    const started = await Promise.all([
      startNamespace("public", env),
      ...plans.flatMap((p) => [startNamespace(`router-${p.name}`, env), startNamespace(`home-${p.name}`, env)]),
    ]);
    namespaces.push(...started);
    const [publicNs, ...perHome] = started;
    if (publicNs === undefined) throw new Error("NAT lab: no public namespace");
    const routerNs = (i: number): Namespace => perHome[2 * i] ?? fail(`no router namespace ${i}`);
    const homeNs = (i: number): Namespace => perHome[2 * i + 1] ?? fail(`no home namespace ${i}`);

    await Promise.all(
      plans.map(async (p, i) => {
        const ruleset = routerRuleset(p.kind);
        let rulesetFile: string | null = null;
        if (ruleset !== null) {
          rulesetFile = path.join(dir, `router-${p.name}.nft`);
          await writeFile(rulesetFile, ruleset);
        }
        await runInNamespace(nsenter, routerNs(i).pid, routerSetupScript(p, publicNs.pid, homeNs(i).pid, rulesetFile), env);
      }),
    );
    await Promise.all([
      runInNamespace(nsenter, publicNs.pid, publicSetupScript(plans), env),
      ...plans.map((p, i) => runInNamespace(nsenter, homeNs(i).pid, homeSetupScript(p), env)),
    ]);

    await Promise.all(started.map((ns) => runInNamespace(nsenter, ns.pid, WAIT_FOR_LINKS_UP_SCRIPT, env)));

    const homes: LabHome[] = await Promise.all(
      plans.map(async (p, i) => {
        const chromiumExecutable = path.join(dir, `chromium-${p.name}`);
        await writeFile(chromiumExecutable, chromiumWrapper(nsenter, homeNs(i).pid, chromium, p.name));
        await chmod(chromiumExecutable, 0o755);
        const { name, kind, subnet, address, routerLanAddress, routerPublicAddress } = p;
        return { name, kind, subnet, address, routerLanAddress, routerPublicAddress, chromiumExecutable };
      }),
    );

    const indexOf = (name: string): number => {
      const i = plans.findIndex((p) => p.name === name);
      if (i < 0) throw new Error(`NAT lab: no home ${JSON.stringify(name)} (homes: ${plans.map((p) => p.name).join(", ")})`);
      return i;
    };
    const spawnIn = (ns: Namespace, command: string, args: readonly string[], spawnOptions: SpawnOptions = {}): ChildProcess => {
      if (closing) throw new Error("NAT lab: closed");
      // nsenter enters only the network namespace and execs: the child's PID is the command's.
      const child = spawn(nsenter, ["-t", String(ns.pid), "-n", "--", command, ...args], spawnOptions);
      children.add(child);
      child.once("exit", () => children.delete(child));
      child.once("error", () => children.delete(child));
      return child;
    };

    return {
      publicAddresses: PUBLIC_ADDRESSES,
      publicSubnet: PUBLIC_SUBNET,
      homes,
      dir,
      home: (name) => homes[indexOf(name)] ?? fail(`no home ${name}`),
      spawnPublic: (command, args, spawnOptions) => spawnIn(publicNs, command, args, spawnOptions),
      spawnInHome: (name, command, args, spawnOptions) => spawnIn(homeNs(indexOf(name)), command, args, spawnOptions),
      spawnInRouter: (name, command, args, spawnOptions) => spawnIn(routerNs(indexOf(name)), command, args, spawnOptions),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function fail(message: string): never {
  throw new Error(`NAT lab: ${message}`);
}
