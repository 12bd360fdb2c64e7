export interface Summary {
  n: number;
  min: number;
  median: number;
  p95: number;
  max: number;
}

/** Nearest-rank percentiles: with N=10, p95 is the largest sample. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { n: sorted.length, min: sorted[0]!, median: rank(0.5), p95: rank(0.95), max: sorted.at(-1)! };
}

export const fmtSummary = (s: Summary, digits = 1): string =>
  `${s.min.toFixed(digits)} / ${s.median.toFixed(digits)} / ${s.p95.toFixed(digits)} / ${s.max.toFixed(digits)}`;

/** "met" / "MISSED" beside a figure, so a reader sees the verdict at a glance. */
export const verdict = (ok: boolean): string => (ok ? "met" : "MISSED");

/** A markdown table, columns padded so it also reads well in a terminal. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(row));
}

/**
 * The runtime a benchmark ran on, as its first line: figures from different
 * Node versions (20 and 24 are both supported) are not comparable.
 */
export function printRuntime(): void {
  console.log(`runtime: Node ${process.version} (${process.platform} ${process.arch})`);
}
