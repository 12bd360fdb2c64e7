import { describe, expect, it } from "vitest";
import { jid, linkedClient, reconnectUntilOpen, startSim } from "./harness.ts";

const ACCOUNTS = Array.from({ length: 10 }, (_, i) => `1555000500${i}`);
const CONTACT = "15550009010";

describe("many accounts and many messages", () => {
  it("ten accounts ride out an outage, then one sends 1,000 messages, all recorded once, in order", async () => {
    const sim = await startSim();
    const clients = await Promise.all(ACCOUNTS.map((phone) => linkedClient(sim, phone)));

    sim.outage(1);
    await Promise.all(clients.map((wa) => wa.waitForClose(0)));
    await Promise.all(clients.map((wa) => reconnectUntilOpen(wa)));
    const sender = clients[0]!;
    const ids: string[] = [];
    for (let i = 0; i < 1_000; i++) {
      const sent = await sender.sock!.sendMessage(jid(CONTACT), { text: `queued ${i}` });
      ids.push(sent!.key.id!);
    }
    const received = await sim.waitForMessages(ACCOUNTS[0]!, 1_000, 60_000);

    expect(received.map((m) => m.id)).toEqual(ids);
    expect(received.map((m) => m.text)).toEqual(ids.map((_, i) => `queued ${i}`));
    expect(sim.stats().accounts[ACCOUNTS[0]!]).toMatchObject({
      messagesReceived: 1_000,
      uniqueIds: 1_000,
      duplicates: 0,
    });
    for (const phone of ACCOUNTS) expect(sim.stats().accounts[phone]).toMatchObject({ connections: 2, online: true });
  });
});
