// Proves the NAT lab (test/harness/nat-lab.ts, coturn.ts) behaves as its README section claims,
// without meshmeet code: plain Node UDP/TCP probes show each router kind's mapping and filtering,
// then Chromium in the homes gathers TURN relay candidates (and connects through them).

import type { ChildProcess } from "node:child_process";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAll, launchBrowser, openPage, pageErrors } from "../harness/browser.js";
import { mintTurnCredential, startCoturn, type Coturn } from "../harness/coturn.js";
import { createNatLab, insecureOriginAsSecureFlag, type NatLab } from "../harness/nat-lab.js";

// A listener: UDP on each port of a comma-separated list (each datagram answered with the sender's
// address:port as seen here), TCP on one port (each connection gets the same, then is closed).
// Prints "ready", then one JSON line per datagram or connection it saw.
const LISTENER = `
import dgram from "node:dgram";
import net from "node:net";
const [host, udpPorts, tcpPort] = process.argv.slice(1);
const log = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
const pending = [];
for (const port of udpPorts.split(",").map(Number)) {
  const s = dgram.createSocket("udp4");
  s.on("message", (msg, r) => {
    log({ proto: "udp", port, from: r.address + ":" + r.port });
    s.send(r.address + ":" + r.port, r.port, r.address);
  });
  pending.push(new Promise((resolve) => s.bind(port, host, resolve)));
}
const server = net.createServer((c) => {
  log({ proto: "tcp", port: Number(tcpPort), from: c.remoteAddress + ":" + c.remotePort });
  c.end(c.remoteAddress + ":" + c.remotePort);
});
pending.push(new Promise((resolve) => server.listen(Number(tcpPort), host, resolve)));
await Promise.all(pending);
console.log("ready");
`;

// A probe: `udp <host> <port>...` sends from ONE local socket to each port (resending until a reply
// or 1 s) and prints {local, seen: {port: "addr:port" | null}}; `tcp <host> <port>` connects and
// prints {seen} or {error: code}.
const PROBE = `
import dgram from "node:dgram";
import net from "node:net";
const [mode, host, ...rest] = process.argv.slice(1);
const ports = rest.map(Number);
const out = (o) => { console.log(JSON.stringify(o)); process.exit(0); };
if (mode === "udp") {
  const s = dgram.createSocket("udp4");
  const seen = Object.fromEntries(ports.map((p) => [p, null]));
  const errors = [];
  s.on("error", (e) => errors.push(e.code));
  s.on("message", (msg, r) => {
    seen[r.port] = msg.toString();
    if (Object.values(seen).every((v) => v !== null)) out({ local: s.address().port, seen, errors });
  });
  s.bind(0, () => {
    const send = () => { for (const p of ports) if (seen[p] === null) s.send("probe", p, host, (e) => e && errors.push(e.code)); };
    send();
    const timer = setInterval(send, 150);
    setTimeout(() => { clearInterval(timer); out({ local: s.address().port, seen, errors }); }, 1000);
  });
} else {
  const c = net.connect({ host, port: ports[0], timeout: 1000 });
  let data = "";
  c.on("data", (d) => (data += d));
  c.on("end", () => out({ seen: data }));
  c.on("timeout", () => out({ error: "timeout" }));
  c.on("error", (e) => out({ error: e.code }));
}
`;

const NODE_ESM = ["--input-type=module", "-e"];

/** stdout of a process that runs to its end (within `timeoutMs`). */
function outputOf(child: ChildProcess, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`exit ${code}; stderr: ${stderr}`));
    });
  });
}

interface Seen {
  readonly proto: "udp" | "tcp";
  readonly port: number;
  readonly from: string;
}

interface Listener {
  /** What it saw so far. */
  readonly seen: Seen[];
}

/** Starts LISTENER through `spawn` and resolves once it listens. */
function startListener(spawn: (args: string[]) => ChildProcess, host: string, udpPorts: number[], tcpPort: number): Promise<Listener> {
  const child = spawn([...NODE_ESM, LISTENER, host, udpPorts.join(","), String(tcpPort)]);
  const seen: Seen[] = [];
  return new Promise((resolve, reject) => {
    let buffer = "";
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout?.on("data", (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line === "ready") resolve({ seen });
        else seen.push(JSON.parse(line) as Seen);
      }
    });
    child.once("exit", (code) => reject(new Error(`listener exited (${code}): ${stderr}`)));
  });
}

interface UdpProbe {
  readonly local: number;
  readonly seen: Record<string, string | null>;
  readonly errors: string[];
}
type TcpProbe = { readonly seen: string } | { readonly error: string };

async function probeUdp(spawn: (args: string[]) => ChildProcess, host: string, ports: number[]): Promise<UdpProbe> {
  return JSON.parse(await outputOf(spawn([...NODE_ESM, PROBE, "udp", host, ...ports.map(String)]))) as UdpProbe;
}

async function probeTcp(spawn: (args: string[]) => ChildProcess, host: string, port: number): Promise<TcpProbe> {
  return JSON.parse(await outputOf(spawn([...NODE_ESM, PROBE, "tcp", host, String(port)]))) as TcpProbe;
}

const HOMES = { cone: "cone", sym: "symmetric", blocked: "udp-blocked", open: "none" } as const;
const UDP_PORTS = [40001, 40002];
const TCP_PORT = 40003;

describe("NAT lab", () => {
  let lab: NatLab;
  let publicListener: Listener;
  let setupMs = 0;
  const inHome = (name: string) => (args: string[]) => lab.spawnInHome(name, process.execPath, args);
  const inPublic = (args: string[]) => lab.spawnPublic(process.execPath, args);

  beforeAll(async () => {
    const t0 = performance.now();
    lab = await createNatLab({ homes: HOMES });
    setupMs = performance.now() - t0;
    publicListener = await startListener(inPublic, lab.publicAddresses.relay, UDP_PORTS, TCP_PORT);
  });

  afterAll(async () => {
    await closeAll();
    await lab?.close();
  });

  it("lays out the addresses it reports", () => {
    console.info(`[nat-lab] setup of ${Object.keys(HOMES).length} homes: ${setupMs.toFixed(0)} ms`);
    expect(lab.publicAddresses).toEqual({ gateway: "10.99.1.1", relay: "10.99.1.2", turn: "10.99.1.3" });
    expect(lab.home("cone")).toMatchObject({ kind: "cone", address: "10.99.101.2", routerPublicAddress: "10.99.1.101" });
    expect(lab.homes.map((h) => h.name)).toEqual(Object.keys(HOMES));
    expect(() => lab.home("nowhere")).toThrow(/no home "nowhere"/);
  });

  it("cone: one local port keeps one mapping (the router's address) for every destination", async () => {
    const r = await probeUdp(inHome("cone"), lab.publicAddresses.relay, UDP_PORTS);
    const [a, b] = UDP_PORTS.map((p) => r.seen[p]);
    expect(a).toMatch(/^10\.99\.1\.101:\d+$/);
    expect(b).toBe(a);
  });

  it("symmetric: a new mapped port for every destination", async () => {
    const r = await probeUdp(inHome("sym"), lab.publicAddresses.relay, UDP_PORTS);
    const [a, b] = UDP_PORTS.map((p) => r.seen[p]);
    expect(a).toMatch(/^10\.99\.1\.102:\d+$/);
    expect(b).toMatch(/^10\.99\.1\.102:\d+$/);
    expect(b).not.toBe(a);
  });

  it("udp-blocked: no UDP gets out, TCP does (masqueraded)", async () => {
    const udp = await probeUdp(inHome("blocked"), lab.publicAddresses.relay, UDP_PORTS);
    expect(udp.seen).toEqual({ [UDP_PORTS[0] ?? 0]: null, [UDP_PORTS[1] ?? 0]: null });
    expect(publicListener.seen.filter((s) => s.proto === "udp" && s.from.startsWith("10.99.1.103:"))).toEqual([]);
    const tcp = await probeTcp(inHome("blocked"), lab.publicAddresses.relay, TCP_PORT);
    expect(tcp).toEqual({ seen: expect.stringMatching(/^10\.99\.1\.103:\d+$/) });
  });

  it("none: the home is seen with its own address, and the public side can reach it", async () => {
    const r = await probeUdp(inHome("open"), lab.publicAddresses.relay, UDP_PORTS);
    expect(r.seen[UDP_PORTS[0] ?? 0]).toBe(`${lab.home("open").address}:${r.local}`);
    const homeListener = await startListener(inHome("open"), lab.home("open").address, [40011], 40012);
    // Unbound public sockets get the public namespace's first address, the gateway's.
    expect((await probeUdp(inPublic, lab.home("open").address, [40011])).seen[40011]).toMatch(/^10\.99\.1\.1:\d+$/);
    expect(await probeTcp(inPublic, lab.home("open").address, 40012)).toEqual({ seen: expect.stringMatching(/^10\.99\.1\.1:\d+$/) });
    expect(homeListener.seen.map((s) => s.proto)).toContain("tcp");
  });

  it("the public side cannot reach a NATed home's private address", async () => {
    const home = lab.home("cone");
    const homeListener = await startListener(inHome("cone"), home.address, [40011], 40012);
    const udp = await probeUdp(inPublic, home.address, [40011]);
    expect(udp.seen[40011]).toBeNull();
    // As on the internet: the datagram leaves (sendto succeeds) and is lost, with no error back.
    expect(udp.errors).toEqual([]);
    expect(await probeTcp(inPublic, home.address, 40012)).toEqual({ error: "timeout" });
    expect(homeListener.seen).toEqual([]);
  });
});

// A page server in the public namespace, on the relay's address: pages in the homes load from an
// http:// origin that is not localhost, as they will from the relay.
const PAGE_SERVER = `
import http from "node:http";
const [host, port] = process.argv.slice(1);
http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end("<!doctype html><html lang=en><title>nat lab</title><p>nat lab</p></html>");
}).listen(Number(port), host, () => console.log("ready"));
`;

interface Gathered {
  readonly candidates: string[];
  readonly errors: string[];
  /** Whether gathering completed before the timeout. */
  readonly complete: boolean;
  readonly ms: number;
}

/** Gathers candidates in the page for a data-channel offer; gives up after `timeoutMs`. */
function gather(page: Page, config: RTCConfiguration, timeoutMs: number): Promise<Gathered> {
  return page.evaluate(
    async ({ config, timeoutMs }) => {
      const t0 = performance.now();
      const pc = new RTCPeerConnection(config);
      pc.createDataChannel("probe"); // an offer with nothing to send gathers nothing
      const candidates: string[] = [];
      const errors: string[] = [];
      const complete = new Promise<boolean>((resolve) => {
        pc.onicecandidate = (e) => (e.candidate ? candidates.push(e.candidate.candidate) : resolve(true));
        pc.onicecandidateerror = (e) => errors.push(`${e.url} ${e.errorCode} ${e.errorText}`);
        setTimeout(() => resolve(false), timeoutMs);
      });
      await pc.setLocalDescription(await pc.createOffer());
      const done = await complete;
      pc.close();
      return { candidates, errors, complete: done, ms: performance.now() - t0 };
    },
    { config, timeoutMs },
  );
}

declare global {
  interface Window {
    /** The data-channel peer connectPeers() sets up in a page. */
    natLabPeer?: { readonly pc: RTCPeerConnection; readonly channel: Promise<RTCDataChannel> };
  }
}

/**
 * Starts one side of a relay-only data channel in the page and returns its SDP once gathering is
 * complete (no trickle: the test carries each SDP across once). The offerer gets `remoteSdp`
 * undefined; the answerer gets the offer.
 */
function startPeer(page: Page, iceServer: RTCIceServer, remoteSdp?: string): Promise<string> {
  return page.evaluate(
    async ({ iceServer, remoteSdp }) => {
      const pc = new RTCPeerConnection({ iceServers: [iceServer], iceTransportPolicy: "relay" });
      const opened = (dc: RTCDataChannel): Promise<RTCDataChannel> =>
        new Promise((resolve) => (dc.readyState === "open" ? resolve(dc) : dc.addEventListener("open", () => resolve(dc))));
      const channel =
        remoteSdp === undefined
          ? opened(pc.createDataChannel("lab"))
          : new Promise<RTCDataChannel>((resolve) => (pc.ondatachannel = (e) => resolve(opened(e.channel))));
      window.natLabPeer = { pc, channel };
      const gathered = new Promise<void>((resolve) => {
        pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
      });
      if (remoteSdp === undefined) {
        await pc.setLocalDescription(await pc.createOffer());
      } else {
        await pc.setRemoteDescription({ type: "offer", sdp: remoteSdp });
        await pc.setLocalDescription(await pc.createAnswer());
      }
      if (pc.iceGatheringState !== "complete") await gathered;
      return pc.localDescription?.sdp ?? "";
    },
    { iceServer, remoteSdp },
  );
}

/** Sends `text` once the page's channel is open; returns the first message received and the local candidate type in use. */
function exchange(page: Page, text: string): Promise<{ received: string; localCandidateType: string }> {
  return page.evaluate(async (text) => {
    const peer = window.natLabPeer;
    if (!peer) throw new Error("startPeer() first");
    const dc = await peer.channel;
    const received = new Promise<string>((resolve) => dc.addEventListener("message", (e) => resolve(String(e.data)), { once: true }));
    dc.send(text);
    const message = await received;
    let localCandidateType = "";
    const stats = await peer.pc.getStats();
    stats.forEach((s: { type: string; nominated?: boolean; state?: string; localCandidateId?: string }) => {
      if (s.type !== "candidate-pair" || s.state !== "succeeded" || !s.nominated || s.localCandidateId === undefined) return;
      const local = stats.get(s.localCandidateId) as { candidateType?: string } | undefined;
      localCandidateType = local?.candidateType ?? "";
    });
    peer.pc.close();
    return { received: message, localCandidateType };
  }, text);
}

const relayCandidateOf = (address: string) => new RegExp(` ${address.replaceAll(".", "\\.")} \\d+ typ relay `);

describe("NAT lab with Chromium and coturn", () => {
  let lab: NatLab;
  let turn: Coturn;
  let origin: string;
  let pages: Record<"cone" | "sym" | "blocked", Page>;

  const turnServer = (url: string): RTCIceServer => {
    const { username, credential } = mintTurnCredential(turn.secret, 600);
    return { urls: url, username, credential };
  };

  const relayOnly = (url: string): RTCConfiguration => ({ iceServers: [turnServer(url)], iceTransportPolicy: "relay" });

  beforeAll(async () => {
    lab = await createNatLab({ homes: { cone: "cone", sym: "symmetric", blocked: "udp-blocked" } });
    const port = 8080;
    origin = `http://${lab.publicAddresses.relay}:${port}`;
    const server = lab.spawnPublic(process.execPath, [...NODE_ESM, PAGE_SERVER, lab.publicAddresses.relay, String(port)]);
    const serverReady = new Promise((resolve) => server.stdout?.once("data", resolve));
    const t0 = performance.now();
    [turn] = await Promise.all([startCoturn(lab), serverReady]);
    const turnMs = performance.now() - t0;
    const launch = (home: string) => launchBrowser({ executablePath: lab.home(home).chromiumExecutable, extraArgs: [insecureOriginAsSecureFlag(origin)] });
    const t1 = performance.now();
    const [cone, sym, blocked] = await Promise.all([launch("cone"), launch("sym"), launch("blocked")]);
    const launchMs = performance.now() - t1;
    const [pCone, pSym, pBlocked] = await Promise.all([openPage(cone, `${origin}/`), openPage(sym, `${origin}/`), openPage(blocked, `${origin}/`)]);
    pages = { cone: pCone, sym: pSym, blocked: pBlocked };
    console.info(`[nat-lab] coturn ready ${turnMs.toFixed(0)} ms; three browsers ${launchMs.toFixed(0)} ms; pages ${(performance.now() - t1 - launchMs).toFixed(0)} ms`);
  });

  afterAll(async () => {
    await closeAll();
    await turn?.stop();
    await lab?.close();
  });

  it("serves pages from the public segment as a secure context (with the flag)", async () => {
    for (const page of Object.values(pages)) {
      expect(await page.evaluate(() => [window.isSecureContext, typeof crypto.subtle])).toEqual([true, "object"]);
    }
  });

  it("cone and symmetric homes: host = private address, srflx = router's address, relay = TURN's", async () => {
    const config = (): RTCConfiguration => ({ iceServers: [{ urls: `stun:${turn.address}:${turn.port}` }, turnServer(turn.urls.udp)] });
    const [cone, sym] = await Promise.all([gather(pages.cone, config(), 10_000), gather(pages.sym, config(), 10_000)]);
    console.info(`[nat-lab] gathering: cone ${cone.ms.toFixed(0)} ms, symmetric ${sym.ms.toFixed(0)} ms`, cone.candidates, sym.candidates);
    for (const [g, home] of [[cone, lab.home("cone")], [sym, lab.home("sym")]] as const) {
      expect(g.complete, JSON.stringify(g)).toBe(true);
      expect(g.candidates.filter((c) => / typ host /.test(c)).some((c) => c.includes(` ${home.address} `)), JSON.stringify(g)).toBe(true);
      expect(g.candidates.filter((c) => / typ srflx /.test(c)).some((c) => c.includes(` ${home.routerPublicAddress} `)), JSON.stringify(g)).toBe(true);
      expect(g.candidates.some((c) => relayCandidateOf(lab.publicAddresses.turn).test(c)), JSON.stringify(g)).toBe(true);
    }
  });

  // One retry: once in many runs Chromium's gathering through coturn never reports "complete"
  // on this shared machine (seen once in CI, with the same test green before and after); each try
  // makes new connections, so a second failure is a real one.
  it("a relay-only data channel connects the symmetric home to the cone home through coturn", { retry: 1 }, async () => {
    const t0 = performance.now();
    const offer = await startPeer(pages.cone, turnServer(turn.urls.udp));
    const answer = await startPeer(pages.sym, turnServer(turn.urls.udp), offer);
    await pages.cone.evaluate((sdp) => window.natLabPeer?.pc.setRemoteDescription({ type: "answer", sdp }), answer);
    const [atCone, atSym] = await Promise.all([exchange(pages.cone, "from cone"), exchange(pages.sym, "from symmetric")]);
    console.info(`[nat-lab] relay data channel: ${(performance.now() - t0).toFixed(0)} ms`);
    expect(atCone).toEqual({ received: "from symmetric", localCandidateType: "relay" });
    expect(atSym).toEqual({ received: "from cone", localCandidateType: "relay" });
  });

  it("udp-blocked: TURN over TCP gives a relay candidate, TURN over UDP none", async () => {
    const [tcp, udp] = await Promise.all([gather(pages.blocked, relayOnly(turn.urls.tcp), 10_000), gather(pages.blocked, relayOnly(turn.urls.udp), 3_000)]);
    console.info(`[nat-lab] udp-blocked: TCP ${tcp.ms.toFixed(0)} ms, UDP ${udp.ms.toFixed(0)} ms (complete: ${udp.complete})`, tcp.candidates, udp);
    expect(tcp.candidates.some((c) => relayCandidateOf(lab.publicAddresses.turn).test(c)), JSON.stringify(tcp)).toBe(true);
    expect(udp.candidates.filter((c) => / typ relay /.test(c))).toEqual([]);
    for (const page of Object.values(pages)) expect(pageErrors(page)).toEqual([]);
  });
});
