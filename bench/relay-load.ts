// Relay benchmark: the load generator. Forks the servers under test (bench/relay-server-child.ts):
// the real relay ("meshmeet") and a bare `ws` forwarder ("bare", the baseline), and drives both
// with the identical load from this process, over 127.0.0.1 only:
//
//   (a) memory:     N sockets in rooms of 4 connect and join; server RSS per idle socket
//                   = (RSS idle with all joined − RSS before any connection) / N, both after a full GC
//   (b) throughput: every socket sends broadcasts as fast as flow control allows (at most
//                   `window` messages per socket not yet delivered to all 3 others) → delivered msgs/s
//   (c) latency:    a fixed offered load (default 20 000 delivered msgs/s, sends spread evenly over
//                   time and sockets) → send→receive p50/p99, one process clock (performance.now())
//
// The machine is a shared 2-core VM whose speed swings by large factors within a second (a fixed
// CPU loop measured 0.7 s, then 12.6 s; in 250 ms windows it did from 546 to 9363 units of work).
// Running one mode after the other would compare two different machines. So both servers run at
// once (an idle server costs nothing) and phases (b) and (c) alternate short slices between them
// in ABBA order; each figure pools its mode's slices, and the per-pair throughput ratios show how
// far the ratio can be trusted.
//
// Alone: npx tsx bench/relay-load.ts [--sockets N] [--window W] [--rate R] [--seconds S]
//                                    [--modes bare,meshmeet] [--cpu-prof DIR] [--json]
// bench/run.ts uses relayBenchmark (runRelayBench() → relayFigures()).

import { fileURLToPath } from "node:url";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { stop } from "./children.js";
import { RelayClients } from "./relay-clients.js";
import { DEFAULT_RELAY_BENCH_OPTIONS, type RelayBenchOptions, type RelayBenchResult } from "./relay-options.js";
import { describe, latencyLoad, measureMemory, median, modeResult, newTotals, runPhase, throughputLoad, type Side } from "./relay-phases.js";
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
  const servers: ServerChild[] = [];
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

    // (a) memory, one server at a time (the other is idle)
    for (const side of sides) await measureMemory(side, options, log);

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
    log(
      `load generator GC during the latency phase: ${pauses.length} pauses, ${pauses.filter((ms) => ms > 5).length} over 5 ms, ` +
        `longest ${Math.max(0, ...pauses).toFixed(1)} ms, total ${pauses.reduce((sum, ms) => sum + ms, 0).toFixed(0)} ms`,
    );

    const result: RelayBenchResult = {};
    for (const side of sides) {
      const mode = modeResult(side, options);
      result[side.mode] = mode;
      log(describe(mode, options));
      if (side.clients.unexpectedCloses > 0) throw new Error(`${side.mode}: the server closed ${side.clients.unexpectedCloses} sockets`);
      if (mode.missing !== 0 || mode.errorPackets !== 0) {
        log(`WARNING ${side.mode}: ${mode.missing} deliveries missing, ${mode.errorPackets} error packets: the server dropped or refused load`);
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
    for (const side of sides) side.clients.close();
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
  return {
    relay_delivered_msgs_per_s: compared(round(relay.throughput.deliveredPerSecond, 0), "msgs/s", bare && round(bare.throughput.deliveredPerSecond, 0)),
    relay_latency_p50_ms: compared(round(relay.latency.p50Ms, 3), "ms", bare && round(bare.latency.p50Ms, 3)),
    relay_latency_p99_ms: compared(round(relay.latency.p99Ms, 3), "ms", bare && round(bare.latency.p99Ms, 3)),
    relay_rss_per_idle_socket_kib: compared(round(relay.memory.rssPerSocketKiB, 2), "KiB", bare && round(bare.memory.rssPerSocketKiB, 2)),
  };
}

/** The relay benchmark as bench/run.ts lists it. */
export const relayBenchmark: Benchmark = {
  name: "relay",
  run: async () => relayFigures(await runRelayBench()),
  goals: [
    { figure: "relay_delivered_msgs_per_s", on: "ratio", op: ">=", target: 0.8 },
    { figure: "relay_latency_p99_ms", on: "value", op: "<", target: 10 },
    { figure: "relay_rss_per_idle_socket_kib", on: "value", op: "<=", target: 12 },
  ],
  timeoutMs: 150_000,
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
