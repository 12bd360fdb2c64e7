// Preloaded into a gateway by BENCH_GATEWAY_IMPORT (an instrument of the
// benchmarks, not of the gateway): on SIGUSR2 it appends one JSON line to
// BENCH_MEMORY_FILE with where the memory is, before and right after a full
// collection (when --expose-gc is on), and V8's heap spaces (and, with
// BENCH_HEAP_SNAPSHOT_DIR, a heap snapshot). That tells live
// objects from garbage V8 has not collected yet, and the young generation
// from the old one, which RSS alone cannot.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";

const file = process.env.BENCH_MEMORY_FILE;
const gc = (globalThis as { gc?: () => void }).gc;
const mb = (bytes: number): number => Math.round((bytes / 1_048_576) * 10) / 10;

function snapshot(): Record<string, number> {
  const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [`${s.space_name}Size`, mb(s.space_size)] as const),
  );
  return {
    rss: mb(rss),
    heapTotal: mb(heapTotal),
    heapUsed: mb(heapUsed),
    external: mb(external),
    arrayBuffers: mb(arrayBuffers),
    ...spaces,
  };
}

process.on("SIGUSR2", () => {
  if (!file) return;
  const before = snapshot();
  gc?.();
  const after = gc ? snapshot() : undefined;
  appendFileSync(file, `${JSON.stringify({ at: Date.now(), node: process.version, before, after })}\n`, {
    mode: 0o600,
  });
  // BENCH_HEAP_SNAPSHOT_DIR: a heap snapshot too, after the line (it holds the loop for seconds: not for runs
  // whose timings count). bench/support/heap-summary.ts compares two.
  const dir = process.env.BENCH_HEAP_SNAPSHOT_DIR;
  if (dir) writeHeapSnapshot(join(dir, `gateway-${process.pid}-${Date.now()}.heapsnapshot`));
});
