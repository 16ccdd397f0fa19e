// What a benchmark hands to bench/run.ts: figures (written to bench/results.json as they are)
// and goals (printed next to them, never asserted: benchmarks report, they do not fail CI).

/** One line of bench/results.json. */
export interface Figure {
  readonly value: number;
  readonly unit: string;
  /** The same figure for the baseline the benchmark compares against. */
  readonly baseline?: number;
  /** value / baseline. */
  readonly ratio?: number;
}

export interface Goal {
  readonly figure: string;
  /** Which number the goal is about. */
  readonly on: "value" | "ratio";
  readonly op: ">=" | "<=" | "<" | ">";
  readonly target: number;
}

export interface Benchmark {
  /** Short name, for `--only` and the progress lines. */
  readonly name: string;
  /** Runs the benchmark; throws if it cannot produce its figures. */
  run(): Promise<Record<string, Figure>>;
  readonly goals: readonly Goal[];
  /** run.ts gives up (and reports a crash) after this long. */
  readonly timeoutMs: number;
}
