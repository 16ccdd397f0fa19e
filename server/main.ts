// `node dist/server/main.js [config.toml]`: the only place that reads process state (argv, env,
// files, signals). Config: the built-in default, with the given file (or config/meshmeet.toml in
// the working directory, if present) laid over it, and BIND (host:port) over server.bind.
// Logs JSON lines to stdout; SIGTERM/SIGINT close every socket with 1001 and exit 0.

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadConfig, withBindOverride, type RelayConfig } from "./config.js";
import { createRelay } from "./create-relay.js";
import { createJsonLogger, type Logger } from "./log.js";

const LOCAL_CONFIG = "config/meshmeet.toml";

function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv): { config: RelayConfig; source: string } {
  const path = argv[0] ?? (existsSync(LOCAL_CONFIG) ? LOCAL_CONFIG : undefined);
  const userToml = path === undefined ? undefined : readFileSync(path, "utf8");
  return { config: withBindOverride(loadConfig(userToml), env.BIND), source: path ?? "built-in default" };
}

function urlOf(address: string, port: number): string {
  return `http://${address.includes(":") ? `[${address}]` : address}:${port}/`;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function main(log: Logger): Promise<void> {
  let config: RelayConfig;
  let source: string;
  try {
    ({ config, source } = readConfig(process.argv.slice(2), process.env));
  } catch (error) {
    log.error("config_invalid", { error: describeError(error) });
    process.exitCode = 1;
    return;
  }

  const relay = createRelay(config, { staticRoot: fileURLToPath(new URL("../public/", import.meta.url)), logger: log });
  const { address, port } = await relay.listen();
  const stun = relay.stunAddress();
  log.info("listening", { address, port, url: urlOf(address, port), config: source, stun: stun === null ? "off" : `udp ${stun.address}:${stun.port}` });

  const stop = (signal: NodeJS.Signals): void => {
    log.info("shutdown", { signal });
    relay.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error("shutdown_failed", { error: describeError(error) });
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

const log = createJsonLogger((line) => process.stdout.write(line), { debug: process.env.LOG === "debug" });
main(log).catch((error: unknown) => {
  log.error("fatal", { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
