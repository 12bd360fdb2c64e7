import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BufferJSON } from "@whiskeysockets/baileys";
import { SqliteSessionStore } from "../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import type { WhatsAppSimulator } from "../fakes/whatsapp/index.ts";

/**
 * Pre-links a WhatsApp account on the simulator and drops its login into a
 * gateway data dir the way an operator drops in a Baileys auth folder
 * (`sessions/<id>/creds.json`, the layout of the store before sessions.db):
 * the gateway adopts it at start (the upgrade into sessions.db).
 */
export async function seedLinkedSession(
  sim: WhatsAppSimulator,
  dataDir: string,
  session: string,
  phone: string,
): Promise<string> {
  const account = sim.provisionAccount({ phone });
  const dir = join(dataDir, "sessions", session);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, "creds.json"), JSON.stringify(account.creds, BufferJSON.replacer), { mode: 0o600 });
  return account.jid;
}

/** The keys a session holds in a data dir's sessions.db (a second connection: the gateway may be running). */
export async function storedKeys(dataDir: string, session: string): Promise<string[]> {
  const store = new SqliteSessionStore({ path: join(dataDir, "sessions.db") });
  try {
    return [...(await store.entries(session)).keys()].sort();
  } finally {
    await store.close();
  }
}
