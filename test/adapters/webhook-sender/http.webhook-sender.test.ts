import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { HttpWebhookSender } from "../../../src/adapters/webhook-sender/http/http.webhook-sender.ts";
import { newWebhookSecret } from "../../support/webhook-receiver.ts";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

const request = { eventId: "evt_1", body: '{"type":"session.state","timestamp":"x","data":{}}', at: new Date() };

describe("HttpWebhookSender", () => {
  it("posts the body with headers the standardwebhooks library verifies", async () => {
    const secret = newWebhookSecret();
    let verified: unknown;
    const url = await serve((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        verified = new Webhook(secret).verify(body, req.headers as Record<string, string>);
        res.writeHead(204).end();
      });
    });
    expect(await new HttpWebhookSender({ url, secret, timeoutMs: 2000 }).send(request)).toEqual({
      ok: true,
      status: 204,
    });
    expect(verified).toEqual(JSON.parse(request.body));
  });

  it("treats a redirect as a failure and does not follow it", async () => {
    let hits = 0;
    const url = await serve((_req, res) => {
      hits++;
      res.writeHead(302, { location: "/elsewhere" }).end();
    });
    const result = await new HttpWebhookSender({ url, secret: newWebhookSecret(), timeoutMs: 2000 }).send(request);
    expect(result).toMatchObject({ ok: false, status: 302 });
    expect(hits).toBe(1);
  });

  it("keeps only the start of a large error body", async () => {
    const url = await serve((_req, res) => res.writeHead(500).end("x".repeat(1_000_000)));
    const result = await new HttpWebhookSender({ url, secret: newWebhookSecret(), timeoutMs: 2000 }).send(request);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.length).toBeLessThan(260);
  });

  it("reports a timeout and a refused connection without throwing", async () => {
    const hang = await serve(() => undefined);
    expect(
      await new HttpWebhookSender({ url: hang, secret: newWebhookSecret(), timeoutMs: 100 }).send(request),
    ).toEqual({
      ok: false,
      error: "timed out after 100 ms",
    });
    const refused = await new HttpWebhookSender({
      url: "http://127.0.0.1:9/hook",
      secret: newWebhookSecret(),
      timeoutMs: 2000,
    }).send(request);
    expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/ECONNREFUSED|fetch failed/) });
  });
});
