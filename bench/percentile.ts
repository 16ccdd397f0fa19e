// The nearest-rank percentile that the browser benchmarks report (median = 50, p90 = 90).

/** `sorted` ascending; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}
