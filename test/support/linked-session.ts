import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BufferJSON } from "@whiskeysockets/baileys";
import type { WhatsAppSimulator } from "../fakes/whatsapp/index.ts";

/**
 * Pre-links a WhatsApp account on the simulator and drops its login into a
 * gateway data dir the way an operator drops in a Baileys auth folder
 * (`sessions/<id>/creds.json`).
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
