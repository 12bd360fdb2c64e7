// Preloaded (--import, after tsx) into every gateway the DoD runner starts,
// which it also starts with --expose-gc: an instrument of the runner, not
// part of the gateway. On SIGUSR2 it collects all garbage and appends the
// process's memory right after to the file named by DOD_HEAP_PROBE_FILE, one
// JSON line per signal. The soak judges leaks on these: the heap after a full
// collection is what the process keeps alive, which RSS is not (V8 lets
// garbage pile up and gives memory back to the system when it likes).
import { appendFileSync } from "node:fs";

/** One line of the probe's file. */
export interface HeapSample {
  /** Epoch ms. */
  readonly at: number;
  /** JS heap in use after the collection, bytes. */
  readonly heapUsed: number;
  /** Memory of C++ objects bound to JS objects (Buffers and the like), bytes. */
  readonly external: number;
  readonly rss: number;
}

const file = process.env.DOD_HEAP_PROBE_FILE;
const gc = (globalThis as { gc?: () => void }).gc;
// Registered whatever the setup: without a handler SIGUSR2 would end the process.
process.on("SIGUSR2", () => {
  if (!file || !gc) return;
  gc();
  const { heapUsed, external, rss } = process.memoryUsage();
  const sample: HeapSample = { at: Date.now(), heapUsed, external, rss };
  appendFileSync(file, `${JSON.stringify(sample)}\n`, { mode: 0o600 });
});
