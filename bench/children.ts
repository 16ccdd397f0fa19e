// Child processes started by benchmarks, killed on every exit path of the bench process.
//
// Each benchmark registers the processes it starts here. Whatever way the bench process ends —
// normal return, a thrown error, Ctrl-C, SIGTERM from `make`, an uncaught exception — every
// registered child still alive gets SIGKILL. (The children also exit on their own when their
// IPC channel to us closes, which covers the case where we are SIGKILLed ourselves.)

import type { ChildProcess } from "node:child_process";

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  live.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
    });
  }
  process.on("uncaughtException", (error) => {
    killAll();
    console.error("bench: uncaught exception:", error);
    process.exit(1);
  });
  process.on("unhandledRejection", (reason) => {
    killAll();
    console.error("bench: unhandled rejection:", reason);
    process.exit(1);
  });
}

/** Registers a child so it is killed if the bench process ends before it does. */
export function track(child: ChildProcess): ChildProcess {
  installHooks();
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** Asks a child to stop (SIGTERM), then SIGKILLs it after `graceMs`. Resolves once it is gone. */
export async function stop(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
