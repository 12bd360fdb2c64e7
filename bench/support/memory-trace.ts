// Preloaded into a gateway by BENCH_GATEWAY_IMPORT (an instrument of the
// benchmarks, not of the gateway): with BENCH_MEMORY_TRACE_FILE set, appends
// process.memoryUsage() every 20 ms as one JSON line, so a peak of RSS seen
// from outside can be split into V8 heap (young and old generation), buffers
// (arrayBuffers: socket and file chunks, live or waiting for a collection)
// and the rest (native).
import { appendFileSync } from "node:fs";
import { getHeapSpaceStatistics } from "node:v8";

const file = process.env.BENCH_MEMORY_TRACE_FILE;
const everyMs = Number(process.env.BENCH_MEMORY_TRACE_MS ?? 20);
const mb = (bytes: number): number => Math.round((bytes / 1_048_576) * 10) / 10;

if (file) {
  setInterval(() => {
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    const heapSpaces = getHeapSpaceStatistics();
    const space = (name: string): number => mb(heapSpaces.find((s) => s.space_name === name)?.space_size ?? 0);
    const line = { at: Date.now(), rss: mb(rss), heapTotal: mb(heapTotal), heapUsed: mb(heapUsed) };
    const buffers = { external: mb(external), arrayBuffers: mb(arrayBuffers) };
    // The young generation grows (up to twice --max-semi-space-size) when allocation is fast, and stays grown.
    const spaces = { newSpace: space("new_space"), oldSpace: space("old_space") };
    appendFileSync(file, `${JSON.stringify({ ...line, ...buffers, ...spaces })}\n`, { mode: 0o600 });
  }, everyMs).unref();
}
