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
 * disk store reads, so the gateway opens it without a QR.
 */
export async function seedSession(
  sim: SimEndpoints,
  dataDir: string,
  session: string,
  phone = benchPhone(),
): Promise<string> {
  // The control API already answers in BufferJSON form: written as is, it is what BufferJSON.replacer would write.
  const account = await simCall<{ creds: unknown }>(sim, "POST", "/control/accounts", { phone });
  const dir = join(dataDir, "sessions", session);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, "creds.json"), JSON.stringify(account.creds), { mode: 0o600 });
  return phone;
}

export async function accountCounters(sim: SimEndpoints, phone: string): Promise<AccountCounters> {
  const stats = await simCall<{ accounts: Record<string, AccountCounters> }>(sim, "GET", "/control/stats");
  return stats.accounts[phone] ?? { connections: 0, messagesReceived: 0, uniqueIds: 0, duplicates: 0 };
}
