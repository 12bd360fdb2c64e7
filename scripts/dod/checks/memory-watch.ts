import { readFile } from "node:fs/promises";
import type { HeapSample } from "../heap-probe.ts";
import type { GatewayPart } from "../processes.ts";
import { percentile } from "../stats.ts";

const RSS_EVERY_MS = 2_000;
const HEAP_EVERY_MS = 10_000;

/** Growth from the first third of a run's samples (median) to its last third (median). */
export interface Drift {
  readonly startMb: number;
  readonly endMb: number;
  /** NaN when either third has no sample. */
  readonly growthPct: number;
}

export interface MemoryDrift {
  /** JS heap kept alive: sampled right after a full collection (heap-probe.ts). */
  readonly heap: Drift;
  /** Resident memory right after those collections. */
  readonly rssAfterGc: Drift;
  /** Resident memory every 2 s, whatever V8 was doing. */
  readonly rss: Drift;
  /** RSS every 20 s since the start, for the log. */
  readonly trace: string;
}

/**
 * Watches a gateway's memory through a run: VmRSS every 2 s, and every 10 s
 * a full collection through the heap probe (SIGUSR2) with the heap and RSS
 * right after it. A leak is memory kept alive, so it is judged on the heap
 * after collection; RSS alone swings by tens of percent within minutes as
 * V8 lets garbage pile up and returns memory when it likes (measured: the
 * lowest RSS of a 3-minute soak's first half 210 MB, of its second 302 MB,
 * in a CI run; 360 and 376 MB in a local run of the same code).
 */
export class MemoryWatch {
  readonly #started = Date.now();
  readonly #rss: Array<{ at: number; mb: number }> = [];
  readonly #timers: NodeJS.Timeout[];

  constructor(private readonly gw: GatewayPart) {
    this.#timers = [
      setInterval(() => {
        readRssMb(gw.part.pid).then(
          (mb) => this.#rss.push({ at: Date.now(), mb }),
          () => undefined,
        );
      }, RSS_EVERY_MS),
      setInterval(() => {
        try {
          process.kill(gw.part.pid, "SIGUSR2");
        } catch {
          // the gateway is gone: the check fails on its own
        }
      }, HEAP_EVERY_MS),
    ];
  }

  /** Stops sampling. */
  halt(): void {
    this.#timers.forEach(clearInterval);
  }

  /** Stops sampling and gives the drift of what was sampled from `fromMs` after the start on. */
  async stop(fromMs: number): Promise<MemoryDrift> {
    this.halt();
    const from = this.#started + fromMs;
    const heapSamples = await readHeapSamples(this.gw.heapProbeFile);
    const after = heapSamples.filter((s) => s.at >= from);
    const mb = (bytes: number): number => bytes / 1024 / 1024;
    const trace = this.#rss
      .filter((_, i) => i % 10 === 0)
      .map((s) => `${Math.round((s.at - this.#started) / 1000)}s ${Math.round(s.mb)}`)
      .join(", ");
    return {
      heap: drift(after.map((s) => mb(s.heapUsed))),
      rssAfterGc: drift(after.map((s) => mb(s.rss))),
      rss: drift(this.#rss.filter((s) => s.at >= from).map((s) => s.mb)),
      trace,
    };
  }
}

/** Median of the first third against the median of the last third, in sampling order. */
export function drift(values: readonly number[]): Drift {
  const third = Math.floor(values.length / 3);
  const startMb = percentile(values.slice(0, third), 50);
  const endMb = percentile(values.slice(values.length - third), 50);
  return { startMb, endMb, growthPct: third === 0 ? Number.NaN : ((endMb - startMb) / startMb) * 100 };
}

/** The samples the heap probe wrote to `file`, oldest first; none when it wrote nothing yet. */
export async function readHeapSamples(file: string): Promise<HeapSample[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as HeapSample);
}

async function readRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no VmRSS for ${pid}`);
  return kb / 1024;
}
