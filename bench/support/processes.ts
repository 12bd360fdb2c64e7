import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";

/**
 * Starts a TypeScript entry as its own process and waits for the first stdout
 * line matching `ready`. `nodeArgs` go before the entry (e.g. `--cpu-prof`,
 * which NODE_OPTIONS refuses). `onLine` sees every stdout line, before and
 * after the ready one.
 */
export async function startProcess(
  entry: string,
  env: Record<string, string>,
  ready: (line: string) => number | undefined,
  nodeArgs: readonly string[] = [],
  onLine?: (line: string) => void,
): Promise<{ child: ChildProcess; port: number; stop(graceMs?: number): Promise<ExitStatus> }> {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", entry], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${entry} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      onLine?.(line);
      const found = ready(line);
      if (found !== undefined) resolve(found);
    });
  });
  return {
    child,
    port,
    stop: (graceMs = 5_000) =>
      new Promise<ExitStatus>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null)
          return resolve({ code: child.exitCode, signal: child.signalCode });
        child.once("exit", (code, signal) => resolve({ code, signal }));
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), graceMs).unref();
      }),
  };
}

/** How a process ended: `signal` is "SIGKILL" when it did not stop within its grace time. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
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

/** Pids of this process's own children still alive (Linux), e.g. to kill what a failed run left behind. */
export function ownChildren(): number[] {
  const pids: number[] = [];
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    try {
      const list = readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8").trim();
      if (list) pids.push(...list.split(" ").map(Number));
    } catch {
      // the thread ended while we looked
    }
  }
  return pids;
}
