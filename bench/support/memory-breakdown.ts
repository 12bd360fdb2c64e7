// Reads the gateway's memory through bench/support/memory-probe.ts, which the
// benchmark preloads into it: one SIGUSR2, one JSON line in a file.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

type Snapshot = Record<string, number>;

export interface MemoryBreakdown {
  readonly before: Snapshot;
  readonly after: Snapshot | undefined;
  /** One line: RSS, heap used, external, and the young and old spaces, before -> after the collection. */
  readonly summary: string;
}

const PROBE = join(import.meta.dirname, "memory-probe.ts");
const fileIn = (dir: string): string => join(dir, "memory-probe.jsonl");

/** Environment for a gateway that carries the probe (with --expose-gc for the full collection). */
export function memoryProbeEnv(dir: string): Record<string, string> {
  // gatewayNodeArgs() reads BENCH_GATEWAY_IMPORT from this process's environment.
  process.env.BENCH_GATEWAY_IMPORT ??= PROBE;
  // BENCH_GATEWAY_NODE_OPTIONS: V8 or Node flags to try on the gateway (e.g. --max-semi-space-size=16).
  const extra = process.env.BENCH_GATEWAY_NODE_OPTIONS ?? "";
  return { NODE_OPTIONS: `--expose-gc ${extra}`.trim(), BENCH_MEMORY_FILE: fileIn(dir) };
}

/** Signals the probe and waits (at most 10 s) for its line. */
export async function memoryBreakdown(pid: number, dir: string): Promise<MemoryBreakdown | undefined> {
  if (process.env.BENCH_GATEWAY_IMPORT !== PROBE) return undefined;
  const file = fileIn(dir);
  const lines = (): string[] => (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : []);
  const seen = lines().length;
  process.kill(pid, "SIGUSR2");
  for (let waited = 0; waited < 10_000; waited += 50) {
    const all = lines();
    if (all.length > seen) {
      const { before, after } = JSON.parse(all.at(-1)!) as { before: Snapshot; after?: Snapshot };
      const pick = (s: Snapshot | undefined, key: string): string => (s?.[key] === undefined ? "-" : String(s[key]));
      const pair = (label: string, key: string): string => `${label} ${pick(before, key)} -> ${pick(after, key)}`;
      const summary = [
        pair("rss", "rss"),
        pair("heap used", "heapUsed"),
        pair("heap total", "heapTotal"),
        pair("external", "external"),
        pair("young", "new_spaceSize"),
        pair("old", "old_spaceSize"),
      ].join(", ");
      return { before, after, summary };
    }
    await sleep(50);
  }
  return undefined;
}
