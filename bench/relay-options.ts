// The relay benchmark's options (with their defaults and reasons) and the shape of its results.

import type { ServerMode } from "./relay-server-child.js";

export interface RelayBenchOptions {
  /** Sockets per server, all from 127.0.0.1; a multiple of roomSize. */
  readonly sockets: number;
  readonly roomSize: number;
  /** Length of the sealed message string (base64), like a real sealed signaling message. */
  readonly payloadChars: number;
  /** Throughput: messages per socket sent but not yet delivered to every other member. */
  readonly window: number;
  /** Each phase starts with one unrecorded slice of this length per mode (JIT warm-up). */
  readonly warmupMs: number;
  /** Phases alternate between the modes in slices of this length, each after `sliceWarmupMs`. */
  readonly sliceMs: number;
  readonly sliceWarmupMs: number;
  /** Measured time per mode, split into slices. */
  readonly throughputMs: number;
  /** Latency: offered load in delivered messages per second (sends × (roomSize − 1)). */
  readonly latencyDeliveredPerSecond: number;
  readonly latencyMs: number;
  /**
   * The crowd: this many sockets (0: none) in rooms of roomSize. The memory figure is measured
   * with them on the fresh server; after the phases of the first sockets, these leave and the
   * crowd alone carries crowdDeliveredPerSecond, in latency slices like (c).
   */
  readonly crowdSockets: number;
  readonly crowdDeliveredPerSecond: number;
  readonly modes: readonly ServerMode[];
  /** Progress lines on stderr. */
  readonly verbose: boolean;
  /** Extra node flags for the server children, e.g. `--cpu-prof`. */
  readonly childExecArgv: readonly string[];
}

export const DEFAULT_RELAY_BENCH_OPTIONS: RelayBenchOptions = {
  sockets: 2000,
  roomSize: 4,
  // 258 bytes → 344 base64 characters: an ICE candidate or a short message, sealed (salt, IV,
  // ciphertext, tag), is 300–400 characters.
  payloadChars: 344,
  // 2 × 2000 sockets = 4000 messages in flight: ample work for the server at every moment, while
  // the queueing delay stays ~0.1 s (window 1, 4 and 8 gave the same throughput within the noise).
  window: 2,
  warmupMs: 1000,
  // Short slices: pairs must be close in time for the machine's swings to hit both modes alike.
  sliceMs: 500,
  sliceWarmupMs: 150,
  throughputMs: 5000,
  latencyDeliveredPerSecond: 20_000,
  latencyMs: 5000,
  // 10 000 sockets (the default max_sockets) in 2 500 rooms of 4. 20 000 deliveries/s among them
  // is 2.7 messages a second per room, 0.67 per member: previews every 8 s to each of 3 others,
  // chat, a renegotiation now and then: a lively meeting, in every room at once.
  crowdSockets: 10_000,
  crowdDeliveredPerSecond: 20_000,
  modes: ["bare", "meshmeet"],
  verbose: true,
  childExecArgv: [],
};

export interface MemoryResult {
  /** Sockets measured: the crowd's if there is one, else the first sockets. */
  readonly sockets: number;
  readonly rssBeforeBytes: number;
  readonly rssIdleBytes: number;
  readonly heapBeforeBytes: number;
  readonly heapIdleBytes: number;
  /** The figure: (RSS idle − RSS before any connection) / N. */
  readonly rssPerSocketKiB: number;
  readonly heapPerSocketKiB: number;
  /** Marginal cost: (RSS with N − RSS with N/2) / (N/2); leaves out one-time growth (JIT code, young generation). */
  readonly rssSlopePerSocketKiB: number;
  readonly connectMs: number;
}

export interface ThroughputResult {
  readonly deliveredPerSecond: number;
  readonly sentPerSecond: number;
  /** Delivered msgs/s of each recorded slice, in order. */
  readonly slices: readonly number[];
  /** CPU of the server / of this load generator while this mode was loaded, % of one core. */
  readonly serverCpuPercent: number;
  readonly loadCpuPercent: number;
  /** Server CPU per delivered message, µs: user space (JS, GC threads) and kernel (socket I/O). */
  readonly serverUserMicrosPerDelivery: number;
  readonly serverSystemMicrosPerDelivery: number;
}

export interface LatencyResult {
  readonly offeredDeliveredPerSecond: number;
  readonly deliveredPerSecond: number;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Median over the slices of each slice's p99: less swayed than p99 by one stalled slice. */
  readonly sliceP99MedianMs: number;
  readonly serverCpuPercent: number;
}

export interface CrowdResult {
  readonly sockets: number;
  readonly rooms: number;
  readonly latency: LatencyResult;
  readonly missing: number;
  readonly errorPackets: number;
}

export interface ModeResult {
  readonly mode: ServerMode;
  readonly sockets: number;
  readonly memory: MemoryResult;
  readonly throughput: ThroughputResult;
  readonly latency: LatencyResult;
  /** Deliveries missing at the end (sent × fan-out − received); 0 unless the relay dropped some. */
  readonly missing: number;
  /** `error` packets the relay sent (rate limiting would show here); should be 0. */
  readonly errorPackets: number;
  readonly crowd?: CrowdResult;
}

export interface RelayBenchSpread {
  /** meshmeet/bare throughput of each ABBA pair of slices. */
  readonly throughputRatios: readonly number[];
  readonly throughputRatioMin: number;
  readonly throughputRatioMedian: number;
  readonly throughputRatioMax: number;
}

export type RelayBenchResult = Partial<Record<ServerMode, ModeResult>> & { spread?: RelayBenchSpread };
