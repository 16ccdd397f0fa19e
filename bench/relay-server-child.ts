// The relay under load, in a process of its own: `node --import tsx bench/relay-server-child.ts <mode>`.
//
//   meshmeet  the real relay (server/create-relay.ts) on 127.0.0.1:0 with the bench config below
//   bare      the baseline: the best bare `ws` forwarder for this load (bench/relay-bare-forwarder.ts)
//
// Started by bench/relay-load.ts with `fork` (an IPC channel) and, for the memory figure,
// `--expose-gc`. Protocol:
//   stdout, once: {"mode":…,"address":"127.0.0.1","port":N}\n when listening
//   IPC request {type:"measure", gc:boolean} → reply {type:"measure", rss, heapUsed, …}
//   SIGTERM → close the server and exit 0; IPC channel closed (parent gone) → exit at once.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";
import { startBareForwarder, type RunningServer } from "./relay-bare-forwarder.js";

export type ServerMode = "meshmeet" | "bare";

export interface MeasureRequest {
  readonly type: "measure";
  /** Run a full GC (twice) first; needs --expose-gc. */
  readonly gc: boolean;
}

export interface MeasureReply {
  readonly type: "measure";
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** V8's young generation (committed): sized by the allocation rate, not by what is held. */
  readonly newSpaceBytes: number;
  /** CPU time used since start, microseconds: user + system, and each. */
  readonly cpuMicros: number;
  readonly cpuUserMicros: number;
  readonly cpuSystemMicros: number;
  /** Event loop utilization since start (cumulative idle/active ms); diff two replies for a window. */
  readonly elu: EventLoopUtilization;
  readonly gcRan: boolean;
}

export interface ListeningLine {
  readonly mode: ServerMode;
  readonly address: string;
  readonly port: number;
}

/**
 * Bench configuration, laid over config/default.toml. The load (2000 sockets from 127.0.0.1, each
 * sending up to a few hundred messages per second in the throughput phase) would otherwise hit
 * the per-address socket cap (64) and the per-socket message/byte rate limits (20 msgs/s, 1 MiB/s)
 * within a second: those are raised far above what the load can reach, so the benchmark measures
 * the relay's forwarding path, not its throttling. Everything else keeps the defaults.
 */
export const BENCH_CONFIG_TOML = `
[server]
bind = "127.0.0.1:0"

[limits]
max_sockets = 1000000
max_sockets_per_ip = 1000000
messages_per_second = 10000000
message_burst = 10000000
bytes_per_second = 10000000000
byte_burst = 10000000000
`;

// --- meshmeet: the real relay -----------------------------------------------------------------

async function startMeshmeet(): Promise<RunningServer> {
  // Imported here, not at the top, so the bare baseline runs even if the relay does not load.
  const { createRelay } = await import("../server/create-relay.js");
  const { loadConfig } = await import("../server/config.js");
  const { silentLogger } = await import("../server/log.js");
  const staticRoot = mkdtempSync(join(tmpdir(), "meshmeet-bench-static-"));
  // Silent: a log line per connect/join would be 4000 lines of stdout I/O in the measured process.
  const relay = createRelay(loadConfig(BENCH_CONFIG_TOML), { staticRoot, logger: silentLogger });
  const { address, port } = await relay.listen();
  return {
    address,
    port,
    close: async () => {
      await relay.close();
      rmSync(staticRoot, { recursive: true, force: true });
    },
  };
}

// --- process plumbing -------------------------------------------------------------------------

function isMeasureRequest(message: unknown): message is MeasureRequest {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === "measure";
}

function measure(request: MeasureRequest): MeasureReply {
  let gcRan = false;
  if (request.gc && typeof globalThis.gc === "function") {
    globalThis.gc();
    globalThis.gc();
    gcRan = true;
  }
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    type: "measure",
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    newSpaceBytes: getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.physical_space_size ?? 0,
    cpuMicros: cpu.user + cpu.system,
    cpuUserMicros: cpu.user,
    cpuSystemMicros: cpu.system,
    elu: performance.eventLoopUtilization(),
    gcRan,
  };
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode !== "meshmeet" && mode !== "bare") {
    console.error("usage: node --import tsx bench/relay-server-child.ts meshmeet|bare");
    process.exit(2);
  }
  // The parent is gone (or closed the channel): nothing left to serve.
  process.on("disconnect", () => process.exit(0));

  const server = mode === "bare" ? await startBareForwarder() : await startMeshmeet();

  let closing = false;
  process.on("SIGTERM", () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), 2000).unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  });
  process.on("message", (message: unknown) => {
    if (isMeasureRequest(message)) process.send?.(measure(message));
  });

  const line: ListeningLine = { mode, address: server.address, port: server.port };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

main().catch((error: unknown) => {
  console.error(`relay-server-child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
