// How much a process's resident memory grows while it does one thing: VmRSS
// from /proc read just before, then every few ms until stopped. The peak
// matters, not the end: a file buffered whole and then freed shows only as a
// peak.
import { readFileSync } from "node:fs";

export interface RssGrowth {
  /** VmRSS just before, MB. */
  beforeMb: number;
  peakMb: number;
  /** peak - before, MB. */
  growthMb: number;
  samples: number;
}

export interface RssSampler {
  /** Takes a last sample and stops; throws if a read failed (the process ended). */
  stop(): RssGrowth;
  /** Stops without a result (the work failed). */
  cancel(): void;
}

/**
 * Starts sampling `pid` every `everyMs`. Reads are synchronous (a small
 * /proc file, tens of microseconds), so the baseline is taken at the call
 * and no two reads overlap.
 */
export function sampleRss(pid: number, everyMs = 20): RssSampler {
  const beforeKb = vmRssKb(pid);
  let peakKb = beforeKb;
  let samples = 1;
  let failure: unknown;
  const take = (): void => {
    try {
      const kb = vmRssKb(pid);
      samples++;
      if (kb > peakKb) peakKb = kb;
    } catch (error) {
      // Kept for stop(): thrown from a timer it would crash the benchmark before its cleanup.
      failure ??= error;
      clearInterval(timer);
    }
  };
  const timer = setInterval(take, everyMs);
  return {
    cancel: () => clearInterval(timer),
    stop() {
      clearInterval(timer);
      take();
      if (failure !== undefined) throw failure;
      const mb = (kb: number): number => kb / 1024;
      return { beforeMb: mb(beforeKb), peakMb: mb(peakKb), growthMb: mb(peakKb - beforeKb), samples };
    },
  };
}

function vmRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb);
}
