import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { SqliteMessageStore } from "../../src/adapters/message-store/sqlite/sqlite.message-store.ts";
import type { SessionInfo } from "../../src/domain/session.ts";
import { eventually, startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";
import { tempDir } from "../support/temp-dir.ts";
import { newWebhookSecret, WebhookReceiver } from "../support/webhook-receiver.ts";

interface DeliveryView {
  id: string;
  eventId: string;
  type: string;
  status: string;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  payload?: { type: string; data: Record<string, unknown> };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function receiver(secret: string, port?: number): Promise<WebhookReceiver> {
  const r = await WebhookReceiver.start(secret, port);
  cleanups.push(() => r.close());
  return r;
}

async function gateway(env: Record<string, string>, dataDir?: string): Promise<InProcessGateway> {
  const gw = await startInProcessGateway(
    { WEBHOOK_BACKOFF_BASE_MS: "10", WEBHOOK_BACKOFF_MAX_MS: "50", ...env },
    undefined,
    dataDir,
  );
  let closed = false;
  cleanups.push(async () => {
    if (!closed) await gw.close();
  });
  const close = gw.close.bind(gw);
  return { ...gw, close: async () => ((closed = true), await close()) };
}

function session(state: SessionInfo["state"]): SessionInfo {
  return {
    id: "default",
    provider: "baileys",
    state,
    me: null,
    lastDisconnect: null,
    reconnects: 0,
    reconnectAttempts: 0,
    lastRecoveryMs: null,
  };
}

async function deliveries(gw: InProcessGateway, query = ""): Promise<DeliveryView[]> {
  const res = await gw.call("GET", `/webhooks/deliveries${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: DeliveryView[] }).items;
}

describe("outbound webhooks through the gateway", () => {
  it("delivers inbound, status and session events signed per Standard Webhooks, each message's events in order", async () => {
    const secret = newWebhookSecret();
    const hooks = await receiver(secret);
    // The first attempt fails: the message's later events must wait for its retry.
    hooks.answer(500);
    const gw = await gateway({ WEBHOOK_URL: hooks.url, WEBHOOK_SECRET: secret });

    const posted = (await (
      await gw.call("POST", "/messages", { body: { to: "+40712345678", text: "hi" } })
    ).json()) as { id: string };
    await eventually(
      async () =>
        ((await (await gw.call("GET", `/messages/${posted.id}`)).json()) as { status: string }).status === "sent" ||
        undefined,
    );
    const providerMessageId = `baileys-${posted.id}`;
    gw.provider.emit({ type: "status", providerMessageId, status: "delivered" });
    gw.provider.emit({ type: "status", providerMessageId, status: "read" });
    gw.provider.emit({
      type: "inbound",
      message: {
        provider: "baileys",
        session: "default",
        channel: "whatsapp",
        from: "whatsapp:+40700000001",
        to: null,
        text: "hello back",
        media: [],
        providerMessageId: "in-1",
        at: new Date(),
      },
    });
    gw.gateway.events.publish({ type: "session.state", session: session("reconnecting") });

    const accepted = () => hooks.received.filter((r) => r.payload && r.answer === 200);
    await eventually(() => accepted().length === 5 || undefined, 10_000, "five accepted webhooks");
    expect(hooks.received.every((r) => r.verifyError === undefined)).toBe(true);

    const statuses = accepted()
      .filter((r) => r.payload!.type === "message.status")
      .map((r) => r.payload!.data.status);
    expect(statuses).toEqual(["sent", "delivered", "read"]);
    const inbound = accepted().find((r) => r.payload!.type === "message.inbound")!;
    expect(inbound.payload!.data).toMatchObject({
      direction: "inbound",
      text: "hello back",
      from: "whatsapp:+40700000001",
    });
    const sessionEvent = accepted().find((r) => r.payload!.type === "session.state")!;
    expect(sessionEvent.payload!.data).toEqual(session("reconnecting"));

    // The payload's data is the message as the API shows it.
    const read = accepted().find((r) => r.payload!.data.status === "read")!;
    expect(read.payload!.data).toEqual(await (await gw.call("GET", `/messages/${posted.id}`)).json());
    for (const r of hooks.received) {
      expect(r.headers["webhook-id"]).toMatch(/^evt_/);
      expect(r.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(Math.abs(Number(r.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(300);
      expect(Object.keys(JSON.parse(r.body) as object).sort()).toEqual(["data", "timestamp", "type"]);
    }
    // The event whose first attempt failed was retried under the same webhook-id.
    // (Which event that is depends on which one the worker sent first: events of
    // different messages and sessions go out side by side.)
    const failed = hooks.received.find((r) => r.answer === 500)!;
    const retried = accepted().filter((r) => r.headers["webhook-id"] === failed.headers["webhook-id"]);
    expect(retried).toHaveLength(1);
    expect(retried[0]!.payload).toEqual(failed.payload);
  });

  it("retries a receiver that answers 500, then 200: delivered after 2 attempts", async () => {
    const secret = newWebhookSecret();
    const hooks = await receiver(secret);
    hooks.answer(500);
    const gw = await gateway({ WEBHOOK_URL: hooks.url, WEBHOOK_SECRET: secret });
    gw.gateway.events.publish({ type: "session.state", session: session("open") });
    const [done] = await eventually(async () => {
      const items = await deliveries(gw, "?status=delivered");
      return items.length > 0 ? items : undefined;
    });
    expect(done).toMatchObject({ type: "session.state", status: "delivered", attempts: 2, nextAttemptAt: null });
    expect(done!.lastError).toMatch(/^HTTP 500/);
    expect(hooks.received.map((r) => r.answer)).toEqual([500, 200]);
    expect(new Set(hooks.received.map((r) => r.headers["webhook-id"]))).toEqual(new Set([done!.eventId]));
  });

  it("retries an attempt that times out", async () => {
    const secret = newWebhookSecret();
    const hooks = await receiver(secret);
    hooks.answer("hang");
    const gw = await gateway({ WEBHOOK_URL: hooks.url, WEBHOOK_SECRET: secret, WEBHOOK_TIMEOUT_MS: "300" });
    gw.gateway.events.publish({ type: "session.state", session: session("open") });
    const [done] = await eventually(async () => {
      const items = await deliveries(gw, "?status=delivered");
      return items.length > 0 ? items : undefined;
    });
    expect(done).toMatchObject({ attempts: 2, lastError: "timed out after 300 ms" });
    expect(hooks.received.map((r) => r.answer)).toEqual(["hang", 200]);
  });

  it("parks a delivery after WEBHOOK_MAX_ATTEMPTS, lists it as failed, and replays it on POST retry", async () => {
    const secret = newWebhookSecret();
    const hooks = await receiver(secret);
    hooks.answer(503, 503, 503);
    const gw = await gateway({ WEBHOOK_URL: hooks.url, WEBHOOK_SECRET: secret, WEBHOOK_MAX_ATTEMPTS: "3" });
    gw.gateway.events.publish({ type: "session.state", session: session("needs_attention") });

    const [parked] = await eventually(async () => {
      const items = await deliveries(gw, "?status=failed");
      return items.length > 0 ? items : undefined;
    });
    expect(parked).toMatchObject({ type: "session.state", status: "failed", attempts: 3, nextAttemptAt: null });
    expect(parked!.lastError).toMatch(/^HTTP 503/);
    expect(Object.keys(parked!).sort()).toEqual([
      "attempts",
      "createdAt",
      "eventId",
      "id",
      "lastError",
      "nextAttemptAt",
      "status",
      "type",
      "updatedAt",
    ]);
    expect(hooks.received).toHaveLength(3);

    const detail = (await (await gw.call("GET", `/webhooks/deliveries/${parked!.id}`)).json()) as DeliveryView;
    expect(detail.payload).toMatchObject({ type: "session.state", data: { state: "needs_attention" } });

    const replay = await gw.call("POST", `/webhooks/deliveries/${parked!.id}/retry`);
    expect(replay.status).toBe(202);
    expect(await replay.json()).toMatchObject({ id: parked!.id, status: "pending" });
    const delivered = await eventually(async () => {
      const d = (await (await gw.call("GET", `/webhooks/deliveries/${parked!.id}`)).json()) as DeliveryView;
      return d.status === "delivered" ? d : undefined;
    });
    expect(delivered.attempts).toBe(1);
    expect(hooks.received.map((r) => r.answer)).toEqual([503, 503, 503, 200]);
    expect(hooks.verified.every((r) => r.headers["webhook-id"] === parked!.eventId)).toBe(true);
    expect(await deliveries(gw, "?status=failed")).toEqual([]);

    const again = await gw.call("POST", `/webhooks/deliveries/${parked!.id}/retry`);
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: "WEBHOOK.NOT_PARKED", status: 409 });
    const unknown = await gw.call("POST", "/webhooks/deliveries/whd_nope/retry");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "WEBHOOK.DELIVERY_NOT_FOUND" });
    expect((await gw.call("GET", "/webhooks/deliveries/whd_nope")).status).toBe(404);
  });

  it("keeps deliveries queued while the receiver is down across a gateway restart, then delivers each once", async () => {
    const secret = newWebhookSecret();
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const down = await WebhookReceiver.start(secret);
    const port = down.port;
    await down.close();
    const env = {
      WEBHOOK_URL: `http://127.0.0.1:${port}/hooks`,
      WEBHOOK_SECRET: secret,
      WEBHOOK_BACKOFF_BASE_MS: "3000",
      WEBHOOK_BACKOFF_MAX_MS: "3000",
    };

    const first = await gateway(env, dir.path);
    for (const state of ["connecting", "open", "reconnecting"] as const)
      first.gateway.events.publish({ type: "session.state", session: session(state) });
    const queued = await eventually(async () => {
      const items = await deliveries(first, "?status=pending");
      // One session's events go one at a time: only the oldest has been tried.
      return items.length === 3 && items.some((d) => d.attempts >= 1) ? items : undefined;
    });
    expect(queued.find((d) => d.attempts >= 1)!.lastError).toMatch(/ECONNREFUSED|fetch failed/);
    await first.close();

    const hooks = await receiver(secret, port);
    const second = await gateway(env, dir.path);
    await eventually(
      async () => ((await deliveries(second, "?status=delivered")).length === 3 ? true : undefined),
      15_000,
      "3 delivered",
    );
    expect(hooks.verified.map((r) => r.payload!.data.state)).toEqual(["connecting", "open", "reconnecting"]);
    expect(hooks.verified.map((r) => r.headers["webhook-id"]).sort()).toEqual(queued.map((d) => d.eventId).sort());
  });

  it("delivers, after the next start, the event of a change a crash cut off from it", async () => {
    const secret = newWebhookSecret();
    const hooks = await receiver(secret);
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const env = { WEBHOOK_URL: hooks.url, WEBHOOK_SECRET: secret };
    const first = await gateway(env, dir.path);
    const posted = (await (
      await first.call("POST", "/messages", { body: { to: "+40712345678", text: "hi" } })
    ).json()) as { id: string };
    await eventually(
      () => hooks.verified.some((r) => r.payload!.data.status === "sent") || undefined,
      10_000,
      "the sent event",
    );
    await first.close();

    // The process commits the delivery receipt and dies before queuing its event.
    const store = new SqliteMessageStore({ path: join(dir.path, "messages.db") });
    await store.applyStatus(
      { provider: "baileys", providerMessageId: `baileys-${posted.id}`, status: "delivered" },
      new Date(),
    );
    await store.close();

    await gateway(env, dir.path);
    await eventually(
      () => hooks.verified.some((r) => r.payload!.data.status === "delivered") || undefined,
      10_000,
      "the delivered event",
    );
    const events = hooks.verified.map((r) => `${r.payload!.type} ${String(r.payload!.data.status)}`);
    expect(events).toEqual(["message.status sent", "message.status delivered"]);
  });

  it("fails verification at a receiver holding another secret (the check can fail)", async () => {
    const secret = newWebhookSecret();
    const wrong = await receiver(newWebhookSecret());
    const gw = await gateway({ WEBHOOK_URL: wrong.url, WEBHOOK_SECRET: secret, WEBHOOK_MAX_ATTEMPTS: "2" });
    gw.gateway.events.publish({ type: "session.state", session: session("open") });
    await eventually(async () => ((await deliveries(gw, "?status=failed")).length === 1 ? true : undefined));
    expect(wrong.verified).toEqual([]);
    expect(wrong.received[0]!.verifyError).toBe("No matching signature found");
    // The same request verifies with the gateway's secret: only the secret differed.
    const { body, headers } = wrong.received[0]!;
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ type: "session.state" });
    expect(() => new Webhook(secret).verify(body.replace("open", "qr"), headers)).toThrow(
      "No matching signature found",
    );
  });
});

describe("GET /webhooks/deliveries", () => {
  it("rejects a bad query with a problem naming the field, and wants an API key", async () => {
    const secret = newWebhookSecret();
    const hooks = await receiver(secret);
    const gw = await gateway({ WEBHOOK_URL: hooks.url, WEBHOOK_SECRET: secret });
    for (const [query, field] of [
      ["?status=parked", "status"],
      ["?limit=0", "limit"],
      ["?limit=abc", "limit"],
      ["?cursor=%20", "cursor"],
      ["?colour=red", "colour"],
    ] as const) {
      const res = await gw.call("GET", `/webhooks/deliveries${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      const problem = (await res.json()) as { code: string; errors: { field: string }[] };
      expect(problem.code).toBe("REQUEST.INVALID");
      expect(problem.errors.map((e) => e.field)).toContain(field);
    }
    const cursor = await gw.call("GET", "/webhooks/deliveries?cursor=bm9wZQ");
    expect(cursor.status).toBe(400);
    expect((await gw.call("GET", "/webhooks/deliveries", { auth: false })).status).toBe(401);
    expect((await gw.call("POST", "/webhooks/deliveries/x/retry", { auth: false })).status).toBe(401);
  });

  it("pages with a cursor", async () => {
    const secret = newWebhookSecret();
    const hooks = await receiver(secret);
    const gw = await gateway({ WEBHOOK_URL: hooks.url, WEBHOOK_SECRET: secret });
    for (const state of ["connecting", "open", "reconnecting"] as const)
      gw.gateway.events.publish({ type: "session.state", session: session(state) });
    await eventually(async () => ((await deliveries(gw, "?status=delivered")).length === 3 ? true : undefined));
    const page1 = (await (await gw.call("GET", "/webhooks/deliveries?limit=2")).json()) as {
      items: DeliveryView[];
      nextCursor: string;
    };
    const page2 = (await (await gw.call("GET", `/webhooks/deliveries?limit=2&cursor=${page1.nextCursor}`)).json()) as {
      items: DeliveryView[];
      nextCursor: null;
    };
    expect(page1.items).toHaveLength(2);
    expect(page2).toMatchObject({ nextCursor: null, items: [expect.objectContaining({ type: "session.state" })] });
  });

  it("does not exist when no WEBHOOK_URL is configured", async () => {
    const gw = await gateway({});
    const res = await gw.call("GET", "/webhooks/deliveries");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "ROUTE.NOT_FOUND" });
  });
});
