// The framework floor of the accept benchmark: the same Hono version on the
// same @hono/node-server adapter the gateway uses, with one route that parses
// the JSON body and answers 202 with a small JSON document. Nothing else: no
// auth, no validation, no store. The gateway cannot be faster than this.
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.post("/messages", async (c) => {
  const body = (await c.req.json()) as { to?: unknown };
  return c.json({ id: "x", status: "queued", to: body.to ?? null }, 202);
});
const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
  process.stdout.write(`${JSON.stringify({ port: info.port })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
