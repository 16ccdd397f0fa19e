// Relay benchmark: the load generator. Forks the servers under test (bench/relay-server-child.ts):
// the real relay ("meshmeet") and a bare `ws` forwarder ("bare", the baseline), and drives both
// with the identical load from this process, over 127.0.0.1 only:
//
//   (a) memory:     on the fresh server, after N sockets joined and left once (warm-up), C sockets
//                   (the crowd's, default 10 000, else N) in rooms of 4 connect and join; server RSS
//                   per idle socket
//                   = (RSS idle with all joined − RSS before any connection) / C, both after a full GC;
//                   then they leave and N sockets (default 2000) join for (b) and (c)
//   (b) throughput: every socket sends broadcasts as fast as flow control allows (at most
//                   `window` messages per socket not yet delivered to all 3 others) → delivered msgs/s
//   (c) latency:    a fixed offered load (default 20 000 delivered msgs/s, sends spread evenly over
//                   time and sockets) → send→receive p50/p99, one process clock (performance.now())
//   (d) the crowd:  the N leave, 10 000 sockets in 2 500 rooms join, and every room chats at a lively
//                   meeting's rate, 20 000 delivered msgs/s in all → p50/p99 as in (c)
//
// The machine is a shared 2-core VM whose speed swings by large factors within a second (a fixed
// CPU loop measured 0.7 s, then 12.6 s; in 250 ms windows it did from 546 to 9363 units of work).
// Running one mode after the other would compare two different machines. So both servers run at
// once (an idle server costs nothing) and phases (b) and (c) alternate short slices between them
// in ABBA order; each figure pools its mode's slices, and the per-pair throughput ratios show how
// far the ratio can be trusted.
//
// Alone: npx tsx bench/relay-load.ts [--sockets N] [--window W] [--rate R] [--seconds S]
//                                    [--crowd N (0: no crowd)] [--crowd-rate R]
//                                    [--modes bare,meshmeet] [--cpu-prof DIR] [--json]
// The sockets need file descriptors: the bench raises its open-file limit itself (relay-file-limit.ts).
// bench/run.ts uses relayBenchmark (runRelayBench() → relayFigures()).

import { fileURLToPath } from "node:url";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { stop } from "./children.js";
import { RelayClients } from "./relay-clients.js";
import { ensureFileLimit } from "./relay-file-limit.js";
import { DEFAULT_RELAY_BENCH_OPTIONS, type RelayBenchOptions, type RelayBenchResult } from "./relay-options.js";
import {
  crowdResult,
  describe,
  describeLatency,
  latencyLoad,
  measureMemory,
  median,
  modeResult,
  newTotals,
  runPhase,
  throughputLoad,
  type Side,
} from "./relay-phases.js";
import type { ServerMode } from "./relay-server-child.js";
import { startServer, type ServerChild } from "./relay-server-handle.js";
import type { Benchmark, Figure } from "./types.js";

// --- the run ------------------------------------------------------------------------------------------

/** Runs the load against every mode, interleaved, from this process; the servers are children. */
export async function runRelayBench(overrides: Partial<RelayBenchOptions> = {}): Promise<RelayBenchResult> {
  const options: RelayBenchOptions = { ...DEFAULT_RELAY_BENCH_OPTIONS, ...overrides };
  const began = performance.now();
  const log = (text: string): void => {
    if (options.verbose) process.stderr.write(`relay ${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s: ${text}\n`);
  };
  const sides: Side[] = [];
  const crowds: Side[] = [];
  const servers: ServerChild[] = [];
  // This process holds the first sockets of every server and one crowd at a time (see (d)); a
  // server holds fewer. Raised before the servers start: children inherit the limit.
  const files = ensureFileLimit(options.sockets * options.modes.length + options.crowdSockets + 1024);
  if (files !== null) log(`open files: soft limit ${files.soft}, hard ${files.hard}`);
  try {
    const started = await Promise.allSettled(options.modes.map((mode) => startServer(mode, options.childExecArgv)));
    for (const outcome of started) if (outcome.status === "fulfilled") servers.push(outcome.value);
    for (const outcome of started) if (outcome.status === "rejected") throw outcome.reason;

    const latencySamples = Math.ceil((options.latencyDeliveredPerSecond * options.latencyMs * 1.2) / 1000) + 1000;
    for (const server of servers) {
      const clients = new RelayClients(options, server.mode);
      clients.samples = new Float64Array(latencySamples);
      sides.push({ mode: server.mode, server, clients, throughput: newTotals(), latency: newTotals(), nextLatencySender: 0 });
    }

    // (a) memory, one server at a time (the other is idle), on fresh servers: with the crowd,
    // the number a relay is sized for (max_sockets defaults to 10 000), where the one-time growth
    // of a server (JIT code, a larger young generation) weighs least per socket.
    const crowdOptions: RelayBenchOptions = { ...options, sockets: options.crowdSockets, latencyDeliveredPerSecond: options.crowdDeliveredPerSecond };
    const crowdClients = (mode: ServerMode): RelayClients =>
      new RelayClients({ ...crowdOptions, firstRoom: options.sockets / options.roomSize }, `${mode} crowd`);
    for (const side of sides) {
      // A first wave joins and leaves before: what the server builds once (optimised code for the
      // join path, a grown young generation) is then in the "before" figure, not per socket.
      const warmup = new RelayClients({ ...options, firstRoom: (options.sockets + options.crowdSockets) / options.roomSize }, `${side.mode} warm-up`);
      await warmup.connect(side.server.port, 0, options.sockets);
      warmup.close();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (options.crowdSockets === 0) {
        side.memory = await measureMemory(side, log);
        continue;
      }
      const crowd: Side = { ...side, clients: crowdClients(side.mode) };
      side.memory = await measureMemory(crowd, (text) => log(`crowd ${text}`));
      crowd.clients.close();
    }
    if (options.crowdSockets > 0) {
      // The servers see the crowd go; then the first sockets join.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      for (const side of sides) await side.clients.connect(side.server.port, 0, options.sockets);
    }

    // (b) throughput
    await runPhase(
      sides,
      options,
      options.throughputMs,
      (side) => side.throughput,
      (side) => throughputLoad(side),
      (round, rounds, entries) => log(`throughput ${round + 1}/${rounds}: ${entries.join(", ")} delivered msgs/s`),
    );

    // (c) latency at the fixed offered load. This process's own GC pauses delay every message in
    // flight, whichever server it is on: they are counted, to tell harness stalls from relay ones.
    log(`latency at ${options.latencyDeliveredPerSecond} delivered msgs/s offered`);
    const pauses: number[] = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) pauses.push(entry.duration);
    });
    gcObserver.observe({ entryTypes: ["gc"] });
    await runPhase(
      sides,
      options,
      options.latencyMs,
      (side) => side.latency,
      (side, record) => latencyLoad(side, options, record),
      (round, rounds, entries) => log(`latency ${round + 1}/${rounds}: ${entries.join(", ")}`),
    );

    gcObserver.disconnect();
    const describePauses = (phase: string): void => {
      log(
        `load generator GC during the ${phase}: ${pauses.length} pauses, ${pauses.filter((ms) => ms > 5).length} over 5 ms, ` +
          `longest ${Math.max(0, ...pauses).toFixed(1)} ms, total ${pauses.reduce((sum, ms) => sum + ms, 0).toFixed(0)} ms`,
      );
    };
    describePauses("latency phase");

    // (d) the crowd, in rooms after the first sockets' rooms. One mode after the other, not
    // interleaved: two crowds at once would need more open files than a process gets here
    // (20 000, hard). Per mode: the first sockets leave, the crowd joins and chats (latency
    // slices), the crowd leaves.
    if (options.crowdSockets > 0) {
      const crowdSamples = Math.ceil((options.crowdDeliveredPerSecond * options.latencyMs * 1.2) / 1000) + 1000;
      for (const side of sides) {
        const clients = crowdClients(side.mode);
        clients.samples = new Float64Array(crowdSamples);
        const crowd: Side = { mode: side.mode, server: side.server, clients, throughput: newTotals(), latency: newTotals(), nextLatencySender: 0 };
        crowds.push(crowd);
        side.clients.close();
        await clients.connect(side.server.port, 0, options.crowdSockets);
        await new Promise((resolve) => setTimeout(resolve, 500));
        log(`${side.mode} crowd latency at ${options.crowdDeliveredPerSecond} delivered msgs/s offered, ${options.crowdSockets} sockets in ${options.crowdSockets / options.roomSize} rooms`);
        pauses.length = 0;
        gcObserver.observe({ entryTypes: ["gc"] });
        await runPhase(
          [crowd],
          crowdOptions,
          options.latencyMs,
          (each) => each.latency,
          (each, record) => latencyLoad(each, crowdOptions, record),
          (round, rounds, entries) => log(`crowd latency ${round + 1}/${rounds}: ${entries.join(", ")}`),
        );
        gcObserver.disconnect();
        describePauses(`${side.mode} crowd latency phase`);
        clients.close();
      }
    }

    const result: RelayBenchResult = {};
    for (const side of sides) {
      const crowdSide = crowds.find((crowd) => crowd.mode === side.mode);
      const crowd = crowdSide && crowdResult(crowdSide, options.crowdDeliveredPerSecond);
      const mode = { ...modeResult(side, options), ...(crowd && { crowd }) };
      result[side.mode] = mode;
      log(describe(mode, options));
      if (crowd !== undefined) {
        log(`${side.mode} crowd of ${crowd.sockets} in ${crowd.rooms} rooms: ${describeLatency(crowd.latency)}. Missing ${crowd.missing}, error packets ${crowd.errorPackets}`);
      }
      for (const clients of [side.clients, crowdSide?.clients]) {
        if (clients !== undefined && clients.unexpectedCloses > 0) throw new Error(`${clients.label}: the server closed ${clients.unexpectedCloses} sockets`);
      }
      const missing = mode.missing + (crowd?.missing ?? 0);
      const errorPackets = mode.errorPackets + (crowd?.errorPackets ?? 0);
      if (missing !== 0 || errorPackets !== 0) {
        log(`WARNING ${side.mode}: ${missing} deliveries missing, ${errorPackets} error packets: the server dropped or refused load`);
      }
    }
    const bare = result.bare;
    const relay = result.meshmeet;
    if (bare !== undefined && relay !== undefined) {
      const ratios = relay.throughput.slices.map((rate, at) => rate / (bare.throughput.slices[at] ?? Number.NaN));
      result.spread = {
        throughputRatios: ratios,
        throughputRatioMin: Math.min(...ratios),
        throughputRatioMedian: median(ratios),
        throughputRatioMax: Math.max(...ratios),
      };
      log(
        `meshmeet/bare throughput: pooled ${(relay.throughput.deliveredPerSecond / bare.throughput.deliveredPerSecond).toFixed(2)}, ` +
          `per slice pair ${ratios.map((ratio) => ratio.toFixed(2)).join(" ")} (median ${median(ratios).toFixed(2)})`,
      );
    }
    return result;
  } finally {
    for (const side of [...sides, ...crowds]) side.clients.close();
    await Promise.all(servers.map((server) => stop(server.process)));
  }
}

// --- figures for bench/run.ts ---------------------------------------------------------------------

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function compared(value: number, unit: string, baseline: number | undefined): Figure {
  if (baseline === undefined) return { value, unit };
  return { value, unit, baseline, ratio: round(value / baseline, 3) };
}

/** meshmeet's figures, each with the bare forwarder's value as baseline. */
export function relayFigures(result: RelayBenchResult): Record<string, Figure> {
  const relay = result.meshmeet;
  if (relay === undefined) throw new Error("relay bench: no meshmeet result");
  const bare = result.bare;
  const crowd = relay.crowd;
  const bareCrowd = bare?.crowd;
  const crowdFigures: Record<string, Figure> =
    crowd === undefined
      ? {}
      : {
          relay_crowd_latency_p50_ms: compared(round(crowd.latency.p50Ms, 3), "ms", bareCrowd && round(bareCrowd.latency.p50Ms, 3)),
          relay_crowd_latency_p99_ms: compared(round(crowd.latency.p99Ms, 3), "ms", bareCrowd && round(bareCrowd.latency.p99Ms, 3)),
        };
  return {
    relay_delivered_msgs_per_s: compared(round(relay.throughput.deliveredPerSecond, 0), "msgs/s", bare && round(bare.throughput.deliveredPerSecond, 0)),
    relay_latency_p50_ms: compared(round(relay.latency.p50Ms, 3), "ms", bare && round(bare.latency.p50Ms, 3)),
    relay_latency_p99_ms: compared(round(relay.latency.p99Ms, 3), "ms", bare && round(bare.latency.p99Ms, 3)),
    relay_rss_per_idle_socket_kib: compared(round(relay.memory.rssPerSocketKiB, 2), "KiB", bare && round(bare.memory.rssPerSocketKiB, 2)),
    ...crowdFigures,
  };
}

/** The relay benchmark as bench/run.ts lists it. */
export const relayBenchmark: Benchmark = {
  name: "relay",
  run: async () => relayFigures(await runRelayBench()),
  goals: [
    { figure: "relay_delivered_msgs_per_s", on: "ratio", op: ">=", target: 0.8 },
    { figure: "relay_latency_p99_ms", on: "value", op: "<", target: 10 },
    { figure: "relay_crowd_latency_p99_ms", on: "value", op: "<", target: 10 },
    { figure: "relay_rss_per_idle_socket_kib", on: "ratio", op: "<=", target: 1.1 },
  ],
  timeoutMs: 300_000,
};

// --- CLI ------------------------------------------------------------------------------------------

type CliOptions = Partial<{ -readonly [K in keyof RelayBenchOptions]: RelayBenchOptions[K] }> & { json: boolean };

function parseMode(mode: string): ServerMode {
  if (mode !== "bare" && mode !== "meshmeet") throw new Error(`unknown mode ${mode} (bare, meshmeet)`);
  return mode;
}

function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = { json: false };
  for (let at = 0; at < argv.length; at++) {
    const flag = argv[at];
    const value = (): string => {
      const next = argv[++at];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    const number = (): number => {
      const parsed = Number(value());
      if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${flag} needs a positive number`);
      return parsed;
    };
    switch (flag) {
      case "--sockets":
        options.sockets = number();
        break;
      case "--window":
        options.window = number();
        break;
      case "--rate":
        options.latencyDeliveredPerSecond = number();
        break;
      case "--payload":
        options.payloadChars = number();
        break;
      case "--crowd": {
        const crowd = Number(value());
        if (!Number.isSafeInteger(crowd) || crowd < 0) throw new Error("--crowd needs a whole number of sockets (0: no crowd)");
        options.crowdSockets = crowd;
        break;
      }
      case "--crowd-rate":
        options.crowdDeliveredPerSecond = number();
        break;
      case "--seconds":
        options.throughputMs = options.latencyMs = number() * 1000;
        break;
      case "--modes":
        options.modes = value().split(",").map(parseMode);
        break;
      case "--cpu-prof":
        // One .cpuprofile per server child (main thread and tsx's loader thread) in this directory.
        options.childExecArgv = ["--cpu-prof", `--cpu-prof-dir=${value()}`];
        break;
      case "--json":
        options.json = true;
        break;
      default:
        throw new Error(`unknown argument ${flag}`);
    }
  }
  return options;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { json, ...overrides } = parseArgs(process.argv.slice(2));
  runRelayBench(overrides).then(
    (result) => {
      if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else if (result.meshmeet !== undefined) process.stdout.write(`${JSON.stringify(relayFigures(result), null, 2)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
