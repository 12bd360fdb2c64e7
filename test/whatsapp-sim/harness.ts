import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WAMessage } from "@whiskeysockets/baileys";
import { afterEach } from "vitest";
import { BareClient } from "../fakes/whatsapp/baileys-client.ts";
import type { BareClientOptions } from "../fakes/whatsapp/baileys-client.ts";
import { startWhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import type { SimulatorOptions, WhatsAppSimulator } from "../fakes/whatsapp/index.ts";

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A simulator on a random port, closed after the test. */
export async function startSim(options: SimulatorOptions = {}): Promise<WhatsAppSimulator> {
  const sim = await startWhatsAppSimulator(options);
  cleanups.push(() => sim.close());
  return sim;
}

/** A temp dir removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "wa-sim-"));
  // Baileys' file auth state may still be writing when the test ends.
  cleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));
  return dir;
}

/** A bare Baileys client ended after the test. */
export function client(options: BareClientOptions): BareClient {
  const created = new BareClient(options);
  cleanups.push(() => created.end());
  return created;
}

/** A pre-provisioned account, connected and open. */
export async function linkedClient(
  sim: WhatsAppSimulator,
  phone: string,
  options: Partial<BareClientOptions> = {},
): Promise<BareClient> {
  const account = sim.provisionAccount({ phone });
  const created = client({ wsUrl: sim.wsUrl, creds: account.creds, ...options });
  created.connect();
  await created.waitForOpen();
  return created;
}

export const jid = (phone: string): string => `${phone}@s.whatsapp.net`;

/** The text of a received message, whichever way Baileys wrapped it. */
export function textOf(message: WAMessage | undefined): string | null | undefined {
  return message?.message?.conversation ?? message?.message?.extendedTextMessage?.text;
}

/** Reconnects until the client is open, as an app's reconnect loop would. */
export async function reconnectUntilOpen(wa: BareClient, pauseMs = 100): Promise<void> {
  while (!wa.isOpen) {
    const seen = wa.closeCodes.length;
    wa.connect();
    await wa.waitFor(() => wa.isOpen || wa.closeCodes[seen] !== undefined || undefined, "open or refused");
    if (!wa.isOpen) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
