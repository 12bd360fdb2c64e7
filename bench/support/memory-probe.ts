// Preloaded into a gateway by BENCH_GATEWAY_IMPORT (an instrument of the
// benchmarks, not of the gateway): on SIGUSR2 it appends one JSON line to
// BENCH_MEMORY_FILE with where the memory is, before and right after a full
// collection (when --expose-gc is on), and V8's heap spaces. That tells live
// objects from garbage V8 has not collected yet, and the young generation
// from the old one, which RSS alone cannot.
import { appendFileSync } from "node:fs";
import { getHeapSpaceStatistics } from "node:v8";

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
});
