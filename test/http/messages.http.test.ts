import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually, startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";

let gw: InProcessGateway;
beforeEach(async () => {
  gw = await startInProcessGateway();
});
afterEach(async () => {
  await gw.close();
});

async function problemOf(res: Response) {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as {
    code: string;
    status: number;
    detail: string;
    errors?: { field: string; message: string }[];
  };
}

describe("POST /messages", () => {
  it("commits the message and answers 202 with the message and its Location", async () => {
    const res = await gw.call("POST", "/messages", {
      body: { to: "+40712345678", text: "hello", metadata: { order: 42 } },
    });
    expect(res.status).toBe(202);
    const message = (await res.json()) as Record<string, unknown>;
    expect(res.headers.get("location")).toBe(`/messages/${String(message.id)}`);
    expect(message).toMatchObject({
      direction: "outbound",
      status: "queued",
      channel: "whatsapp",
      provider: "baileys",
      session: "default",
      to: "whatsapp:+40712345678",
      text: "hello",
      metadata: { order: 42 },
      attempts: 0,
      error: null,
    });
    const fetched = (await (await gw.call("GET", `/messages/${String(message.id)}`)).json()) as Record<string, unknown>;
    expect(fetched.id).toBe(message.id);
  });

  it("delivers through the provider and shows the status history", async () => {
    const res = await gw.call("POST", "/messages", { body: { to: "whatsapp:+40712345678", text: "hi" } });
    const { id } = (await res.json()) as { id: string };
    const delivered = await eventually(async () => {
      const m = (await (await gw.call("GET", `/messages/${id}`)).json()) as {
        status: string;
        history: { status: string }[];
        providerMessageId: string;
        attempts: number;
      };
      return m.status === "sent" ? m : undefined;
    });
    expect(delivered.history.map((h) => h.status)).toEqual(["queued", "sending", "sent"]);
    expect(delivered.providerMessageId).toBe(`baileys-${id}`);
    expect(delivered.attempts).toBe(1);
    expect(gw.provider.sent.map((m) => m.id)).toEqual([id]);
  });

  it("returns the same message for the same Idempotency-Key and body, 409 for another body", async () => {
    const headers = { "idempotency-key": "order-42" };
    const first = await gw.call("POST", "/messages", { body: { to: "+40712345678", text: "once" }, headers });
    // Same body with keys in another order is the same request.
    const again = await gw.call("POST", "/messages", {
      raw: JSON.stringify({ text: "once", to: "+40712345678" }),
      headers: { ...headers, "content-type": "application/json" },
    });
    const other = await gw.call("POST", "/messages", { body: { to: "+40712345678", text: "twice" }, headers });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(((await again.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(other.status).toBe(409);
    expect((await problemOf(other)).code).toBe("IDEMPOTENCY.CONFLICT");
    const list = (await (await gw.call("GET", "/messages")).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(1);
  });

  it.each([
    [{ text: "no recipient" }, "to"],
    [{ to: "+40712345678" }, "text"],
    [{ to: 40712345678, text: "x" }, "to"],
    [{ to: "+40712345678", text: 5 }, "text"],
    [{ to: "12345", text: "x" }, "to"],
    [{ to: "+40712345678", text: "x", channel: "fax" }, "channel"],
    [{ to: "+40712345678", text: "x", session: "../etc" }, "session"],
    [{ to: "+40712345678", text: "x", tooo: 1 }, "tooo"],
    [{ to: "+40712345678", text: "x", metadata: [1, 2] }, "metadata"],
    [{ to: "+40712345678", text: "x".repeat(5000) }, "text"],
    [{ to: "+40712345678", text: "x", mediaUrls: ["ftp://x"] }, "mediaUrls.0"],
  ])("answers 400 naming the field for %j", async (body, field) => {
    const res = await gw.call("POST", "/messages", { body });
    expect(res.status).toBe(400);
    const p = await problemOf(res);
    expect(["REQUEST.INVALID", "ADDRESS.INVALID"]).toContain(p.code);
    expect(p.errors?.map((e) => e.field)).toContain(field);
  });

  it.each(["[]", "null", "42", '"text"'])("answers 400 for a JSON body that is not an object: %s", async (raw) => {
    const res = await gw.call("POST", "/messages", { raw, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("REQUEST.INVALID");
  });

  it.each(['{"to": ', "{'to': 1}", "", "\u0000"])("answers 400 MALFORMED_JSON for %j", async (raw) => {
    const res = await gw.call("POST", "/messages", { raw, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("REQUEST.MALFORMED_JSON");
  });

  it("answers 415 for a body that is not JSON", async () => {
    const res = await gw.call("POST", "/messages", {
      raw: "to=+40712345678&text=hi",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(415);
    expect((await problemOf(res)).code).toBe("REQUEST.UNSUPPORTED_MEDIA_TYPE");
    const none = await gw.call("POST", "/messages", { raw: "{}" });
    expect(none.status).toBe(415);
  });

  it("answers 413 above the body limit and stores nothing", async () => {
    const res = await gw.call("POST", "/messages", {
      body: { to: "+40712345678", text: "x", metadata: { pad: "y".repeat(70 * 1024) } },
    });
    expect(res.status).toBe(413);
    expect((await problemOf(res)).code).toBe("REQUEST.TOO_LARGE");
    const list = (await (await gw.call("GET", "/messages")).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(0);
  });

  it("answers 404 for an unknown session and 400 for a provider that is not enabled", async () => {
    const session = await gw.call("POST", "/messages", { body: { to: "+40712345678", text: "x", session: "nobody" } });
    expect(session.status).toBe(404);
    expect((await problemOf(session)).code).toBe("SESSION.NOT_FOUND");
    const sms = await gw.call("POST", "/messages", { body: { to: "sms:+40712345678", text: "x" } });
    expect(sms.status).toBe(400);
    expect((await problemOf(sms)).code).toBe("PROVIDER.NOT_ENABLED");
  });

  it("answers 400 for a bad Idempotency-Key", async () => {
    const res = await gw.call("POST", "/messages", {
      body: { to: "+40712345678", text: "x" },
      headers: { "idempotency-key": "x".repeat(300) },
    });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).errors?.[0]?.field).toBe("Idempotency-Key");
  });
});

describe("GET /messages", () => {
  it("filters and pages with a cursor, newest first, without gaps or repeats", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await gw.call("POST", "/messages", {
        body: { to: `+4071234567${i}`, text: `m${i}`, session: i % 2 ? "other" : "default" },
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (await gw.call("GET", `/messages?limit=3${cursor ? `&cursor=${cursor}` : ""}`)).json()) as {
        items: { id: string }[];
        nextCursor: string | null;
      };
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((m) => m.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const other = (await (await gw.call("GET", "/messages?session=other&direction=outbound")).json()) as {
      items: { session: string }[];
    };
    expect(other.items).toHaveLength(3);
    expect(other.items.every((m) => m.session === "other")).toBe(true);
  });

  it.each([
    "limit=0",
    "limit=101",
    "limit=abc",
    "limit=1e2",
    "status=lost",
    "direction=sideways",
    "cursor=%00",
    "colour=red",
  ])("answers 400 for ?%s", async (query) => {
    const res = await gw.call("GET", `/messages?${query}`);
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("REQUEST.INVALID");
  });

  it("answers 404 with a problem for an unknown id", async () => {
    const res = await gw.call("GET", "/messages/does-not-exist");
    expect(res.status).toBe(404);
    expect((await problemOf(res)).code).toBe("MESSAGE.NOT_FOUND");
  });
});

describe("authentication", () => {
  it.each([undefined, "Bearer wrong", "Basic dGVzdA==", "Bearer", `bearer  test-key-0123456789x`])(
    "rejects %s with 401",
    async (authorization) => {
      const res = await gw.call("GET", "/messages", { auth: false, headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect((await problemOf(res)).code).toBe("AUTH.UNAUTHORIZED");
    },
  );

  it("accepts the key case-insensitively on the scheme", async () => {
    const res = await gw.call("GET", "/messages", {
      auth: false,
      headers: { authorization: "bearer test-key-0123456789" },
    });
    expect(res.status).toBe(200);
  });

  it.each(["/health", "/ready", "/openapi.json", "/docs"])("leaves %s public", async (path) => {
    const res = await gw.call("GET", path, { auth: false });
    expect(res.status).toBe(200);
  });
});

describe("system routes", () => {
  it("reports health with version, sessions and stores", async () => {
    const health = (await (await gw.call("GET", "/health")).json()) as Record<string, unknown>;
    expect(health).toMatchObject({
      status: "ok",
      version: "0.0.0-test",
      stores: { messages: { status: "ok", kind: "sqlite" } },
    });
    expect(typeof health.uptimeS).toBe("number");
  });

  it("is ready once the store answers and providers started", async () => {
    expect((await gw.call("GET", "/ready")).status).toBe(200);
  });

  it("serves an OpenAPI document that describes POST /messages, and a page rendering it", async () => {
    const doc = (await (await gw.call("GET", "/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/messages", "/messages/{id}", "/health", "/ready"]),
    );
    expect(doc.paths["/messages"]).toHaveProperty("post");
    const page = await gw.call("GET", "/docs");
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(await page.text()).toContain("/openapi.json");
  });

  it("answers unknown routes with a 404 problem", async () => {
    const res = await gw.call("GET", "/nope");
    expect(res.status).toBe(404);
    expect((await problemOf(res)).code).toBe("ROUTE.NOT_FOUND");
  });
});
