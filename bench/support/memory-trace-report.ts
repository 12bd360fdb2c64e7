// BENCH_MEMORY_TRACE=DIR: the gateway, the raw Baileys process and the bare
// upload server of the media benchmark each carry bench/support/memory-trace.ts, and after the run
// each measured step is shown as process.memoryUsage() just before it and at
// its RSS peak: where the growth went (V8 heap, buffers, the rest).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { printTable } from "./stats.ts";

const TRACE = join(import.meta.dirname, "memory-trace.ts");

interface TraceLine {
  at: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  newSpace: number;
  oldSpace: number;
}

/** One measured step of one process: its label, its trace file, when it ran. */
export interface TracedStep {
  label: string;
  traceFile: string;
  window: { from: number; to: number };
}

/** The trace directory, or undefined when tracing is off. */
export const memoryTraceDir = (): string | undefined => process.env.BENCH_MEMORY_TRACE || undefined;

/**
 * Environment for the gateway: the trace preloaded (gatewayNodeArgs() reads
 * BENCH_GATEWAY_IMPORT from this process's environment) and its file.
 */
export function gatewayTraceEnv(dir: string): Record<string, string> {
  process.env.BENCH_GATEWAY_IMPORT ??= TRACE;
  return { BENCH_MEMORY_TRACE_FILE: join(dir, "gateway.jsonl") };
}

/** Environment for the bare upload server (it imports the trace itself). */
export const bareTraceEnv = (dir: string): Record<string, string> => ({
  BENCH_MEMORY_TRACE_FILE: join(dir, "bare-upload.jsonl"),
});

/** Environment for the raw process (raw-media.ts imports the trace itself). */
export const rawTraceEnv = (dir: string): Record<string, string> => ({
  BENCH_MEMORY_TRACE_FILE: join(dir, "raw.jsonl"),
});

export function printMemoryTrace(steps: readonly TracedStep[]): void {
  const traces = new Map<string, TraceLine[]>();
  const traceOf = (file: string): TraceLine[] => {
    let lines = traces.get(file);
    if (!lines) {
      lines = existsSync(file)
        ? readFileSync(file, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as TraceLine)
        : [];
      traces.set(file, lines);
    }
    return lines;
  };
  const cell = (before: TraceLine, peak: TraceLine, key: keyof TraceLine): string =>
    `${before[key]} -> ${peak[key]} (${peak[key] - before[key] >= 0 ? "+" : ""}${(peak[key] - before[key]).toFixed(1)})`;
  const rows: string[][] = [];
  for (const step of steps) {
    const lines = traceOf(step.traceFile);
    const before = lines.filter((l) => l.at <= step.window.from).at(-1);
    const during = lines.filter((l) => l.at > step.window.from && l.at <= step.window.to);
    if (!before || during.length === 0) {
      rows.push([step.label, "no trace", "", "", "", "", "", ""]);
      continue;
    }
    const peak = during.reduce((a, b) => (b.rss > a.rss ? b : a));
    const mostBuffers = Math.max(...during.map((l) => l.arrayBuffers));
    rows.push([
      step.label,
      cell(before, peak, "rss"),
      cell(before, peak, "heapUsed"),
      cell(before, peak, "newSpace"),
      cell(before, peak, "oldSpace"),
      cell(before, peak, "arrayBuffers"),
      cell(before, peak, "external"),
      String(mostBuffers),
    ]);
  }
  console.log(
    "\nMemory trace (process.memoryUsage() in the process, every 20 ms): just before each step -> at its RSS peak, MB",
  );
  printTable(
    ["step", "rss", "heap used", "young gen", "old gen", "arrayBuffers", "external", "most arrayBuffers during"],
    rows,
  );
}
