import { describe, expect, it } from "vitest";
import type { DisconnectReason } from "../../../src/domain/session.ts";
import type { FaultRequest } from "../../fakes/whatsapp/index.ts";
import { connect, openSession, outbound, startSim } from "./harness.ts";

const PHONE = "15550401001";

// One login goes through every fault in turn, reconnecting after each (one
// prekey upload instead of one per case); 401 unlinks the device, so it is last.
const faults: Array<[string, Omit<FaultRequest, "phone">, number, DisconnectReason]> = [
  ["close", { kind: "close" }, 428, "connection_closed"],
  ["close with a TCP reset", { kind: "close", reset: true }, 428, "connection_closed"],
  ["stream error 515", { kind: "stream-error", code: 515 }, 515, "restart_required"],
  ["stream error 440 (replaced)", { kind: "stream-error", code: 440 }, 440, "replaced"],
  ["stream error 503", { kind: "stream-error", code: 503 }, 503, "unavailable"],
  ["stream error 500", { kind: "stream-error", code: 500 }, 500, "bad_session"],
  ["failure 403", { kind: "failure", code: 403 }, 403, "forbidden"],
  ["failure 405", { kind: "failure", code: 405 }, 405, "outdated_client"],
  ["stream error 401", { kind: "stream-error", code: 401 }, 401, "logged_out"],
];

describe("BaileysConnector: disconnects", () => {
  it("reports each fault as one close event with its reason and code, and reconnects on the same stored login", async () => {
    const sim = await startSim();
    const first = await openSession(sim, PHONE);
    let current = first;
    const seen: Array<[string, number, DisconnectReason]> = [];

    for (const [name, fault] of faults) {
      if (current !== first) await current.events.waitFor("open");
      expect(sim.fault({ ...fault, phone: PHONE }), name).toBe(1);
      const { closed } = await current.events.waitFor("close");
      seen.push([name, closed.code, closed.reason]);
      expect(
        current.events.all.filter((e) => e.type === "close"),
        name,
      ).toHaveLength(1);
      expect(current.events.all.at(-1)?.type, name).toBe("close");
      current = { ...first, ...(await connect(first.connector, "main")) };
    }

    expect(seen).toEqual(faults.map(([name, , code, reason]) => [name, code, reason]));
    // After 401 the device is unlinked: the stored login is refused.
    expect((await current.events.waitFor("close")).closed).toMatchObject({ code: 401, reason: "logged_out" });
    expect(sim.stats().accounts[PHONE]?.connections).toBe(faults.length);
  });

  it("after a drop, connect() again opens on the same stored login and sends", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connector, events } = await openSession(sim, PHONE);
    sim.fault({ phone: PHONE, kind: "close" });
    await events.waitFor("close");

    const again = await connect(connector, "main");
    await again.events.waitFor("open");
    await again.connection.send(outbound("15550409001", "after the drop"));

    expect(sim.messages(PHONE).map((m) => m.text)).toEqual(["after the drop"]);
    expect(sim.stats().accounts[PHONE]?.connections).toBe(2);
  });
});
