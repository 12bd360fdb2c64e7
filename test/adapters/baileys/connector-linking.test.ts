import { describe, expect, it } from "vitest";
import { CorruptEntryError, type SessionStore } from "../../../src/domain/ports/session-store.port.ts";
import { connect, connectorFor, damageStoredValue, sessionStore, startSim, storeProvisioned } from "./harness.ts";

const PHONE = "15550201001";

/** Lets every setMany take a while, so a reconnect that did not wait for the creds would read stale ones. */
function slowWrites(store: SessionStore, delayMs: number): SessionStore {
  // Delegates explicitly: a store with private fields cannot be the prototype of a wrapper.
  return {
    kind: store.kind,
    getMany: (session, keys) => store.getMany(session, keys),
    entries: (session) => store.entries(session),
    clear: (session) => store.clear(session),
    listSessions: () => store.listSessions(),
    health: () => store.health(),
    close: () => store.close(),
    async setMany(session, entries) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return store.setMany(session, entries);
    },
  };
}

describe("BaileysConnector: logins", () => {
  it("opens a stored (pre-provisioned) login and reports the account jid", async () => {
    const sim = await startSim();
    const { store } = await sessionStore();
    const account = sim.provisionAccount({ phone: PHONE });
    await storeProvisioned(store, "main", account);

    const { events } = await connect(connectorFor(sim, store), "main");

    expect(await events.waitFor("open")).toEqual({ type: "open", me: account.jid });
    expect(events.of("qr")).toEqual([]);
  });

  it("links by QR: qr -> scan -> close 515 -> connect again on the saved creds -> open", async () => {
    const sim = await startSim();
    const { store } = await sessionStore();
    const connector = connectorFor(sim, slowWrites(store, 150));

    const first = await connect(connector, "main");
    const qr = await first.events.waitFor("qr");
    const linked = await sim.scanQr(qr.qr, PHONE);
    const closed = await first.events.waitFor("close");
    const second = await connect(connector, "main");
    const open = await second.events.waitFor("open");

    expect(closed.closed).toEqual({ reason: "restart_required", code: 515, message: expect.any(String) });
    expect(open.me).toBe(linked.jid);
    expect(second.events.of("qr")).toEqual([]);
    const stored = (await store.getMany("main", ["creds"])).get("creds") as { me?: { id?: string; lid?: string } };
    expect(stored.me).toMatchObject({ id: linked.jid, lid: linked.lid });
  });

  it("gives the first QR about 60 s and closes as qr_exhausted when the refs run out", async () => {
    const sim = await startSim({ qrRefs: 2 });
    const { store } = await sessionStore();
    const defaults = await connect(connectorFor(sim, store), "default-qr");
    const qr = await defaults.events.waitFor("qr");
    const lifetime = qr.expiresAt.getTime() - Date.now();
    defaults.connection.end();

    const short = await connect(connectorFor(sim, store, { qrTimeoutMs: 150 }), "short-qr");
    const closed = await short.events.waitFor("close");

    expect(lifetime).toBeGreaterThan(50_000);
    expect(lifetime).toBeLessThanOrEqual(60_000);
    expect(short.events.of("qr")).toHaveLength(2);
    expect(closed.closed).toMatchObject({ reason: "qr_exhausted", code: 408 });
  });

  it("links by pairing code entered on the simulated phone", async () => {
    const sim = await startSim();
    const { store } = await sessionStore();
    const connector = connectorFor(sim, store);
    const first = await connect(connector, "main");

    const code = await first.connection.requestPairingCode(PHONE);
    const linked = await sim.enterPairingCode(PHONE, code);
    await first.events.waitFor("close", (e) => e.closed.code === 515);
    const second = await connect(connector, "main");

    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    expect((await second.events.waitFor("open")).me).toBe(linked.jid);
  });

  it("refuses a pairing code for a session that is already linked", async () => {
    const sim = await startSim();
    const { store } = await sessionStore();
    await storeProvisioned(store, "main", sim.provisionAccount({ phone: PHONE }));
    const { connection, events } = await connect(connectorFor(sim, store), "main");
    await events.waitFor("open");

    await expect(connection.requestPairingCode(PHONE)).rejects.toMatchObject({
      providerCode: "already-linked",
      retryable: false,
    });
  });

  it("rejects with CorruptEntryError on a corrupt creds file and leaves the login alone", async () => {
    const sim = await startSim();
    const { store, path } = await sessionStore();
    await storeProvisioned(store, "main", sim.provisionAccount({ phone: PHONE }));
    damageStoredValue(path, "main", "creds", '{"noiseKey":{"private":');
    const connector = connectorFor(sim, store);

    await expect(connector.connect("main", () => undefined)).rejects.toBeInstanceOf(CorruptEntryError);
    await expect(connector.connect("main", () => undefined)).rejects.toMatchObject({ key: "creds" });
    await expect(store.getMany("main", ["creds"])).rejects.toBeInstanceOf(CorruptEntryError);
    expect(sim.stats().openConnections).toBe(0);
  });

  it("end() closes the socket and delivers nothing more, not even close", async () => {
    const sim = await startSim();
    const { store } = await sessionStore();
    await storeProvisioned(store, "main", sim.provisionAccount({ phone: PHONE }));
    const { connection, events } = await connect(connectorFor(sim, store), "main");
    await events.waitFor("open");

    connection.end();
    await expect.poll(() => sim.stats().openConnections).toBe(0);
    await expect(sim.inbound({ from: "15550209001", to: PHONE, text: "anyone?" })).resolves.toBeDefined();

    expect(events.all.map((e) => e.type)).toEqual(["open"]);
    await expect(connection.send({} as never)).rejects.toMatchObject({ retryable: true, providerCode: "not-open" });
  });

  it("logout() unlinks the device: the same login cannot log in again", async () => {
    const sim = await startSim();
    const { store } = await sessionStore();
    await storeProvisioned(store, "main", sim.provisionAccount({ phone: PHONE }));
    const connector = connectorFor(sim, store);
    const first = await connect(connector, "main");
    await first.events.waitFor("open");

    await first.connection.logout();
    const again = await connect(connector, "main");

    expect(first.events.all.map((e) => e.type)).toEqual(["open"]);
    expect((await again.events.waitFor("close")).closed).toMatchObject({ code: 401, reason: "logged_out" });
  });
});
