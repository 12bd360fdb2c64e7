import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";

let gw: InProcessGateway;
beforeEach(async () => {
  gw = await startInProcessGateway();
});
afterEach(async () => {
  await gw.close();
});

describe("the OpenAPI document", () => {
  it("describes every route the app serves", async () => {
    const doc = (await (await gw.call("GET", "/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const served = gw.gateway.app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => ({
        method: r.method.toLowerCase(),
        path: r.path.replace(/:([A-Za-z]+)(\{[^}]*\})?/g, "{$1}").replace(/\/$/, "") || "/",
      }));
    expect(served.length).toBeGreaterThan(10);
    const missing = served
      .filter((r) => !doc.paths[r.path]?.[r.method])
      .map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
  });
});
