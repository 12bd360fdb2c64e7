import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFuzzTargets, type FuzzTargets } from "./fuzz-targets.ts";
import { allRoutes, fuzzRoute } from "./run-fuzz.ts";

// Property-based fuzz of every JSON route and both Twilio webhooks (see
// test/fuzz/README.md). A short run here on every `npm test`; long runs with
// `npx tsx scripts/fuzz.ts --runs N`. FUZZ_SEED replays a reported seed.

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

let targets: FuzzTargets;
beforeAll(async () => {
  targets = await startFuzzTargets();
});
afterAll(async () => {
  await targets.close();
});

describe("hostile input never breaks the HTTP contract", () => {
  // The route list needs the running targets (API key, Twilio credentials); names are fixed.
  const names = [
    "POST /messages",
    "POST /messages (twilio)",
    "GET /messages",
    "GET /messages/{id}",
    "GET /sessions",
    "POST /sessions",
    "GET /sessions/{id}",
    "GET /sessions/{id}/qr",
    "POST /sessions/{id}/pairing-code",
    "POST /sessions/{id}/connect",
    "DELETE /sessions/{id}",
    "GET /webhooks/deliveries",
    "GET /webhooks/deliveries/{id}",
    "POST /webhooks/deliveries/{id}/retry",
    "any method, any path",
    "any method, any path (rate limited)",
    "POST /webhooks/twilio/inbound (signed)",
    "POST /webhooks/twilio/status (signed)",
    "POST /webhooks/twilio/inbound (unsigned)",
    "POST /webhooks/twilio/status (unsigned)",
  ];

  it("covers every route the fuzz defines", () => {
    expect(allRoutes(targets).map((r) => r.name)).toEqual(names);
  });

  it.each(names)("%s: no 5xx, no throw, problem+json with a known code", async (name) => {
    const route = allRoutes(targets).find((r) => r.name === name)!;
    const report = await fuzzRoute(route, targets, { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) });
    expect(report.failure, JSON.stringify(report.failure, null, 2)).toBeUndefined();
    expect(report.cases).toBe(RUNS);
  });

  it("leaves every gateway healthy afterwards", async () => {
    for (const app of [
      targets.memory.gateway.app,
      targets.sessions.gateway.app,
      targets.twilio.gw.gateway.app,
      targets.limited.gateway.app,
    ]) {
      expect((await app.request("/health")).status).toBe(200);
    }
  });
});
