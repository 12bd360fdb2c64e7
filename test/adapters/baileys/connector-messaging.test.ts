import { mediaFromUrl } from "../../../src/domain/media.ts";
import { describe, expect, it } from "vitest";
import { deriveWaMessageId } from "../../../src/adapters/messaging/baileys/wa-message-id.ts";
import { connect, openSession, outbound, startSim } from "./harness.ts";

const ME = "15550301001";
const CONTACT = "15550309001";

describe("BaileysConnector: messages", () => {
  it("sends with the WhatsApp id derived from our message id, acked by the server", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection } = await openSession(sim, ME);
    const message = outbound(CONTACT, "hello from the gateway");

    const receipt = await connection.send(message);

    expect(receipt).toEqual({ providerMessageId: deriveWaMessageId(message.id), status: "sent" });
    expect(sim.messages(ME)).toEqual([
      expect.objectContaining({
        id: deriveWaMessageId(message.id),
        from: ME,
        to: CONTACT,
        text: "hello from the gateway",
      }),
    ]);
  });

  it("sending the same message twice reuses the same WhatsApp id", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection } = await openSession(sim, ME);
    const message = outbound(CONTACT, "only once, please");

    const first = await connection.send(message);
    const second = await connection.send(message);

    expect(second.providerMessageId).toBe(first.providerMessageId);
    expect(sim.stats().accounts[ME]).toMatchObject({ messagesReceived: 2, uniqueIds: 1, duplicates: 1 });
  });

  it("reports receipts as status events: delivered, then read", async () => {
    const sim = await startSim({ receipts: { delayMs: 300 } });
    const { connection, events } = await openSession(sim, ME);

    const { providerMessageId } = await connection.send(outbound(CONTACT, "tell me when you read it"));
    await events.waitFor("status", (e) => e.providerMessageId === providerMessageId && e.status === "read");

    const statuses = events
      .of("status")
      .filter((e) => e.providerMessageId === providerMessageId)
      .map((e) => e.status);
    expect(statuses).toEqual(["delivered", "read"]);
  });

  it("reports a delivery receipt that Baileys folded into our own upsert", async () => {
    // A receipt within ~100 ms of the send reaches us only as the status of
    // the sender's own messages.upsert, not as a messages.update.
    const sim = await startSim({ receipts: { delayMs: 100 } });
    const { connection, events } = await openSession(sim, ME);

    const { providerMessageId } = await connection.send(outbound(CONTACT, "fast receipts"));
    await events.waitFor("status", (e) => e.providerMessageId === providerMessageId && e.status === "read");

    const statuses = events
      .of("status")
      .filter((e) => e.providerMessageId === providerMessageId)
      .map((e) => e.status);
    expect(statuses).toEqual(["delivered", "read"]);
  });

  it("turns inbound messages, Signal-encrypted and plaintext, into inbound events with the sender's number", async () => {
    const sim = await startSim();
    const { events } = await openSession(sim, ME);

    const encrypted = await sim.inbound({ from: CONTACT, to: ME, text: "secret hello" });
    const plain = await sim.inbound({ from: CONTACT, to: ME, text: "plain hello", encrypted: false });
    await events.waitFor("inbound", (e) => e.message.providerMessageId === plain.id);
    await events.waitFor("inbound", (e) => e.message.providerMessageId === encrypted.id);

    const byId = new Map(events.of("inbound").map((e) => [e.message.providerMessageId, e.message]));
    expect(byId.get(encrypted.id)).toMatchObject({
      from: `whatsapp:+${CONTACT}`,
      to: `whatsapp:+${ME}`,
      text: "secret hello",
    });
    expect(byId.get(plain.id)).toMatchObject({
      from: `whatsapp:+${CONTACT}`,
      to: `whatsapp:+${ME}`,
      text: "plain hello",
    });
    expect(byId.get(plain.id)!.at).toBeInstanceOf(Date);
  });

  it("delivers messages that arrived while offline (upsert type append) on the next login", async () => {
    const sim = await startSim();
    const { connector, connection } = await openSession(sim, ME);
    connection.end();
    await expect.poll(() => sim.stats().accounts[ME]?.online).toBe(false);
    const queued = await sim.inbound({ from: CONTACT, to: ME, text: "while you were away" });

    const { events } = await connect(connector, "main");
    const inbound = await events.waitFor("inbound", (e) => e.message.providerMessageId === queued.id);

    expect(inbound.message).toMatchObject({ from: `whatsapp:+${CONTACT}`, text: "while you were away" });
  });

  it("refuses a bad recipient or an attachment not held yet as terminal errors", async () => {
    const sim = await startSim();
    const { connection } = await openSession(sim, ME);

    await expect(connection.send({ ...outbound(CONTACT, "x"), to: "sms:+15550309001" })).rejects.toMatchObject({
      providerId: "baileys",
      retryable: false,
      providerCode: "invalid-recipient",
    });
    await expect(
      connection.send({ ...outbound(CONTACT, "x"), media: [mediaFromUrl("https://example.com/a.png")] }),
    ).rejects.toMatchObject({
      retryable: false,
      providerCode: "media-not-ready",
    });
    expect(sim.messages(ME)).toEqual([]);
  });

  it("fails a send as retryable when the server stops answering", async () => {
    const sim = await startSim();
    const { connection } = await openSession(sim, ME, { defaultQueryTimeoutMs: 500, ackTimeoutMs: 500 });
    sim.fault({ phone: ME, kind: "silence" });

    await expect(connection.send(outbound(CONTACT, "into the void"))).rejects.toMatchObject({
      providerId: "baileys",
      retryable: true,
    });
    expect(sim.messages(ME)).toEqual([]);
  });

  it("reports a message written once it is on the socket, before and without the server's ack", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection } = await openSession(sim, ME, { ackTimeoutMs: 500 });
    await connection.send(outbound(CONTACT, "devices known from here on"));
    sim.fault({ phone: ME, kind: "silence" });
    let written = 0;

    const sending = connection.send(outbound(CONTACT, "written, never acked"), { written: () => written++ });

    await expect(sending).rejects.toMatchObject({ retryable: true, providerCode: "408" });
    expect(written).toBe(1);
  });

  it("fails a send in flight as retryable when the connection drops", async () => {
    const sim = await startSim({ frameDelayMs: 50 });
    const { connection, events } = await openSession(sim, ME);

    const sending = connection.send(outbound(CONTACT, "racing the drop"));
    sim.fault({ phone: ME, kind: "close" });

    await expect(sending).rejects.toMatchObject({ retryable: true });
    await events.waitFor("close");
    await expect(connection.send(outbound(CONTACT, "after"))).rejects.toMatchObject({
      retryable: true,
      providerCode: "not-open",
    });
  });
});
