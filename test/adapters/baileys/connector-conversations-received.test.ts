import { describe, expect, it } from "vitest";
import type { InboundWhatsAppMessage } from "../../../src/domain/ports/whatsapp-connector.port.ts";
import type { InboundRequest, WhatsAppSimulator } from "../../fakes/whatsapp/index.ts";
import { aSendingMessage } from "../../support/message-mother.ts";
import { realMedia } from "../../support/real-media.ts";
import { connect, openSession, startSim, type Events } from "./harness.ts";

const ME = "15550301801";
const CONTACT = "15550309801";

/** What the contact sends, as the connection's listener receives it. */
async function received(
  sim: WhatsAppSimulator,
  events: Events,
  request: Omit<InboundRequest, "from" | "to">,
): Promise<InboundWhatsAppMessage> {
  const { id } = await sim.inbound({ from: CONTACT, to: ME, ...request });
  return (await events.waitFor("inbound", (e) => e.message.providerMessageId === id)).message;
}

describe("BaileysConnector: conversations received", () => {
  it("a reply names the message it quotes: ours or the contact's own, for a text or a file", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection, events } = await openSession(sim, ME);
    const lid = sim.setContact(CONTACT, true).lid;
    const { providerMessageId: ours } = await connection.send(aSendingMessage({ to: `whatsapp:+${CONTACT}` }));
    const first = await received(sim, events, { text: "one" });

    const toOurs = await received(sim, events, { text: "hi back", replyTo: ours });
    const toTheirs = await received(sim, events, { text: "and again", replyTo: first.providerMessageId });
    const photo = await received(sim, events, {
      media: { kind: "image", mimeType: "image/png", base64: (await realMedia.png(16)).toString("base64") },
      text: "this one",
      replyTo: ours,
    });

    expect(toOurs).toMatchObject({ from: `whatsapp:+${CONTACT}`, text: "hi back" });
    expect(toOurs.conversation).toMatchObject({ kind: "text", replyTo: ours, lid });
    expect(toTheirs.conversation).toMatchObject({ kind: "text", replyTo: first.providerMessageId });
    expect(photo).toMatchObject({ text: "this one", media: [{ kind: "image", caption: "this one" }] });
    expect(photo.conversation).toMatchObject({ kind: "media", replyTo: ours });
  });

  it("a reaction, and its removal, name the message and the emoji", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection, events } = await openSession(sim, ME);
    const { providerMessageId: ours } = await connection.send(aSendingMessage({ to: `whatsapp:+${CONTACT}` }));

    const added = await received(sim, events, { reaction: { id: ours, emoji: "❤️" } });
    const removed = await received(sim, events, { reaction: { id: ours, emoji: "" } });

    expect(added).toMatchObject({ from: `whatsapp:+${CONTACT}`, text: "", media: [] });
    expect(added.conversation).toMatchObject({ kind: "reaction", reaction: { messageId: ours, emoji: "❤️" } });
    expect(removed.conversation).toMatchObject({ kind: "reaction", reaction: { messageId: ours, emoji: "" } });
  });

  it("an edit carries the edited message's id and its new text; a delete the deleted one's id", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { events } = await openSession(sim, ME);
    const original = await received(sim, events, { text: "see you at 5" });

    const edit = await received(sim, events, { edit: { id: original.providerMessageId, text: "see you at 6" } });
    const revoke = await received(sim, events, { revoke: { id: original.providerMessageId } });

    expect(edit).toMatchObject({ text: "see you at 6" });
    expect(edit.conversation).toMatchObject({
      kind: "edit",
      edit: { messageId: original.providerMessageId, text: "see you at 6" },
    });
    expect(revoke).toMatchObject({ text: "" });
    expect(revoke.conversation).toMatchObject({ kind: "revoke", revoke: { messageId: original.providerMessageId } });
  });

  it("a location comes with its coordinates, name and address", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { events } = await openSession(sim, ME);

    const named = await received(sim, events, {
      location: { latitude: 46.7712, longitude: 23.6236, name: "Cluj", address: "Piața Unirii" },
    });
    const pin = await received(sim, events, { location: { latitude: 0.5, longitude: -0.25 } });

    expect(named.conversation).toMatchObject({
      kind: "location",
      location: { latitude: 46.7712, longitude: 23.6236, name: "Cluj", address: "Piața Unirii" },
    });
    expect(pin.conversation?.location).toEqual({ latitude: 0.5, longitude: -0.25, name: null, address: null });
  });

  it("contact cards come with their names and numbers in E.164", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { events } = await openSession(sim, ME);

    const one = await received(sim, events, {
      contacts: [{ name: "Ana Pop", phones: ["+40712345678", "+15550309999"] }],
    });
    const two = await received(sim, events, {
      contacts: [
        { name: "Ana Pop", phones: ["+40712345678"] },
        { name: "Bob; the builder", phones: ["+15550309998"] },
      ],
    });

    expect(one.conversation).toMatchObject({
      kind: "contacts",
      contacts: [{ name: "Ana Pop", phones: ["+40712345678", "+15550309999"] }],
    });
    expect(two.conversation?.contacts).toEqual([
      { name: "Ana Pop", phones: ["+40712345678"] },
      { name: "Bob; the builder", phones: ["+15550309998"] },
    ]);
  });
});

describe("BaileysConnector: one identity per contact (LID)", () => {
  it("a contact writing from its LID is shown by its number, with its LID beside it", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { events } = await openSession(sim, ME);
    const lid = sim.setContact(CONTACT, true).lid;

    const byLid = await received(sim, events, { text: "from my LID", fromLid: true });
    const byNumber = await received(sim, events, { text: "from my number" });

    expect(lid).toMatch(/^\d+@lid$/);
    expect(byLid).toMatchObject({ from: `whatsapp:+${CONTACT}`, to: `whatsapp:+${ME}`, text: "from my LID" });
    expect(byLid.conversation).toMatchObject({ kind: "text", replyTo: null, lid });
    // A phone-addressed message names the sender's LID too (sender_lid).
    expect(byNumber.conversation).toMatchObject({ kind: "text", lid });
  });

  it("our answer to a contact lands in the chat the contact writes in, by LID or by number", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection, events } = await openSession(sim, ME);
    const to = `whatsapp:+${CONTACT}`;

    const before = await connection.send(aSendingMessage({ to, text: "we write first" }));
    await received(sim, events, { text: "hello from my LID", fromLid: true });
    const answer = await connection.send(aSendingMessage({ to, text: "answered in your chat" }));
    await received(sim, events, { text: "back on my number" });
    const later = await connection.send(aSendingMessage({ to, text: "and by number again" }));

    await sim.waitForMessages(ME, 3);
    const byId = new Map(sim.messages(ME).map((m) => [m.id, m]));
    expect(byId.get(before.providerMessageId)).toMatchObject({ to: CONTACT, addressing: "pn" });
    expect(byId.get(answer.providerMessageId)).toMatchObject({
      to: CONTACT,
      addressing: "lid",
      text: "answered in your chat",
    });
    expect(byId.get(later.providerMessageId)).toMatchObject({ to: CONTACT, addressing: "pn" });
  });

  it("a message answered in a LID chat reports its receipts like any other", async () => {
    const sim = await startSim({ receipts: { delayMs: 300 } });
    const { connection, events } = await openSession(sim, ME);
    await received(sim, events, { text: "hello from my LID", fromLid: true });

    const { providerMessageId } = await connection.send(aSendingMessage({ to: `whatsapp:+${CONTACT}` }));
    await events.waitFor("status", (e) => e.providerMessageId === providerMessageId && e.status === "read");

    const statuses = events
      .of("status")
      .filter((e) => e.providerMessageId === providerMessageId)
      .map((e) => e.status);
    expect(statuses).toEqual(["delivered", "read"]);
    expect(sim.messages(ME).find((m) => m.id === providerMessageId)).toMatchObject({ addressing: "lid" });
  });

  it("after a restart, the mapping is in the store and the chat is still answered by LID", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection, events, connector, store } = await openSession(sim, ME);
    const lid = sim.setContact(CONTACT, true).lid!;
    await received(sim, events, { text: "from my LID", fromLid: true });
    connection.end();
    await connector.flush();

    const entries = await store.entries("main");
    const lidDigits = lid.split("@")[0]!;
    expect(entries.get(`lid-mapping-${CONTACT}`)).toBe(lidDigits);
    expect(entries.get(`lid-mapping-${lidDigits}_reverse`)).toBe(CONTACT);

    const { connection: again, events: later } = await connect(connector, "main");
    await later.waitFor("open");
    // Nothing from the contact yet on this connection: the chat's addressing comes from the store.
    const answer = await again.send(aSendingMessage({ to: `whatsapp:+${CONTACT}`, text: "still your chat" }));
    const inbound = await received(sim, later, { text: "still me", fromLid: true });

    await expect
      .poll(() => sim.messages(ME).find((m) => m.id === answer.providerMessageId))
      .toMatchObject({ to: CONTACT, addressing: "lid" });
    expect(inbound).toMatchObject({ from: `whatsapp:+${CONTACT}` });
    expect(inbound.conversation?.lid).toBe(lid);
  });
});
