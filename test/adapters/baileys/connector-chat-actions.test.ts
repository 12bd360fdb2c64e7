import { describe, expect, it } from "vitest";
import { openSession, startSim } from "./harness.ts";

const ME = "15550301901";
const CONTACT = "15550309901";
const STRANGER = "15550309902";

describe("BaileysConnector: read marks, typing and lookups", () => {
  it("marks messages read in the chat they came in, by number and by LID", async () => {
    const sim = await startSim();
    const { connection, events } = await openSession(sim, ME);
    const byNumber = await sim.inbound({ from: CONTACT, to: ME, text: "read me" });
    await events.waitFor("inbound", (e) => e.message.providerMessageId === byNumber.id);

    await connection.markRead(byNumber.id, `whatsapp:+${CONTACT}`);
    const byLid = await sim.inbound({ from: CONTACT, to: ME, text: "and me", fromLid: true });
    await events.waitFor("inbound", (e) => e.message.providerMessageId === byLid.id);
    await connection.markRead(byLid.id, `whatsapp:+${CONTACT}`);

    await expect
      .poll(() =>
        sim
          .clientReceipts(ME)
          .filter((r) => r.type === "read")
          .map(({ id, to }) => ({ id, to })),
      )
      .toEqual([
        { id: byNumber.id, to: CONTACT },
        { id: byLid.id, to: CONTACT },
      ]);
  });

  it("shows typing, recording and paused to the contact", async () => {
    const sim = await startSim();
    const { connection } = await openSession(sim, ME);
    const to = `whatsapp:+${CONTACT}`;

    await connection.presence(to, "composing");
    await connection.presence(to, "recording");
    await connection.presence(to, "paused");

    await expect
      .poll(() =>
        sim
          .presence(ME)
          .filter((p) => p.to !== null)
          .map(({ to, state }) => ({ to, state })),
      )
      .toEqual([
        { to: CONTACT, state: "composing" },
        { to: CONTACT, state: "recording" },
        { to: CONTACT, state: "paused" },
      ]);
  });

  it("looks a number up: on WhatsApp with its LID, or not on WhatsApp", async () => {
    const sim = await startSim();
    const { connection } = await openSession(sim, ME);
    const { lid } = sim.setContact(CONTACT, true);
    sim.setContact(STRANGER, false);

    const known = await connection.lookup(`+${CONTACT}`);
    const unknown = await connection.lookup(`whatsapp:+${STRANGER}`);

    expect(known).toEqual({ address: `whatsapp:+${CONTACT}`, onWhatsApp: true, lid });
    expect(unknown).toEqual({ address: `whatsapp:+${STRANGER}`, onWhatsApp: false, lid: null });
  });

  it("refuses an address that is no WhatsApp number for good, and everything retryably once closed", async () => {
    const sim = await startSim();
    const { connection } = await openSession(sim, ME);

    await expect(connection.lookup("sms:+15550309903")).rejects.toMatchObject({
      providerId: "baileys",
      retryable: false,
      providerCode: "invalid-recipient",
    });
    connection.end();
    const to = `whatsapp:+${CONTACT}`;
    for (const action of [
      () => connection.markRead("ABC", to),
      () => connection.presence(to, "composing"),
      () => connection.lookup(to),
    ]) {
      await expect(action()).rejects.toMatchObject({
        providerId: "baileys",
        retryable: true,
        providerCode: "not-open",
      });
    }
  });

  it("a chat action the server does not answer fails retryably", async () => {
    const sim = await startSim();
    const { connection } = await openSession(sim, ME, { defaultQueryTimeoutMs: 500 });
    sim.fault({ phone: ME, kind: "silence" });

    await expect(connection.lookup(`whatsapp:+${CONTACT}`)).rejects.toMatchObject({
      providerId: "baileys",
      retryable: true,
    });
  });
});
