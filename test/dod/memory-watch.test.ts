import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { drift, readHeapSamples } from "../../scripts/dod/checks/memory-watch.ts";
import type { HeapSample } from "../../scripts/dod/heap-probe.ts";
import { tempDir } from "../support/temp-dir.ts";

const root = join(import.meta.dirname, "../..");

describe("the soak's memory drift", () => {
  it("compares the median of the first third with the median of the last", () => {
    expect(drift([100, 100, 100, 105, 105, 105, 110, 110, 110])).toEqual({ startMb: 100, endMb: 110, growthPct: 10 });
  });

  it("is not moved by one dip or one spike in a third", () => {
    expect(drift([100, 60, 100, 100, 100, 100, 100, 180, 100]).growthPct).toBe(0);
  });

  it("has no growth to give from fewer than three samples", () => {
    expect(drift([100, 200]).growthPct).toBeNaN();
  });
});

describe("the heap probe the DoD runner preloads", () => {
  it("writes the memory right after a full collection each time the process gets SIGUSR2", async () => {
    const dir = await tempDir("heap-probe-");
    try {
      const file = join(dir.path, "samples.jsonl");
      const child = spawn(
        process.execPath,
        [
          "--expose-gc",
          "--import",
          "tsx",
          "--import",
          join(root, "scripts/dod/heap-probe.ts"),
          "-e",
          "console.log('ready'); setInterval(() => {}, 1000)",
        ],
        { cwd: root, env: { ...process.env, DOD_HEAP_PROBE_FILE: file }, stdio: ["ignore", "pipe", "ignore"] },
      );
      // Preloads run before the script: once it speaks, the handler is there (SIGUSR2 kills a process without one).
      await new Promise<void>((resolve, reject) => {
        child.stdout.once("data", () => resolve());
        child.once("exit", (code) => reject(new Error(`exited ${code} before it was ready`)));
      });
      const lines = (): Promise<HeapSample[]> => readHeapSamples(file);
      try {
        child.kill("SIGUSR2");
        await expect.poll(async () => (await lines()).length, { timeout: 5_000 }).toBe(1);
        child.kill("SIGUSR2");
        await expect.poll(async () => (await lines()).length, { timeout: 5_000 }).toBe(2);
      } finally {
        child.kill("SIGKILL");
      }
      const [sample] = await lines();
      expect(sample!.heapUsed).toBeGreaterThan(0);
      expect(sample!.rss).toBeGreaterThan(sample!.heapUsed);
      expect(Math.abs(sample!.at - Date.now())).toBeLessThan(60_000);
    } finally {
      await dir.remove();
    }
  });
});
