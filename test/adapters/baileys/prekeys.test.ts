import { describe, expect, it } from "vitest";
import type { SessionStore, StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import { connect, connectorFor, sessionStore, startSim } from "./harness.ts";

const PHONE = "15550201101";
const CONTACT = "15550201102";
const ALL_PREKEYS = Array.from({ length: 812 }, (_, i) => `pre-key-${i + 1}`);

async function storedPreKeys(store: SessionStore, session: string): Promise<number> {
  const found = await store.getMany(session, ALL_PREKEYS);
  return [...found.values()].filter((v) => v !== null && v !== undefined).length;
}

type Creds = { nextPreKeyId?: number; firstUnuploadedPreKeyId?: number };
const storedCreds = async (store: SessionStore, session: string): Promise<Creds | undefined> =>
  (await store.getMany(session, ["creds"])).get("creds") as Creds | undefined;

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never reached: ${what}`);
}

describe("BaileysConnector: a new login's first prekeys", () => {
  it("are stored before the QR shows, then uploaded as they are: a message encrypted to them is read", async () => {
    const sim = await startSim();
    const { store } = await sessionStore();
    const connector = connectorFor(sim, store);

    const first = await connect(connector, "main");
    const qr = await first.events.waitFor("qr");
    // Made ahead, while the QR waits for a phone; the creds wait for the pairing.
    expect(await storedPreKeys(store, "main")).toBe(812);
    expect(await storedCreds(store, "main")).toBeUndefined();

    await sim.scanQr(qr.qr, PHONE);
    await first.events.waitFor("close", (e) => e.closed.code === 515);
    const second = await connect(connector, "main");
    await second.events.waitFor("open");
    const creds = await eventually(
      () => storedCreds(store, "main"),
      (c) => c?.firstUnuploadedPreKeyId === 813,
      "the creds counting the 812 prekeys uploaded",
    );
    expect(creds).toMatchObject({ nextPreKeyId: 813, firstUnuploadedPreKeyId: 813 });
    await eventually(
      async () => sim.stats().accounts[PHONE]?.iqs?.["encrypt:set:registration"] ?? 0,
      (n) => n > 0,
      "the prekey upload",
    );

    // The simulator hands the contact one of the uploaded one-time prekeys: only the stored private half opens it.
    const sent = await sim.inbound({ from: CONTACT, to: PHONE, text: "to a fresh prekey" });
    const inbound = await second.events.waitFor("inbound", (e) => e.message.providerMessageId === sent.id);
    expect(inbound.message.text).toBe("to a fresh prekey");
    expect(await storedPreKeys(store, "main")).toBe(811);
  });

  it("are left to Baileys when the store cannot take them, and the creds never name keys it lacks", async () => {
    const sim = await startSim();
    const { store } = await sessionStore();
    const failing: SessionStore = {
      kind: store.kind,
      getMany: (session, keys) => store.getMany(session, keys),
      async setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>) {
        if ([...entries.keys()].some((k) => k.startsWith("pre-key-"))) throw new Error("disk full");
        return store.setMany(session, entries);
      },
      entries: (session) => store.entries(session),
      clear: (session) => store.clear(session),
      listSessions: () => store.listSessions(),
      health: () => store.health(),
      close: () => store.close(),
    };
    const connector = connectorFor(sim, failing);

    const first = await connect(connector, "main");
    const qr = await first.events.waitFor("qr");
    await sim.scanQr(qr.qr, PHONE);
    await first.events.waitFor("close", (e) => e.closed.code === 515);

    const creds = await storedCreds(store, "main");
    expect(creds).toMatchObject({ nextPreKeyId: 1, firstUnuploadedPreKeyId: 1 });
    expect(await storedPreKeys(store, "main")).toBe(0);
  });
});
