import { DisconnectReason } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import type { FaultRequest } from "../fakes/whatsapp/index.ts";
import { client, jid, linkedClient, reconnectUntilOpen, startSim } from "./harness.ts";

const PHONE = "15550002001";

const cases: Array<[string, Omit<FaultRequest, "phone">, number]> = [
  ["close", { kind: "close" }, DisconnectReason.connectionClosed],
  ["close with a TCP reset", { kind: "close", reset: true }, DisconnectReason.connectionClosed],
  ["stream error 515", { kind: "stream-error", code: 515 }, DisconnectReason.restartRequired],
  ["stream error 401", { kind: "stream-error", code: 401 }, DisconnectReason.loggedOut],
  ["stream error 440 (conflict)", { kind: "stream-error", code: 440 }, DisconnectReason.connectionReplaced],
  ["stream error 500", { kind: "stream-error", code: 500 }, DisconnectReason.badSession],
  ["stream error 503", { kind: "stream-error", code: 503 }, DisconnectReason.unavailableService],
  ["failure 401", { kind: "failure", code: 401 }, DisconnectReason.loggedOut],
  ["failure 403", { kind: "failure", code: 403 }, DisconnectReason.forbidden],
  ["failure 405", { kind: "failure", code: 405 }, 405],
  ["failure without reason", { kind: "failure" }, DisconnectReason.badSession],
];

describe("faults map to Baileys' DisconnectReason codes", () => {
  it.each(cases)("%s", async (_name, fault, expected) => {
    const sim = await startSim();
    const wa = await linkedClient(sim, PHONE);

    expect(sim.fault({ ...fault, phone: PHONE })).toBe(1);

    expect(await wa.waitForClose(0)).toBe(expected);
  });

  it("stops answering: the client's keep-alive gives up with 408", async () => {
    const sim = await startSim();
    const wa = await linkedClient(sim, PHONE, { keepAliveIntervalMs: 500 });

    sim.fault({ phone: PHONE, kind: "silence" });

    expect(await wa.waitForClose(0, 15_000)).toBe(DisconnectReason.connectionLost);
  });

  it("a logged-out device cannot log in again", async () => {
    const sim = await startSim();
    const wa = await linkedClient(sim, PHONE);
    sim.fault({ phone: PHONE, kind: "stream-error", code: 401 });
    await wa.waitForClose(0);

    wa.connect();

    expect(await wa.waitForClose(1)).toBe(DisconnectReason.loggedOut);
  });

  it("a restart (515) reconnects and works again", async () => {
    const sim = await startSim();
    const wa = await linkedClient(sim, PHONE);
    sim.fault({ phone: PHONE, kind: "stream-error", code: 515 });
    await wa.waitForClose(0);

    wa.connect();
    await wa.waitForOpen();
    await wa.sock!.sendMessage(jid("15550009002"), { text: "after restart" });

    expect((await sim.waitForMessages(PHONE, 1))[0]?.text).toBe("after restart");
    expect(sim.stats().accounts[PHONE]?.connections).toBe(2);
  });

  it("a second login with the same device replaces the first (440)", async () => {
    const sim = await startSim();
    const first = await linkedClient(sim, PHONE);
    const second = client({ wsUrl: sim.wsUrl, auth: first.auth });

    second.connect();
    await second.waitForOpen();

    expect(await first.waitForClose(0)).toBe(DisconnectReason.connectionReplaced);
  });

  it("an outage closes every connection and refuses new ones until it ends", async () => {
    const sim = await startSim();
    const a = await linkedClient(sim, PHONE);
    const b = await linkedClient(sim, "15550002002");

    sim.outage(2);
    expect(await a.waitForClose(0)).toBe(DisconnectReason.connectionClosed);
    expect(await b.waitForClose(0)).toBe(DisconnectReason.connectionClosed);
    a.connect();
    expect(await a.waitForClose(1)).toBe(DisconnectReason.connectionClosed);
    await reconnectUntilOpen(a, 200);

    expect(a.isOpen).toBe(true);
    expect(sim.stats().accounts[PHONE]?.connections).toBe(2);
  });

  it("delays every frame by the configured amount and still works", async () => {
    const sim = await startSim({ frameDelayMs: 20 });
    const wa = await linkedClient(sim, PHONE);

    const sent = await wa.sock!.sendMessage(jid("15550009003"), { text: "slowly" });
    await wa.waitFor(() => (wa.statuses.get(sent!.key.id!) ?? 0) >= 4 || undefined, "READ");

    expect(sim.messages(PHONE).map((m) => m.text)).toEqual(["slowly"]);
  });

  it("delays frames like a link's latency: a burst arrives one delay later, not one delay per frame", async () => {
    const sim = await startSim();
    const wa = await linkedClient(sim, PHONE);
    const to = jid("15550009004");
    await wa.sock!.sendMessage(to, { text: "devices and session known" });
    sim.setFrameDelay(300);
    const acked = new Set<string>();
    wa.sock!.ws.on(
      "CB:ack,class:message",
      (node: { attrs: { id?: string } }) => void (node.attrs.id && acked.add(node.attrs.id)),
    );
    const started = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await wa.sock!.sendMessage(to, { text: `burst ${i}` }))!.key.id!);
    await wa.waitFor(() => ids.every((id) => acked.has(id)) || undefined, "8 acks");
    const elapsed = Date.now() - started;
    // Eight acks one delay after their messages: about 300 ms; queued one
    // behind another (bandwidth, not latency), they would take 2.4 s.
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
  });
});
