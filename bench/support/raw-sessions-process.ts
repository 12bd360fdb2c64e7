// The benchmark's end of bench/support/raw-sessions.ts: starts that process
// on a file of linked accounts, sends it commands and waits for its events,
// each wait bounded; a wait that times out reports how far the process got.
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { RawAccount, RawCommand } from "./raw-sessions.ts";

const ENTRY = join(import.meta.dirname, "raw-sessions.ts");

type RawEvent = { event: string } & Record<string, unknown>;

/** `C`: the commands its entry understands (raw-sessions.ts's by default; each entry also takes status and stop). */
export interface RawSessionsProcess<C extends { cmd: string } = RawCommand> {
  readonly pid: number;
  /** Resolves with the next `event` line (or one already received and not yet taken); throws after `timeoutMs`. */
  expect(event: string, timeoutMs: number): Promise<RawEvent>;
  command(command: C): void;
  /** Stops every socket and the process; with `save`, its creds go back to the accounts file first. */
  stop(save?: boolean): Promise<void>;
  /** SIGKILL now, for an exit handler. */
  kill(): void;
}

/** Writes the accounts file the raw process reads (creds in BufferJSON form, as the control API gives them). */
export async function writeRawAccounts(file: string, accounts: readonly RawAccount[]): Promise<void> {
  await writeFile(file, JSON.stringify(accounts), { mode: 0o600 });
}

/**
 * Starts the raw process; it connects every account at once. Resolves with
 * the process and the time from spawn to its "open" event (all sockets open).
 * `entry`: another raw program speaking the same protocol (e.g. raw-media.ts).
 */
export async function startRawSessions<C extends { cmd: string } = RawCommand>(
  wsUrl: string,
  accountsFile: string,
  env: Record<string, string>,
  openTimeoutMs: number,
  entry = ENTRY,
): Promise<{ proc: RawSessionsProcess<C>; openMs: number }> {
  const start = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    env: { ...process.env, ...env, RAW_WS: wsUrl, RAW_ACCOUNTS_FILE: accountsFile },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const received: RawEvent[] = [];
  const waiters = new Set<{ event: string; resolve(e: RawEvent): void; reject(error: Error): void }>();
  let exited = false;
  /** Kept, so a failure between two waits fails the next one. */
  let failure: Error | undefined;
  const fail = (error: Error): void => {
    failure ??= error;
    for (const waiter of waiters) waiter.reject(error);
    waiters.clear();
  };
  child.once("exit", (code, signal) => {
    exited = true;
    fail(new Error(`the raw Baileys process exited (${code ?? signal})`));
  });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let event: RawEvent;
    try {
      event = JSON.parse(line) as RawEvent;
    } catch {
      process.stderr.write(`raw Baileys process: ${line}\n`);
      return;
    }
    if (event.event === "error") return fail(new Error(`raw Baileys process: ${String(event.message)}`));
    for (const waiter of waiters) {
      if (waiter.event !== event.event) continue;
      waiters.delete(waiter);
      return waiter.resolve(event);
    }
    received.push(event);
  });

  const command = (cmd: C | RawCommand): void => void child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  const next = (event: string, timeoutMs: number): Promise<RawEvent> => {
    const i = received.findIndex((e) => e.event === event);
    if (i >= 0) return Promise.resolve(received.splice(i, 1)[0]!);
    if (failure) return Promise.reject(failure);
    return new Promise<RawEvent>((resolve, reject) => {
      const waiter = {
        event,
        resolve: (e: RawEvent) => (clearTimeout(timer), resolve(e)),
        reject: (error: Error) => (clearTimeout(timer), reject(error)),
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for "${event}" from the raw Baileys process`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  };
  const expect = async (event: string, timeoutMs: number): Promise<RawEvent> => {
    try {
      return await next(event, timeoutMs);
    } catch (error) {
      if (failure) throw error;
      // Say how far it got: the status of every socket and of the round.
      command({ cmd: "status" });
      const status = await next("status", 5_000).catch(() => undefined);
      const { event: _, ...counts } = status ?? { event: "", status: "no answer" };
      throw new Error(`${(error as Error).message}; reached: ${JSON.stringify(counts)}`);
    }
  };

  const proc: RawSessionsProcess<C> = {
    pid: child.pid!,
    expect,
    command,
    async stop(save = false) {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      command({ cmd: "stop", save });
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await gone;
      clearTimeout(timer);
    },
    kill() {
      if (!exited) child.kill("SIGKILL");
    },
  };
  try {
    await expect("open", openTimeoutMs);
  } catch (error) {
    proc.kill();
    throw error;
  }
  return { proc, openMs: performance.now() - start };
}
