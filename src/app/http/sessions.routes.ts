import { Hono } from "hono";
import QRCode from "qrcode";
import { z } from "zod";
import { DomainError } from "../../domain/errors.ts";
import type { SessionControl } from "../../domain/ports/messaging-provider.port.ts";
import { fieldIssues, invalidRequest } from "./issues.ts";
import { readJsonBody } from "./request-body.ts";

const createBody = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "must be 1-64 letters, digits, _ or -, starting with a letter or digit"),
});
const pairingBody = z.strictObject({
  phone: z.string().regex(/^\+?[1-9]\d{6,14}$/, "must be the account's phone number in E.164, e.g. +40712345678"),
});

/**
 * WhatsApp sessions (linked accounts): create, list, inspect, delete (logout
 * + wipe), connect an idle one, QR as JSON or PNG, pairing codes.
 */
export function sessionsRoutes(deps: { sessions: SessionControl | undefined; bodyLimitBytes: number }): Hono {
  const routes = new Hono();
  const control = (): SessionControl => {
    if (!deps.sessions)
      throw new DomainError(
        "SESSION.NOT_SUPPORTED",
        "this gateway runs no provider with sessions (GATEWAY_PROVIDERS has no baileys)",
      );
    return deps.sessions;
  };
  const found = (id: string) => {
    const info = control().get(id);
    if (!info) throw new DomainError("SESSION.NOT_FOUND", `no session "${id}"`);
    return info;
  };

  routes.get("/", (c) => c.json({ items: deps.sessions?.list() ?? [] }));

  routes.post("/", async (c) => {
    const body = createBody.safeParse(await readJsonBody(c, deps.bodyLimitBytes));
    if (!body.success) throw invalidRequest(fieldIssues(body.error));
    const info = await control().create(body.data.id);
    c.header("location", `/sessions/${encodeURIComponent(info.id)}`);
    return c.json(info, 201);
  });

  routes.get("/:id", (c) => c.json(found(c.req.param("id"))));

  routes.delete("/:id", async (c) => {
    found(c.req.param("id"));
    await control().remove(c.req.param("id"));
    return c.body(null, 204);
  });

  routes.post("/:id/connect", async (c) => {
    found(c.req.param("id"));
    return c.json(await control().connect(c.req.param("id")), 202);
  });

  routes.get("/:id/qr", async (c) => {
    const id = c.req.param("id");
    const info = found(id);
    const qr = control().qr(id);
    if (!qr) {
      const hint =
        info.state === "open"
          ? "the session is already linked"
          : info.state === "stopped" || info.state === "logged_out"
            ? `the session is ${info.state}; POST /sessions/${id}/connect for a new QR`
            : "no QR is pending yet; retry in a moment";
      throw new DomainError("SESSION.NO_QR", hint);
    }
    if ((c.req.header("accept") ?? "").includes("image/png")) {
      const png = await QRCode.toBuffer(qr.qr, { type: "png", margin: 2, width: 384 });
      return c.body(new Uint8Array(png), 200, { "content-type": "image/png", "cache-control": "no-store" });
    }
    c.header("cache-control", "no-store");
    return c.json(qr);
  });

  routes.post("/:id/pairing-code", async (c) => {
    const id = c.req.param("id");
    found(id);
    const body = pairingBody.safeParse(await readJsonBody(c, deps.bodyLimitBytes));
    if (!body.success) throw invalidRequest(fieldIssues(body.error));
    try {
      return c.json({ code: await control().requestPairingCode(id, body.data.phone.replace(/^\+/, "")) });
    } catch (error) {
      if (error instanceof DomainError) throw error;
      throw new DomainError(
        "PROVIDER.UNAVAILABLE",
        `could not get a pairing code: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  });

  return routes;
}
