/** Nearest-rank percentile (p in 0..100) of `values`; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly p95: number;
  readonly max: number;
}

/** min / median / p95 / max, rounded to whole milliseconds. */
export function summarize(values: readonly number[]): Summary {
  const r = (v: number) => (Number.isNaN(v) ? Number.NaN : Math.round(v));
  return {
    n: values.length,
    min: r(percentile(values, 0)),
    median: r(percentile(values, 50)),
    p95: r(percentile(values, 95)),
    max: r(percentile(values, 100)),
  };
}

export const round = (value: number, digits = 0): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};
