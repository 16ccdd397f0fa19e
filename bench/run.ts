// Runs every benchmark under bench/, prints one table, writes bench/results.json.
//
//   npx tsx bench/run.ts [--only name,name]      (make bench)
//
// bench/results.json is ONE object: figure name → { value, unit, baseline?, ratio? }; a run with
// --only replaces the figures of the benchmarks it ran and keeps the rest. Goals are
// printed beside the figures, never asserted: a missed goal is information, not a failure. The
// exit code is non-zero only when a benchmark crashed or timed out (its figures are then missing).
// A new benchmark exports a `Benchmark` (bench/types.ts) and appends itself to BENCHMARKS.

import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { bundleSizeBenchmark } from "./bundle-size.js";
import { fileTransferBenchmark } from "./file-transfer.js";
import { joinLatencyBenchmark } from "./join-latency.js";
import { linkVideoBenchmark } from "./link-video.js";
import { natBenchmark } from "./nat.js";
import { relayBenchmark } from "./relay-load.js";
import { rnnoiseBenchmark } from "./rnnoise.js";
import { watchTogetherBenchmark } from "./watch-together.js";
import type { Benchmark, Figure, Goal } from "./types.js";

const BENCHMARKS: readonly Benchmark[] = [bundleSizeBenchmark, relayBenchmark, joinLatencyBenchmark, fileTransferBenchmark, rnnoiseBenchmark, watchTogetherBenchmark, natBenchmark, linkVideoBenchmark];

const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url));

/** Busy and total CPU time of the whole machine so far, from /proc/stat (null off Linux). */
function machineCpu(): { busy: number; total: number } | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.reduce((sum, value) => sum + value, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    // Not Linux: no machine-wide figure, which only decides whether a warning is printed.
    return null;
  }
}

/** Share of the machine's CPU that was busy over `ms`, 0–1 (null off Linux). */
async function machineBusyShare(ms: number): Promise<number | null> {
  const before = machineCpu();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = machineCpu();
  if (before === null || after === null || after.total === before.total) return null;
  return (after.busy - before.busy) / (after.total - before.total);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function goalMet(goal: Goal, figure: Figure): boolean | null {
  const actual = goal.on === "ratio" ? figure.ratio : figure.value;
  if (actual === undefined || !Number.isFinite(actual)) return null;
  switch (goal.op) {
    case ">=":
      return actual >= goal.target;
    case "<=":
      return actual <= goal.target;
    case "<":
      return actual < goal.target;
    case ">":
      return actual > goal.target;
  }
}

function formatNumber(value: number | undefined): string {
  if (value === undefined) return "—";
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString("en-US");
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function printTable(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  const line = (row: readonly string[]): string =>
    row.map((cell, column) => (column === 0 || column === 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ");
  const [header, ...body] = rows;
  if (header === undefined) return;
  console.log(line(header));
  console.log(widths.map((width) => "-".repeat(width)).join("  "));
  for (const row of body) console.log(line(row));
}

/** bench/results.json as the last run left it, or nothing when it is missing or unreadable. */
function previousResults(): Record<string, Figure> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(RESULTS_PATH, "utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, Figure>) : {};
  } catch {
    // No earlier run (or a broken file): this run's figures are all there is.
    return {};
  }
}

function isFigure(figure: Figure): boolean {
  return (
    Number.isFinite(figure.value) &&
    (figure.baseline === undefined || Number.isFinite(figure.baseline)) &&
    (figure.ratio === undefined || Number.isFinite(figure.ratio))
  );
}

async function main(): Promise<number> {
  const onlyAt = process.argv.indexOf("--only");
  const only = onlyAt >= 0 ? new Set((process.argv[onlyAt + 1] ?? "").split(",")) : null;
  const selected = BENCHMARKS.filter((bench) => only === null || only.has(bench.name));
  if (selected.length === 0) {
    console.error(`no benchmark selected (known: ${BENCHMARKS.map((bench) => bench.name).join(", ")})`);
    return 2;
  }

  // The figures are only as good as the machine is quiet: say how busy it was just before.
  const cores = availableParallelism();
  const busyBefore = await machineBusyShare(1000);
  const busyText = busyBefore === null ? "unknown" : `${(busyBefore * 100).toFixed(0)} %`;
  console.error(`bench: machine CPU busy before the run: ${busyText} of ${cores} cores`);
  if (busyBefore !== null && busyBefore > 0.2) {
    console.error("bench: WARNING other work is running on this machine; expect noisy figures (ratios hold up better than absolute values)");
  }

  const results: Record<string, Figure> = {};
  const rows: string[][] = [["figure", "value", "unit", "baseline", "ratio", "goal", "result"]];
  const crashed: string[] = [];
  for (const bench of selected) {
    const started = performance.now();
    console.error(`bench: ${bench.name} …`);
    let figures: Record<string, Figure>;
    try {
      figures = await withTimeout(bench.run(), bench.timeoutMs, bench.name);
      const invalid = Object.entries(figures).filter(([, figure]) => !isFigure(figure));
      if (invalid.length > 0) throw new Error(`non-finite figures: ${invalid.map(([name]) => name).join(", ")}`);
    } catch (error) {
      console.error(`bench: ${bench.name} CRASHED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      crashed.push(bench.name);
      rows.push([`${bench.name} (crashed)`, "—", "", "", "", "", "CRASH"]);
      continue;
    }
    console.error(`bench: ${bench.name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    for (const [name, figure] of Object.entries(figures)) {
      results[name] = figure;
      const goal = bench.goals.find((candidate) => candidate.figure === name);
      const met = goal === undefined ? null : goalMet(goal, figure);
      rows.push([
        name,
        formatNumber(figure.value),
        figure.unit,
        formatNumber(figure.baseline),
        figure.ratio === undefined ? "—" : figure.ratio.toFixed(2),
        goal === undefined ? "" : `${goal.on === "ratio" ? "ratio " : ""}${goal.op} ${goal.target}`,
        goal === undefined ? "" : met === null ? "n/a" : met ? "pass" : "FAIL",
      ]);
    }
  }

  console.log("");
  printTable(rows);
  console.log(`\nmachine CPU busy just before the run: ${busyText} of ${cores} cores (other work makes the figures noisy)`);
  // A partial run (--only) updates its own figures and keeps the others from the last full run.
  const kept = only === null ? {} : previousResults();
  writeFileSync(RESULTS_PATH, `${JSON.stringify({ ...kept, ...results }, null, 2)}\n`);
  console.log(`\nwrote ${RESULTS_PATH}${crashed.length > 0 ? ` (without the figures of: ${crashed.join(", ")})` : ""}`);
  console.log("Goals are reported, not enforced; only a crashed benchmark makes this exit non-zero.");
  return crashed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
