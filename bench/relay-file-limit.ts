// The relay benchmark holds tens of thousands of sockets: every one is a file descriptor in the
// load generator (this process) and in a server child. Node cannot raise its own limit, but
// prlimit(1) can raise that of a running process (a child inherits its parent's limits), up to
// the hard limit, or past it as root. So `make bench` works unattended where the default
// soft limit is 1024.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface FileLimit {
  readonly soft: number;
  readonly hard: number;
}

function parseLimit(text: string): number {
  return text === "unlimited" ? Number.POSITIVE_INFINITY : Number(text);
}

/** This process's open-file limits, from /proc/self/limits; null where there is none (not Linux). */
export function fileLimit(): FileLimit | null {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((entry) => entry.startsWith("Max open files"));
    const fields = line?.trim().split(/\s+/);
    if (fields === undefined || fields.length < 5) return null;
    return { soft: parseLimit(fields[3] ?? ""), hard: parseLimit(fields[4] ?? "") };
  } catch {
    return null;
  }
}

/**
 * Makes sure this process (and the children it starts from now on) may open `needed` files:
 * raises the soft limit, and the hard one if allowed. Throws, saying what to do, if it cannot.
 */
export function ensureFileLimit(needed: number): FileLimit | null {
  const current = fileLimit();
  if (current === null || current.soft >= needed) return current;
  const hard = Math.max(current.hard, needed);
  const attempts = [`${needed}:${hard}`, `${Math.min(needed, current.hard)}:${current.hard}`];
  for (const limits of attempts) {
    try {
      execFileSync("prlimit", ["--pid", String(process.pid), `--nofile=${limits}`], { stdio: "ignore" });
      break;
    } catch {
      // Not allowed to raise the hard limit (not root), or no prlimit: try the next, then report.
    }
  }
  const raised = fileLimit();
  if (raised === null || raised.soft < needed) {
    throw new Error(
      `relay bench: needs ${needed} open files, the limit is ${raised?.soft ?? current.soft} (hard ${raised?.hard ?? current.hard}); ` +
        `run with \`ulimit -n ${needed}\` or fewer sockets (--sockets, --crowd)`,
    );
  }
  return raised;
}
