// The simulator's control API as the WhatsApp benchmarks use it: pre-linked
// accounts written into a gateway data dir's session store, faults, outages, counters.
import { BufferJSON } from "@whiskeysockets/baileys";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { SqliteSessionStore } from "../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import { CREDS_KEY } from "../../src/adapters/messaging/baileys/session-writes.ts";
import { toStoredValue } from "../../src/adapters/messaging/baileys/stored-values.ts";
import { SESSIONS_DB } from "../../src/app/composition/session-stores.ts";
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
  try {
    await mapConcurrent(sessions, concurrency, (session, i) => writeLogin(dataDir, session, accounts[i]!.creds));
  } finally {
    await closeLoginStores();
  }
  return accounts.map((a) => a.phone);
}

async function writeLogin(dataDir: string, session: string, creds: unknown): Promise<void> {
  // The control API answers in BufferJSON form: revived, it is the creds object Baileys would hand the gateway.
  const store = await loginStore(dataDir);
  const revived = JSON.parse(JSON.stringify(creds), BufferJSON.reviver) as unknown;
  await store.setMany(session, new Map([[CREDS_KEY, toStoredValue(revived)]]));
}

/** The gateway's own session store in `dataDir` (sessions.db), one per data dir for the whole seeding. */
const stores = new Map<string, Promise<SqliteSessionStore>>();
function loginStore(dataDir: string): Promise<SqliteSessionStore> {
  let store = stores.get(dataDir);
  if (!store) {
    store = mkdir(dataDir, { recursive: true, mode: 0o700 }).then(
      () => new SqliteSessionStore({ path: join(dataDir, SESSIONS_DB) }),
    );
    stores.set(dataDir, store);
  }
  return store;
}

/** Closes the stores seeding opened, so the gateway finds the data dir to itself. */
async function closeLoginStores(): Promise<void> {
  const open = [...stores.values()];
  stores.clear();
  for (const store of open) await (await store).close();
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
