import { describe, expect, it } from "vitest";
import { startSim } from "./harness.ts";

const ALICE = "15550004101";

async function post(base: string, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  return { status: res.status, json: await res.json() };
}

// What they do to a real Baileys client is checked by the MessagingProvider
// contract (test/adapters/messaging-provider/baileys.contract.test.ts); here, their input.
describe("control API: /control/receipt and /control/refuse", () => {
  it("a receipt needs a phone, a message id and a type, and a message that account sent", async () => {
    const sim = await startSim();
    sim.provisionAccount({ phone: ALICE });

    expect((await post(sim.controlUrl, "/control/receipt", { from: ALICE, id: "X", type: "seen" })).status).toBe(400);
    expect((await post(sim.controlUrl, "/control/receipt", { from: ALICE, type: "read" })).status).toBe(400);
    expect((await post(sim.controlUrl, "/control/receipt", { from: "nope", id: "X", type: "read" })).status).toBe(400);
    const unknown = await post(sim.controlUrl, "/control/receipt", { from: ALICE, id: "3EB0NOSUCH", type: "delivery" });
    expect(unknown).toEqual({ status: 404, json: { error: `no message 3EB0NOSUCH from ${ALICE}` } });
  });

  it("refusals queue up per account until used or reset", async () => {
    const sim = await startSim();

    expect((await post(sim.controlUrl, "/control/refuse", { phone: ALICE, code: "479" })).status).toBe(400);
    expect((await post(sim.controlUrl, "/control/refuse", { phone: ALICE, code: 47.9 })).status).toBe(400);
    expect((await post(sim.controlUrl, "/control/refuse", { phone: ALICE, code: 479, times: 0 })).status).toBe(400);
    expect(await post(sim.controlUrl, "/control/refuse", { phone: ALICE, code: 479 })).toEqual({
      status: 200,
      json: { pending: 1 },
    });
    expect(await post(sim.controlUrl, "/control/refuse", { phone: ALICE, code: 463, times: 2 })).toEqual({
      status: 200,
      json: { pending: 3 },
    });
    sim.reset();
    expect(sim.refuse(ALICE, 479)).toEqual({ pending: 1 });
  });
});
