import { afterAll, afterEach, describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../../src/domain/errors.ts";
import { SessionStore, type StoredValue } from "../../src/domain/ports/session-store.port.ts";
import { join } from "node:path";
import { SqliteSessionStore } from "../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import { SESSIONS_DB } from "../../src/app/composition/session-stores.ts";
import { startWhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { MemorySessionStore } from "../fakes/memory-session-store.ts";
import { prepareOutage } from "../support/disk-outage.ts";
import { eventually, startInProcessGateway } from "../support/in-process-gateway.ts";

// A linked WhatsApp session (real Baileys on the simulator) through a full
// disk: the session is neither logged out nor given up, its login writes
// wait, and once there is space again it sends and receives with no
// restart. On a real full file system (tmpfs mode) every store is the
// gateway's own on that disk, the SQLite session store included. In the
// injected mode (no mount allowed) the session store is a memory store
// whose writes are refused with STORE.UNAVAILABLE while the disk is "full",
// as a store on that disk would refuse them.

const PHONE = "40711118888";
const CUSTOMERS = ["40722228881", "40722228882", "40722228883"];

/** Refuses writes while `outage()` says the disk is full. */
class FullDiskSessionStore extends MemorySessionStore {
  refused = 0;
  constructor(private readonly outage: () => boolean) {
    super();
  }
  override async setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void> {
    if (this.outage()) {
      this.refused++;
      throw new StoreUnavailableError("session store", "the disk is full (ENOSPC: no space left on device)");
    }
    return super.setMany(session, entries);
  }
}

const outage = await prepareOutage();
console.info(`whatsapp disk-full test: ${outage.description}`);

describe(`a linked WhatsApp session through a full disk (mode: ${outage.mode})`, () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(() => outage.close());

  it("stays linked and open, then sends and receives again with no restart", async () => {
    const sim = await startWhatsAppSimulator({ receipts: { delivery: false, read: false } });
    cleanups.push(() => sim.close());
    const realDisk = outage.mode === "tmpfs";
    const sessions = new FullDiskSessionStore(() => outage.full);
    const account = sim.provisionAccount({ phone: PHONE });
    const login = new Map([["creds", account.creds as unknown as StoredValue]]);
    if (realDisk) {
      const onDisk = new SqliteSessionStore({ path: join(outage.dataDir, SESSIONS_DB) });
      await onDisk.setMany("default", login);
      await onDisk.close();
    } else await sessions.setMany("default", login);
    const gw = await startInProcessGateway(
      { GATEWAY_PROVIDERS: "baileys", WA_WEBSOCKET_URL: sim.wsUrl, WA_MEDIA_CA_FILE: sim.caFile },
      "configured",
      outage.dataDir,
      (c) => {
        if (!realDisk) c.register(SessionStore, { useValue: sessions });
        outage.register?.(c);
      },
    );
    cleanups.push(() => gw.close());
    const stateOf = async () => ((await (await gw.call("GET", "/sessions/default")).json()) as { state: string }).state;
    await eventually(async () => (await stateOf()) === "open" || undefined, 20_000, "session open");
    const states: string[] = [];
    const unsubscribe = gw.gateway.events.subscribe(
      (e) => void (e.type === "session.state" && states.push(e.session.state)),
    );
    cleanups.push(unsubscribe);

    const post = (to: string, text: string) => gw.call("POST", "/messages", { body: { to: `+${to}`, text } });
    const first = (await (await post(CUSTOMERS[0]!, "before the disk filled")).json()) as { id: string };

    outage.fill();
    // Baileys writes Signal keys for a new conversation: refused while the disk is full.
    await sim.inbound({ from: CUSTOMERS[1]!, to: PHONE, text: "written to you while your disk was full" });
    let refused: Response | undefined;
    for (let i = 0; i < 5_000 && !refused; i++) {
      const res = await post(CUSTOMERS[2]!, `during ${i}`);
      expect([202, 503]).toContain(res.status);
      if (res.status === 503) refused = res;
    }
    expect((await refused!.json()) as { code: string }).toMatchObject({ code: "STORE.UNAVAILABLE" });
    if (realDisk) {
      // The SQLite session store on the full disk refused a write: /health says so, naming it.
      await eventually(
        async () => {
          const health = (await (await gw.call("GET", "/health")).json()) as {
            stores: Record<string, { status: string; kind: string }>;
          };
          return (
            (health.stores.sessions?.kind === "sqlite" && health.stores.sessions.status === "degraded") || undefined
          );
        },
        20_000,
        "the session store degraded by a refused write",
      );
    } else await eventually(() => sessions.refused > 0 || undefined, 20_000, "a refused session-store write");
    expect(await stateOf()).toBe("open");

    outage.free();
    await eventually(
      async () => ((await (await gw.call("GET", "/health")).json()) as { status: string }).status === "ok" || undefined,
      20_000,
      "health ok",
    );
    const after = (await (await post(CUSTOMERS[2]!, "after the space came back")).json()) as { id: string };

    // Both outbound messages reach WhatsApp, the inbound one is recorded.
    await eventually(
      async () => {
        for (const id of [first.id, after.id]) {
          const m = (await (await gw.call("GET", `/messages/${id}`)).json()) as { status: string };
          if (m.status !== "sent" && m.status !== "delivered") return undefined;
        }
        return true;
      },
      30_000,
      "both sent",
    );
    const texts = (to: string) =>
      sim
        .messages(PHONE)
        .filter((m) => m.to.includes(to))
        .map((m) => m.text);
    expect(texts(CUSTOMERS[0]!)).toEqual(["before the disk filled"]);
    expect(texts(CUSTOMERS[2]!)).toContain("after the space came back");
    await eventually(
      async () => {
        const page = (await (await gw.call("GET", "/messages?direction=inbound")).json()) as {
          items: Array<{ text: string }>;
        };
        return page.items.some((m) => m.text === "written to you while your disk was full") || undefined;
      },
      45_000,
      "the inbound message recorded",
    );
    // Never logged out, never given up, still linked.
    expect(states.filter((s) => s === "logged_out" || s === "needs_attention" || s === "stopped")).toEqual([]);
    expect(await stateOf()).toBe("open");
  }, 120_000);
});
