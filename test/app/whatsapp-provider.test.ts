import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/app/logger.ts";
import { WhatsAppProvider } from "../../src/app/sessions/whatsapp-provider.ts";
import { DomainError } from "../../src/domain/errors.ts";
import type { SessionStore } from "../../src/domain/ports/session-store.port.ts";
import { MemorySessionStore } from "../fakes/memory-session-store.ts";
import { ScriptedWhatsAppConnector } from "../fakes/scripted-whatsapp-connector.ts";
import { eventually } from "../support/in-process-gateway.ts";

const settings = {
  backoffBaseMs: 10,
  backoffMaxMs: 40,
  replacedCooldownMs: 10,
  replacedMaxReconnects: 1,
  replacedWindowMs: 1_000,
};
const running: WhatsAppProvider[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
});

function provider(store: SessionStore, defaultSession = "default") {
  const connector = new ScriptedWhatsAppConnector(store);
  const p = new WhatsAppProvider({
    connector,
    store,
    logger: createLogger("silent"),
    settings,
    defaultSession,
    discoveryIntervalMs: 30,
  });
  running.push(p);
  return { p, connector };
}

/** The store's methods bound to it, to override one. */
function bound(store: SessionStore): SessionStore {
  return {
    kind: store.kind,
    getMany: (s, k) => store.getMany(s, k),
    setMany: (s, e) => store.setMany(s, e),
    entries: (s) => store.entries(s),
    clear: (s) => store.clear(s),
    listSessions: () => store.listSessions(),
    health: () => store.health(),
    close: () => store.close(),
  };
}

/** A store that cannot answer until `up()`, like Firestore on a cold start before it answered. */
function unavailableUntilUp(inner: SessionStore) {
  let up = false;
  const fail = () => {
    throw new DomainError("STORE.UNAVAILABLE", "Firestore has not answered yet");
  };
  const store: SessionStore = {
    kind: "test",
    getMany: async (s, k) => (up ? inner.getMany(s, k) : fail()),
    setMany: async (s, e) => (up ? inner.setMany(s, e) : fail()),
    entries: async (s) => (up ? inner.entries(s) : fail()),
    clear: async (s) => (up ? inner.clear(s) : fail()),
    listSessions: async () => (up ? inner.listSessions() : fail()),
    health: () => inner.health(),
    close: () => inner.close(),
  };
  return { store, up: () => (up = true) };
}

describe("WhatsAppProvider", () => {
  it("starts even when the session store cannot answer yet, and the session connects once it does", async () => {
    const gated = unavailableUntilUp(new MemorySessionStore());
    const { p, connector } = provider(gated.store);
    connector.onConnect = (c) => c.open();
    await p.start();
    expect(p.hasSession("default")).toBe(true);
    expect(p.isReady("default")).toBe(false);
    gated.up();
    await eventually(() => p.isReady("default") || undefined, 5_000, "open once the store answers");
  });

  it("starts sessions that appear in the store after start", async () => {
    const store = new MemorySessionStore();
    const { p, connector } = provider(store);
    connector.onConnect = (c) => c.open();
    await p.start();
    expect(p.list().map((s) => s.id)).toEqual(["default"]);
    await store.setMany("restored", new Map([["creds", { me: "x" }]]));
    await eventually(() => p.isReady("restored") || undefined, 5_000, "discovered session open");
  });

  it("counts sessions being created against MAX_SESSIONS, so concurrent creates cannot pass it", async () => {
    const store = new MemorySessionStore();
    const connector = new ScriptedWhatsAppConnector(store);
    const p = new WhatsAppProvider({
      connector,
      store,
      logger: createLogger("silent"),
      settings,
      defaultSession: "",
      maxSessions: 3,
    });
    running.push(p);
    await p.start();
    const outcomes = await Promise.allSettled(["a", "b", "c", "d", "e"].map((id) => p.create(id)));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(3);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(refused.map((o) => (o.reason as DomainError).code)).toEqual([
      "SESSION.LIMIT_REACHED",
      "SESSION.LIMIT_REACHED",
    ]);
    expect(p.list()).toHaveLength(3);
    expect(await store.listSessions()).toHaveLength(3);
  });

  it("a session being created is not started a second time by discovery, which sees its marker first", async () => {
    const inner = new MemorySessionStore();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The marker is stored, then the create call stays inside setMany until released.
    const store: SessionStore = {
      ...bound(inner),
      setMany: async (s, e) => {
        await inner.setMany(s, e);
        if (s === "late") await held;
      },
    };
    const { p, connector } = provider(store, "");
    await p.start();
    const created = p.create("late");
    await new Promise((resolve) => setTimeout(resolve, 150)); // several discovery rounds (every 30 ms)
    release();
    await created;
    await eventually(() => connector.connections.some((c) => c.session === "late") || undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(connector.connections.filter((c) => c.session === "late")).toHaveLength(1);
  });

  it("starts every stored session even when there are more than MAX_SESSIONS", async () => {
    const store = new MemorySessionStore();
    for (const id of ["a", "b", "c"]) await store.setMany(id, new Map([["creds", { me: id }]]));
    const connector = new ScriptedWhatsAppConnector(store);
    const p = new WhatsAppProvider({
      connector,
      store,
      logger: createLogger("silent"),
      settings,
      defaultSession: "",
      maxSessions: 1,
    });
    running.push(p);
    await p.start();
    expect(
      p
        .list()
        .map((s) => s.id)
        .sort(),
    ).toEqual(["a", "b", "c"]);
    await expect(p.create("d")).rejects.toMatchObject({ code: "SESSION.LIMIT_REACHED" });
  });

  it("creates no session by itself when the default session is disabled", async () => {
    const { p } = provider(new MemorySessionStore(), "");
    await p.start();
    expect(p.list()).toEqual([]);
  });

  it("does not bring a deleted session back through discovery", async () => {
    const store = new MemorySessionStore();
    const { p, connector } = provider(store);
    connector.onConnect = (c) => c.open();
    await p.start();
    await eventually(() => p.isReady("default") || undefined);
    await p.remove("default");
    await new Promise((r) => setTimeout(r, 120));
    expect(p.hasSession("default")).toBe(false);
    expect(await store.listSessions()).toEqual([]);
  });

  it("has the connector forget a removed session, and only that one", async () => {
    const { p, connector } = provider(new MemorySessionStore());
    connector.onConnect = (c) => c.open();
    await p.start();
    await p.create("other");
    await eventually(() => (p.isReady("default") && p.isReady("other")) || undefined);
    await p.remove("default");
    expect(connector.forgotten).toEqual(["default"]);
  });
});
