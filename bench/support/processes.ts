import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";

/**
 * Starts a TypeScript entry as its own process and waits for the first stdout
 * line matching `ready`. `nodeArgs` go before the entry (e.g. `--cpu-prof`,
 * which NODE_OPTIONS refuses).
 */
export async function startProcess(
  entry: string,
  env: Record<string, string>,
  ready: (line: string) => number | undefined,
  nodeArgs: readonly string[] = [],
): Promise<{ child: ChildProcess; port: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", entry], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${entry} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const found = ready(line);
      if (found !== undefined) resolve(found);
    });
  });
  return {
    child,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}

/** Resident memory of a process in MB, from /proc (Linux). */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

export const portFromJsonLine =
  (key: string) =>
  (line: string): number | undefined => {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (key in parsed && typeof parsed.port === "number") return parsed.port;
    } catch {
      // not a JSON line
    }
    return undefined;
  };

/** CPU time a process has used so far (user + system, all its threads), in ms, from /proc (Linux). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th, in clock ticks.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

/** USER_HZ: 100 on every Linux we run on (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS_PER_S = 100;
