import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BufferJSON } from "@whiskeysockets/baileys";
import pino from "pino";
import { BaileysConnector } from "../../../src/adapters/messaging/baileys/baileys.connector.ts";
import { SqliteSessionStore } from "../../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import { DiskMediaStore } from "../../../src/adapters/media-store/disk/disk.media-store.ts";
import { WhatsAppProvider } from "../../../src/app/sessions/whatsapp-provider.ts";
import type { StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import { runMessagingProviderContract } from "../../contracts/messaging-provider.contract.ts";
import { startWhatsAppSimulator, type ReceivedMessage } from "../../fakes/whatsapp/index.ts";
import { eventually } from "../../support/in-process-gateway.ts";

const SESSION = "main";
/** A negative ack WhatsApp gives a message it will not take (smax-invalid): a 4xx verdict, not a retry. */
const REFUSAL_CODE = 479;
/** The linked account: each harness has a simulator of its own, so one number serves them all. */
const phone = "15550003000";

/** `whatsapp:+15550003001` -> `15550003001`, the simulator's phone notation. */
const phoneOf = (address: string): string => address.replace(/^whatsapp:\+/, "");

runMessagingProviderContract(
  "baileys (WhatsAppProvider on the WhatsApp Web simulator)",
  { idempotentSends: true, logins: true },
  async () => {
    const sim = await startWhatsAppSimulator();
    const dataDir = await mkdtemp(join(tmpdir(), "provider-contract-"));
    const store = new SqliteSessionStore({ path: join(dataDir, "sessions.db") });
    const media = new DiskMediaStore({ dir: join(dataDir, "media"), synchronous: "normal" });
    const logger = pino({ level: "silent" });

    /** One call to the simulator's control API (ARCHITECTURE.md lists it). */
    const control = async <T>(method: "GET" | "POST", path: string, body?: object): Promise<T> => {
      const res = await fetch(`${sim.controlUrl}/control/${path}`, {
        method,
        ...(body ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
      });
      const answer = (await res.json()) as T & { error?: string };
      if (!res.ok) throw new Error(`simulator ${method} /control/${path}: ${res.status} ${answer.error ?? ""}`);
      return answer;
    };

    // Statuses come only when a case asks for them (POST /control/receipt), never on their own.
    await control("POST", "receipts", { delivery: false, read: false });
    const account = await control<{ creds: unknown }>("POST", "accounts", { phone });
    const creds = JSON.parse(JSON.stringify(account.creds), BufferJSON.reviver) as StoredValue;
    await store.setMany(SESSION, new Map([["creds", creds]]));

    const provider = new WhatsAppProvider({
      connector: new BaileysConnector({
        store,
        media,
        mediaCa: await readFile(sim.caFile),
        logger,
        waWebSocketUrl: sim.wsUrl,
        connectTimeoutMs: 10_000,
        defaultQueryTimeoutMs: 5_000,
        ackTimeoutMs: 5_000,
      }),
      store,
      logger,
      settings: {
        backoffBaseMs: 50,
        backoffMaxMs: 250,
        replacedCooldownMs: 50,
        replacedMaxReconnects: 3,
        replacedWindowMs: 1_000,
      },
      defaultSession: "",
    });
    await provider.start();

    return {
      provider,
      session: SESSION,
      channel: "whatsapp",
      account: `whatsapp:+${phone}`,
      recipient: "whatsapp:+15550003001",
      contact: "whatsapp:+15550003002",
      driver: {
        async untilReady() {
          await eventually(() => provider.isReady(SESSION) || undefined, 20_000, `session ${SESSION} open`);
        },
        async receivedBy(to) {
          const messages = await control<ReceivedMessage[]>("GET", `messages?from=${phone}`);
          return messages.filter((m) => m.to === phoneOf(to)).map((m) => ({ providerMessageId: m.id, text: m.text }));
        },
        async reportStatus({ receipt }, status) {
          await control("POST", "receipt", {
            from: phone,
            id: receipt.providerMessageId,
            type: status === "delivered" ? "delivery" : "read",
          });
        },
        async deliverInbound(from, text) {
          await control("POST", "inbound", { from: phoneOf(from), to: phone, text });
        },
        async failNextSend(kind) {
          if (kind === "terminal") {
            await control("POST", "refuse", { phone, code: REFUSAL_CODE });
            return;
          }
          // The socket goes down and stays down a second: the session is not connected.
          await control("POST", "outage", { seconds: 1 });
          await eventually(() => !provider.isReady(SESSION) || undefined, 5_000, "the session to notice the outage");
        },
      },
      async dispose() {
        await provider.stop();
        await store.close();
        await media.close();
        await sim.close();
        await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
      },
    };
  },
);
