// The simulator's control API as the WhatsApp benchmarks use it: pre-linked
// accounts dropped into a gateway data dir, faults, outages, counters.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SimEndpoints } from "../baileys-raw.bench.ts";

export interface AccountCounters {
  connections: number;
  messagesReceived: number;
  uniqueIds: number;
  duplicates: number;
  /** IQs the account sent, by `xmlns:type:child`. */
  iqs?: Record<string, number>;
}

export async function simCall<T = unknown>(
  sim: SimEndpoints,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${sim.control}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`simulator ${method} ${path} -> ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

let seq = 0;

/** A fresh fictional phone per account, unique across the processes of one run. */
export function benchPhone(): string {
  return `1556${String(process.pid % 100_000).padStart(5, "0")}${String(++seq).padStart(3, "0")}`;
}

/**
 * Links an account on the simulator and drops its login into
 * `dataDir/sessions/<session>/creds.json`, the Baileys auth-folder layout the
 * gateway upgrades into sessions.db at start, so it opens without a QR.
 */
export async function seedSession(
  sim: SimEndpoints,
  dataDir: string,
  session: string,
  phone = benchPhone(),
): Promise<string> {
  const [account] = await linkAccounts(sim, [phone]);
  await writeLogin(dataDir, session, account!.creds);
  return phone;
}

/** A linked account as POST /control/accounts returns it: creds in BufferJSON form. */
export interface LinkedAccount {
  phone: string;
  creds: unknown;
}

/**
 * Links one account per phone, `concurrency` control calls in flight: the
 * simulator answers each in a few ms, so a thousand take seconds, where one
 * after another would pay a round trip each.
 */
export async function linkAccounts(
  sim: SimEndpoints,
  phones: readonly string[],
  concurrency = 16,
): Promise<LinkedAccount[]> {
  return mapConcurrent(phones, concurrency, async (phone) => {
    const account = await simCall<{ creds: unknown }>(sim, "POST", "/control/accounts", { phone });
    return { phone, creds: account.creds };
  });
}

/** {@link seedSession} for many sessions at once; returns each session's phone, in the order of `sessions`. */
export async function seedSessions(
  sim: SimEndpoints,
  dataDir: string,
  sessions: readonly string[],
  concurrency = 16,
): Promise<string[]> {
  const accounts = await linkAccounts(
    sim,
    sessions.map(() => benchPhone()),
    concurrency,
  );
  await mapConcurrent(sessions, concurrency, (session, i) => writeLogin(dataDir, session, accounts[i]!.creds));
  return accounts.map((a) => a.phone);
}

async function writeLogin(dataDir: string, session: string, creds: unknown): Promise<void> {
  // The control API already answers in BufferJSON form: written as is, it is what BufferJSON.replacer would write.
  const dir = join(dataDir, "sessions", session);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, "creds.json"), JSON.stringify(creds), { mode: 0o600 });
}

/** Runs `task` on every item with at most `concurrency` running; results in the order of `items`. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

export async function accountCounters(sim: SimEndpoints, phone: string): Promise<AccountCounters> {
  const accounts = await allAccountCounters(sim);
  return accounts[phone] ?? { connections: 0, messagesReceived: 0, uniqueIds: 0, duplicates: 0 };
}

/** Every account's counters in one control call (by phone), however many accounts there are. */
export async function allAccountCounters(sim: SimEndpoints): Promise<Record<string, AccountCounters>> {
  const stats = await simCall<{ accounts: Record<string, AccountCounters> }>(sim, "GET", "/control/stats");
  return stats.accounts;
}

/** Closes every socket the simulator holds at once (Baileys sees 428); returns how many it closed. */
export async function dropAllConnections(sim: SimEndpoints): Promise<number> {
  return (await simCall<{ affected: number }>(sim, "POST", "/control/fault", { kind: "close" })).affected;
}
