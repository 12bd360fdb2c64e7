import { Hono } from "hono";
import type { CheckHealth } from "../use-cases/check-health.ts";
import { docsPage } from "./docs-page.ts";

export function systemRoutes(deps: {
  health: CheckHealth;
  openapi: Record<string, unknown>;
  metrics: { render(): Promise<string> };
}): Hono {
  const routes = new Hono();
  routes.get("/health", async (c) => c.json(await deps.health.health()));
  routes.get("/ready", async (c) => {
    const { ready, reasons } = await deps.health.ready();
    return c.json({ ready, reasons }, ready ? 200 : 503);
  });
  routes.get("/metrics", async (c) =>
    c.body(await deps.metrics.render(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }),
  );
  routes.get("/openapi.json", (c) => c.json(deps.openapi));
  routes.get("/docs", (c) => c.html(docsPage));
  return routes;
}
