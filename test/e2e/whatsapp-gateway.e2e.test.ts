import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { eventually, startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";
import { seedLinkedSession, storedKeys } from "../support/linked-session.ts";
import { tempDir } from "../support/temp-dir.ts";

// The whole product on real parts: the gateway (HTTP, SQLite queue,
// dispatcher, supervisor, disk session store) with the real Baileys against
// the WhatsApp Web simulator.

const PHONE = "40711111111";
const CONTACT = "+40722222222";

let sim: WhatsAppSimulator;
let gw: InProcessGateway | undefined;
const cleanups: Array<() => Promise<void>> = [];

beforeEach(async () => {
  sim = await startWhatsAppSimulator({ receipts: { delivery: true, read: true, delayMs: 5 } });
});
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  for (const c of cleanups.splice(0)) await c();
  await sim.close();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GATEWAY_PROVIDERS: "baileys",
    WA_WEBSOCKET_URL: sim.wsUrl,
    RECONNECT_BACKOFF_BASE_MS: "50",
    RECONNECT_BACKOFF_MAX_MS: "300",
    DISPATCH_BACKOFF_BASE_MS: "20",
    DISPATCH_BACKOFF_MAX_MS: "100",
    ...extra,
  };
}

async function linkedGateway(extra: Record<string, string> = {}, dataDir?: string): Promise<InProcessGateway> {
  const dir = dataDir ?? (await tempDir()).path;
  if (!dataDir)
    cleanups.push(async () =>
      (await import("node:fs/promises")).rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }),
    );
  await seedLinkedSession(sim, dir, "default", PHONE);
  gw = await startInProcessGateway(env(extra), "configured", dir);
  await sessionIn(gw, "open");
  return gw;
}

async function session(g: InProcessGateway, id = "default") {
  return (await (await g.call("GET", `/sessions/${id}`)).json()) as {
    state: string;
    me: string | null;
    reconnects: number;
    lastRecoveryMs: number | null;
    lastDisconnect: { code: number; reason: string } | null;
  };
}

async function sessionIn(g: InProcessGateway, state: string, id = "default", timeoutMs = 15_000) {
  return eventually(
    async () => {
      const s = await session(g, id);
      return s.state === state ? s : undefined;
    },
    timeoutMs,
    `session ${id} ${state}`,
  );
}

async function send(g: InProcessGateway, to: string, text: string): Promise<string> {
  const res = await g.call("POST", "/messages", { body: { to, text } });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function message(g: InProcessGateway, id: string) {
  return (await (await g.call("GET", `/messages/${id}`)).json()) as {
    status: string;
    providerMessageId: string | null;
    history: { status: string }[];
  };
}

describe("WhatsApp through the gateway", () => {
  it("links the default session by QR, then a message goes queued -> sent -> delivered -> read", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    gw = await startInProcessGateway(env(), "configured", dir.path);
    await sessionIn(gw, "qr");
    const qr = (await (await gw.call("GET", "/sessions/default/qr")).json()) as { qr: string; expiresAt: string };
    expect(new Date(qr.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const png = await gw.call("GET", "/sessions/default/qr", { headers: { accept: "image/png" } });
    expect(png.headers.get("content-type")).toBe("image/png");
    expect(
      Buffer.from(await png.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe("PNG");

    await sim.scanQr(qr.qr, PHONE);
    const open = await sessionIn(gw, "open");
    expect(open.me).toContain(PHONE);
    expect((await gw.call("GET", "/sessions/default/qr")).status).toBe(404);

    const id = await send(gw, CONTACT, "hello over WhatsApp");
    const read = await eventually(
      async () => {
        const m = await message(gw!, id);
        return m.status === "read" ? m : undefined;
      },
      15_000,
      "read",
    );
    expect(read.history.map((h) => h.status)).toEqual(expect.arrayContaining(["queued", "sending", "sent", "read"]));
    const received = sim.messages(PHONE);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      id: read.providerMessageId,
      text: "hello over WhatsApp",
      to: CONTACT.slice(1),
    });
  });

  it("links by pairing code", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    gw = await startInProcessGateway(env(), "configured", dir.path);
    await sessionIn(gw, "qr");
    const res = await gw.call("POST", "/sessions/default/pairing-code", { body: { phone: `+${PHONE}` } });
    expect(res.status).toBe(200);
    const { code } = (await res.json()) as { code: string };
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    await sim.enterPairingCode(PHONE, code);
    expect((await sessionIn(gw, "open")).me).toContain(PHONE);
  });

  it("restarts from the stored login without ever showing a QR", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const first = await linkedGateway({}, dir.path);
    await first.close();
    gw = await startInProcessGateway(env(), "configured", dir.path);
    const states: string[] = [];
    gw.gateway.events.subscribe((e) => {
      if (e.type === "session.state") states.push(e.session.state);
    });
    await sessionIn(gw, "open");
    expect(states).not.toContain("qr");
  });

  it.each([
    ["close", { kind: "close" as const }, 428],
    ["stream error 503", { kind: "stream-error" as const, code: 503 }, 503],
    ["stream error 500", { kind: "stream-error" as const, code: 500 }, 500],
    ["stream error 515", { kind: "stream-error" as const, code: 515 }, 515],
  ])("recovers by itself from %s and reports the time to recover", async (_name, fault, code) => {
    const g = await linkedGateway();
    expect(sim.fault({ phone: PHONE, ...fault })).toBeGreaterThan(0);
    const recovered = await eventually(
      async () => {
        const s = await session(g);
        return s.state === "open" && s.reconnects === 1 ? s : undefined;
      },
      15_000,
      "recovery",
    );
    expect(recovered.lastDisconnect?.code).toBe(code);
    expect(recovered.lastRecoveryMs).toBeGreaterThanOrEqual(0);
  });

  it("notices a silent server through keep-alive (408) and recovers", async () => {
    const g = await linkedGateway({ WA_KEEPALIVE_INTERVAL_MS: "500" });
    sim.fault({ phone: PHONE, kind: "silence" });
    const recovered = await eventually(
      async () => {
        const s = await session(g);
        return s.state === "open" && s.reconnects === 1 ? s : undefined;
      },
      20_000,
      "recovery after silence",
    );
    expect(recovered.lastDisconnect?.code).toBe(408);
  });

  it("stops on 401: logged out, login wiped, no reconnect", async () => {
    const g = await linkedGateway();
    const connections = sim.stats().accounts[PHONE]!.connections;
    expect(await storedKeys(g.dataDir, "default")).toContain("creds");
    sim.fault({ phone: PHONE, kind: "stream-error", code: 401 });
    const s = await sessionIn(g, "logged_out");
    expect(s.lastDisconnect?.code).toBe(401);
    await eventually(
      async () => !(await storedKeys(g.dataDir, "default")).includes("creds") || undefined,
      5_000,
      "creds wiped",
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(sim.stats().accounts[PHONE]!.connections).toBe(connections);
    expect((await session(g)).state).toBe("logged_out");
  });

  it("does not reconnect in a loop when replaced (440)", async () => {
    const g = await linkedGateway({ REPLACED_COOLDOWN_MS: "100", REPLACED_MAX_RECONNECTS: "2" });
    for (let i = 0; i < 3; i++) {
      await sessionIn(g, "open");
      sim.fault({ phone: PHONE, kind: "stream-error", code: 440 });
      await eventually(async () => ((await session(g)).state !== "open" ? true : undefined), 5_000, "dropped");
    }
    const s = await sessionIn(g, "needs_attention");
    expect(s.lastDisconnect?.reason).toMatch(/440/);
    const connections = sim.stats().accounts[PHONE]!.connections;
    await new Promise((r) => setTimeout(r, 500));
    expect(sim.stats().accounts[PHONE]!.connections).toBe(connections);
    expect(connections).toBeLessThanOrEqual(3);
  });

  it.each([403, 405])("stops on failure %i with a reason", async (code) => {
    const g = await linkedGateway();
    sim.fault({ phone: PHONE, kind: "failure", code });
    const s = await sessionIn(g, "needs_attention");
    expect(s.lastDisconnect?.reason).toMatch(String(code));
  });

  it("delivers 200 messages posted during an outage after recovery, once each, in order per recipient", async () => {
    const g = await linkedGateway();
    sim.setReceipts({ delivery: true, read: false, delayMs: 0 });
    sim.outage(2);
    await eventually(async () => ((await session(g)).state !== "open" ? true : undefined), 5_000, "outage noticed");
    const recipients = ["+40733333301", "+40733333302", "+40733333303", "+40733333304"];
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(await send(g, recipients[i % 4]!, `queued ${i}`));
    const queued = await message(g, ids[0]!);
    expect(["queued", "sending"]).toContain(queued.status);

    const received = await sim.waitForMessages(PHONE, 200, 30_000);
    await eventually(
      async () => {
        for (const id of ids)
          if (!["sent", "delivered", "read"].includes((await message(g, id)).status)) return undefined;
        return true;
      },
      20_000,
      "all sent",
    );
    const stats = sim.stats().accounts[PHONE]!;
    expect(stats.uniqueIds).toBe(200);
    expect(stats.duplicates).toBe(0);
    for (const [index, to] of recipients.entries()) {
      const expected = ids
        .map((_, i) => i)
        .filter((i) => i % 4 === index)
        .map((i) => `queued ${i}`);
      expect(received.filter((m) => m.to === to.slice(1)).map((m) => m.text)).toEqual(expected);
    }
  });

  it("keeps each recipient's order when the connection drops with runs of messages in flight", async () => {
    const g = await linkedGateway();
    sim.setReceipts({ delivery: true, read: false, delayMs: 0 });
    // Acks 40 ms late: a drop always catches messages written and not yet acked.
    sim.setFrameDelay(40);
    const recipients = ["+40733333311", "+40733333312"];
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) ids.push(await send(g, recipients[i % 2]!, `run ${i}`));
    for (const after of [20, 60]) {
      await eventually(
        async () => (sim.messages(PHONE).length >= after ? true : undefined),
        20_000,
        `${after} received`,
      );
      const before = (await session(g)).reconnects;
      sim.fault({ phone: PHONE, kind: "close" });
      await eventually(async () => ((await session(g)).reconnects > before ? true : undefined), 15_000, "reconnected");
    }
    await eventually(
      async () => {
        for (const id of ids) if (!["sent", "delivered"].includes((await message(g, id)).status)) return undefined;
        return true;
      },
      30_000,
      "all sent",
    );
    sim.setFrameDelay(0);
    // A message written but not acked before a drop goes again with the same
    // WhatsApp id (one message for the recipient); what matters is that every
    // one arrived and that, by first arrival, each recipient got them in order.
    const firstArrivals = new Map<string, { to: string; text: string | null }>();
    for (const m of sim.messages(PHONE)) if (!firstArrivals.has(m.id)) firstArrivals.set(m.id, m);
    expect(firstArrivals.size).toBe(120);
    for (const [index, to] of recipients.entries()) {
      const expected = ids
        .map((_, i) => i)
        .filter((i) => i % 2 === index)
        .map((i) => `run ${i}`);
      expect([...firstArrivals.values()].filter((m) => m.to === to.slice(1)).map((m) => m.text)).toEqual(expected);
    }
  });

  it("refuses a session beyond MAX_SESSIONS with 409 SESSION.LIMIT_REACHED, and takes one again after a delete", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    gw = await startInProcessGateway(env({ MAX_SESSIONS: "2" }), "configured", dir.path);
    expect((await gw.call("POST", "/sessions", { body: { id: "second" } })).status).toBe(201);
    const refused = await gw.call("POST", "/sessions", { body: { id: "third" } });
    expect(refused.status).toBe(409);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(await refused.json()).toMatchObject({ code: "SESSION.LIMIT_REACHED" });
    expect((await gw.call("GET", "/sessions/third")).status).toBe(404);
    expect((await gw.call("DELETE", "/sessions/second")).status).toBe(204);
    expect((await gw.call("POST", "/sessions", { body: { id: "third" } })).status).toBe(201);
    const ids = ((await (await gw.call("GET", "/sessions")).json()) as { items: { id: string }[] }).items
      .map((s) => s.id)
      .sort();
    expect(ids).toEqual(["default", "third"]);
  });

  it("records an inbound message once, even when WhatsApp delivers it again", async () => {
    const g = await linkedGateway();
    await sim.inbound({ from: CONTACT.slice(1), to: PHONE, text: "reply from the customer", id: "INBOUND0001" });
    await sim.inbound({
      from: CONTACT.slice(1),
      to: PHONE,
      text: "reply from the customer",
      id: "INBOUND0001",
      encrypted: false,
    });
    const page = await eventually(
      async () => {
        const p = (await (await g.call("GET", "/messages?direction=inbound")).json()) as {
          items: { text: string; from: string; providerMessageId: string }[];
        };
        return p.items.length > 0 ? p : undefined;
      },
      10_000,
      "inbound recorded",
    );
    await new Promise((r) => setTimeout(r, 300));
    const again = (await (await g.call("GET", "/messages?direction=inbound")).json()) as { items: unknown[] };
    expect(again.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      text: "reply from the customer",
      from: `whatsapp:${CONTACT}`,
      providerMessageId: "INBOUND0001",
    });
  });
});
