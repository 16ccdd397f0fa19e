// The relay benchmark's phases for one or more servers under test ("sides"): memory while idle,
// then throughput and latency in short slices that alternate between the sides (ABBA), with the
// totals each side's figures are computed from. relay-load.ts puts them in order.

import { performance } from "node:perf_hooks";
import type { RelayClients } from "./relay-clients.js";
import type { CrowdResult, LatencyResult, MemoryResult, ModeResult, RelayBenchOptions } from "./relay-options.js";
import type { MeasureReply, ServerMode } from "./relay-server-child.js";
import type { ServerChild } from "./relay-server-handle.js";

/** Counters of one phase for one mode; CPU comes from measurements at the phase's ends (server idle). */
export interface PhaseTotals {
  measuredMs: number;
  measuredDelivered: number;
  measuredSent: number;
  /** Wall time this mode was loaded (warm-up, window, drain) and the load generator's CPU in it. */
  loadedMs: number;
  loadCpuMicros: number;
  readonly slices: number[];
  /** Latency: p99 of each recorded slice, ms. */
  readonly sliceP99s: number[];
  start?: { server: MeasureReply; delivered: number };
  end?: { server: MeasureReply; delivered: number };
}

export interface Side {
  readonly mode: ServerMode;
  readonly server: ServerChild;
  readonly clients: RelayClients;
  memory?: MemoryResult;
  readonly throughput: PhaseTotals;
  readonly latency: PhaseTotals;
  nextLatencySender: number;
}

export function newTotals(): PhaseTotals {
  return { measuredMs: 0, measuredDelivered: 0, measuredSent: 0, loadedMs: 0, loadCpuMicros: 0, slices: [], sliceP99s: [] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

const KIB = 1024;
const MIB = 1024 * 1024;

/**
 * Connects and joins all sockets of `side.clients` (half, then the rest) and measures the server
 * before, at half and at the end, each after a full GC: what the sockets cost on top of whatever
 * the server held before.
 */
export async function measureMemory(side: Side, log: (text: string) => void): Promise<MemoryResult> {
  const { server, clients } = side;
  const { sockets, roomSize } = clients.options;
  const half = Math.floor(sockets / roomSize / 2) * roomSize;
  const before = await server.measure(true);
  let connectStart = performance.now();
  await clients.connect(server.port, 0, half);
  let connectMs = performance.now() - connectStart;
  await sleep(300);
  const atHalf = await server.measure(true);
  connectStart = performance.now();
  await clients.connect(server.port, half, sockets);
  connectMs += performance.now() - connectStart;
  await sleep(300);
  const idle = await server.measure(true);
  const memory: MemoryResult = {
    rssBeforeBytes: before.rss,
    rssIdleBytes: idle.rss,
    heapBeforeBytes: before.heapUsed,
    heapIdleBytes: idle.heapUsed,
    sockets,
    rssPerSocketKiB: (idle.rss - before.rss) / sockets / KIB,
    heapPerSocketKiB: (idle.heapUsed - before.heapUsed) / sockets / KIB,
    rssSlopePerSocketKiB: (idle.rss - atHalf.rss) / (sockets - half) / KIB,
    connectMs,
  };
  const mib = (bytes: number): string => (bytes / MIB).toFixed(1);
  log(
    `${side.mode}: ${sockets} sockets joined in ${connectMs.toFixed(0)} ms; RSS ${mib(before.rss)} → ${mib(atHalf.rss)} → ` +
      `${mib(idle.rss)} MiB: ${memory.rssPerSocketKiB.toFixed(2)} KiB/socket (marginal ${memory.rssSlopePerSocketKiB.toFixed(2)}); ` +
      `heap used ${mib(before.heapUsed)} → ${mib(idle.heapUsed)} MiB: ${memory.heapPerSocketKiB.toFixed(2)} KiB/socket; heap total ${mib(before.heapTotal)} → ${mib(idle.heapTotal)} MiB, ` +
      `of it young generation ${mib(before.newSpaceBytes)} → ${mib(idle.newSpaceBytes)} MiB`,
  );
  return memory;
}

/**
 * Runs `load` on one side for warm-up + `measureMs`, then stops it and drains. Counts into
 * `totals` only when `record`. No IPC inside the window: a saturated server answers IPC late.
 */
async function slice(
  side: Side,
  totals: PhaseTotals,
  options: RelayBenchOptions,
  measureMs: number,
  record: boolean,
  load: (until: number) => Promise<void>,
): Promise<number> {
  const { clients } = side;
  const loadedFrom = performance.now();
  const cpuFrom = cpuMicros();
  const windowFrom = loadedFrom + options.sliceWarmupMs;
  const windowUntil = windowFrom + measureMs;
  clients.openWindow(windowFrom, windowUntil);
  await load(windowUntil);
  const window = clients.closeWindow(performance.now());
  // Late arrivals of measured latency sends are still sampled while draining: the tail stays in.
  await clients.drain(5000);
  clients.phase = "idle";
  const delivered = window.endDelivered - window.startDelivered;
  const windowMs = window.endAt - window.startAt;
  const rate = windowMs > 0 ? (delivered * 1000) / windowMs : Number.NaN;
  if (record) {
    totals.measuredMs += windowMs;
    totals.measuredDelivered += delivered;
    totals.measuredSent += window.endSent - window.startSent;
    totals.loadedMs += performance.now() - loadedFrom;
    totals.loadCpuMicros += cpuMicros() - cpuFrom;
    totals.slices.push(rate);
  }
  return rate;
}

/** Closed loop: every socket keeps `window` messages in flight until `until`. */
export function throughputLoad(side: Side): (until: number) => Promise<void> {
  return async (until) => {
    side.clients.phase = "throughput";
    side.clients.pumpUntil = until;
    side.clients.pumpAll();
    await sleep(Math.max(0, until - performance.now()));
    side.clients.phase = "idle";
  };
}

/** p99 (ms) of the latency samples [from, to) of `clients`. */
function sliceP99(clients: RelayClients, from: number, to: number): number {
  return percentile(clients.samples.slice(from, to).sort(), 99);
}

/** Open loop at the offered rate: sends spread evenly over time, round-robin over the sockets. */
export function latencyLoad(side: Side, options: RelayBenchOptions, record: boolean): (until: number) => Promise<void> {
  return (until) => {
    const { clients } = side;
    const sendsPerMs = options.latencyDeliveredPerSecond / clients.fanOut / 1000;
    const start = performance.now();
    clients.sampleFrom = record ? start + options.sliceWarmupMs : Infinity;
    clients.sampleUntil = until;
    clients.phase = "latency";
    return new Promise<void>((resolve) => {
      let sends = 0;
      const tick = (): void => {
        const now = performance.now();
        if (now >= until) {
          resolve();
          return;
        }
        const due = Math.floor((now - start) * sendsPerMs);
        for (; sends < due; sends++) {
          clients.send(side.nextLatencySender);
          side.nextLatencySender = (side.nextLatencySender + 1) % clients.options.sockets;
        }
        setTimeout(tick, 1);
      };
      tick();
    });
  };
}

/** ABBA: pairs alternate which mode goes first, so a drift in machine speed cancels out. */
function pairOrder(sides: readonly Side[], round: number): readonly Side[] {
  return round % 2 === 0 ? sides : [...sides].reverse();
}

/** One phase: a warm-up slice per side, then `rounds` ABBA rounds; CPU measured at the ends. */
export async function runPhase(
  sides: readonly Side[],
  options: RelayBenchOptions,
  totalMs: number,
  pick: (side: Side) => PhaseTotals,
  loadFor: (side: Side, record: boolean) => (until: number) => Promise<void>,
  logRound: (round: number, rounds: number, entries: readonly string[]) => void,
): Promise<void> {
  for (const side of sides) await slice(side, pick(side), options, options.warmupMs, false, loadFor(side, false));
  for (const side of sides) pick(side).start = { server: await side.server.measure(false), delivered: side.clients.delivered };
  const rounds = Math.ceil(totalMs / options.sliceMs);
  for (let round = 0; round < rounds; round++) {
    const entries: string[] = [];
    for (const side of pairOrder(sides, round)) {
      const samplesBefore = side.clients.sampleCount;
      const rate = await slice(side, pick(side), options, options.sliceMs, true, loadFor(side, true));
      if (side.clients.sampleCount > samplesBefore) {
        const p99 = sliceP99(side.clients, samplesBefore, side.clients.sampleCount);
        pick(side).sliceP99s.push(p99);
        entries.push(`${side.mode} p99 ${p99.toFixed(1)} ms`);
      } else {
        entries.push(`${side.mode} ${rate.toFixed(0)}`);
      }
    }
    logRound(round, rounds, entries);
  }
  for (const side of sides) pick(side).end = { server: await side.server.measure(false), delivered: side.clients.delivered };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[at] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Server CPU over a phase (server idle at both ends), per delivery and as % of one core while loaded. */
function serverCpu(totals: PhaseTotals): { user: number; system: number; percent: number } {
  const { start, end } = totals;
  if (start === undefined || end === undefined) return { user: Number.NaN, system: Number.NaN, percent: Number.NaN };
  const deliveries = end.delivered - start.delivered;
  return {
    user: (end.server.cpuUserMicros - start.server.cpuUserMicros) / deliveries,
    system: (end.server.cpuSystemMicros - start.server.cpuSystemMicros) / deliveries,
    percent: (end.server.cpuMicros - start.server.cpuMicros) / 10 / totals.loadedMs,
  };
}

function latencyResult(side: Side, offeredDeliveredPerSecond: number): LatencyResult {
  const { clients, latency: lat } = side;
  const sorted = clients.samples.slice(0, clients.sampleCount).sort();
  return {
    offeredDeliveredPerSecond,
    deliveredPerSecond: (lat.measuredDelivered * 1000) / lat.measuredMs,
    samples: sorted.length,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    sliceP99MedianMs: median(lat.sliceP99s),
    serverCpuPercent: serverCpu(lat).percent,
  };
}

/** The crowd's figures, from a side whose clients are the crowd. */
export function crowdResult(side: Side, offeredDeliveredPerSecond: number): CrowdResult {
  const { clients } = side;
  return {
    sockets: clients.options.sockets,
    rooms: clients.options.sockets / clients.options.roomSize,
    latency: latencyResult(side, offeredDeliveredPerSecond),
    missing: clients.missing(),
    errorPackets: clients.errorPackets,
  };
}

export function describeLatency(lat: LatencyResult): string {
  return (
    `latency at ${lat.offeredDeliveredPerSecond} offered (${lat.deliveredPerSecond.toFixed(0)} delivered, server CPU ${lat.serverCpuPercent.toFixed(0)} %): ` +
    `p50 ${lat.p50Ms.toFixed(2)} ms, p90 ${lat.p90Ms.toFixed(2)} ms, p99 ${lat.p99Ms.toFixed(2)} ms (median of slice p99s ${lat.sliceP99MedianMs.toFixed(2)} ms), ` +
    `max ${lat.maxMs.toFixed(1)} ms (${lat.samples} samples)`
  );
}

export function modeResult(side: Side, options: RelayBenchOptions): ModeResult {
  const { clients, memory, throughput: tp } = side;
  if (memory === undefined) throw new Error(`${side.mode}: no memory figure`);
  const tpCpu = serverCpu(tp);
  return {
    mode: side.mode,
    sockets: options.sockets,
    memory,
    throughput: {
      deliveredPerSecond: (tp.measuredDelivered * 1000) / tp.measuredMs,
      sentPerSecond: (tp.measuredSent * 1000) / tp.measuredMs,
      slices: tp.slices,
      serverCpuPercent: tpCpu.percent,
      loadCpuPercent: tp.loadCpuMicros / 10 / tp.loadedMs,
      serverUserMicrosPerDelivery: tpCpu.user,
      serverSystemMicrosPerDelivery: tpCpu.system,
    },
    latency: latencyResult(side, options.latencyDeliveredPerSecond),
    missing: clients.missing(),
    errorPackets: clients.errorPackets,
  };
}

export function describe(result: ModeResult, options: RelayBenchOptions): string {
  const { throughput: tp } = result;
  return (
    `${result.mode}: throughput ${tp.deliveredPerSecond.toFixed(0)} delivered msgs/s (window ${options.window}); server CPU ` +
    `${tp.serverCpuPercent.toFixed(0)} % = ${tp.serverUserMicrosPerDelivery.toFixed(1)} µs user + ${tp.serverSystemMicrosPerDelivery.toFixed(1)} µs sys ` +
    `per delivery; load generator ${tp.loadCpuPercent.toFixed(0)} %. ${describeLatency(result.latency)}. ` +
    `Missing ${result.missing}, error packets ${result.errorPackets}`
  );
}
