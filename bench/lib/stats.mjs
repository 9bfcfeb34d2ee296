// Small numeric helpers for the report.

/** The p-th percentile (0..100) of the first `count` values of `values`, sorted in place. */
export function percentile(sorted, count, p) {
  if (count === 0) return Number.NaN;
  const rank = Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1));
  return sorted[rank];
}

/** p50, p99 and max of the first `count` latencies (ms); sorts them in place. */
export function latencySummary(latencies, count) {
  const view = latencies.subarray(0, count).sort();
  return {
    p50: percentile(view, count, 50),
    p99: percentile(view, count, 99),
    max: count === 0 ? Number.NaN : view[count - 1],
  };
}

/** The median of a list of numbers (NaN-free input). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
