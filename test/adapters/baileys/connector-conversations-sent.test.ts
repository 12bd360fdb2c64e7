import { describe, expect, it } from "vitest";
import { deriveWaMessageId } from "../../../src/adapters/messaging/baileys/wa-message-id.ts";
import { plainConversation, type MessageTarget } from "../../../src/domain/conversation.ts";
import type { HeldMedia } from "../../../src/domain/media.ts";
import type { Message } from "../../../src/domain/message.ts";
import type { MediaStore } from "../../../src/domain/ports/media-store.port.ts";
import type { WhatsAppConnection } from "../../../src/domain/ports/whatsapp-connector.port.ts";
import type { WhatsAppSimulator } from "../../fakes/whatsapp/index.ts";
import { chunked } from "../../support/media-fixtures.ts";
import { aSendingMessage } from "../../support/message-mother.ts";
import { realMedia } from "../../support/real-media.ts";
import { mediaStore, openSession, startSim } from "./harness.ts";

const ME = "15550301701";
const CONTACT = "15550309701";

/** A message to the contact; `overrides` give its kind and facts. */
function toContact(overrides: Partial<Message>): Message {
  return aSendingMessage({ to: `whatsapp:+${CONTACT}`, text: "", ...overrides });
}

/** What a message of ours, already sent, looks like as the target of another. */
async function sentTarget(connection: WhatsAppConnection, text: string): Promise<MessageTarget> {
  const { providerMessageId } = await connection.send(toContact({ text }));
  return { providerMessageId, fromMe: true, text };
}

/** The simulator's entry for the message it received with our derived id. */
async function arrived(sim: WhatsAppSimulator, message: Message) {
  const id = deriveWaMessageId(message.id);
  await expect.poll(() => sim.messages(ME).some((m) => m.id === id)).toBe(true);
  return sim.messages(ME).find((m) => m.id === id)!;
}

async function heldImage(store: MediaStore): Promise<HeldMedia> {
  const stored = await store.put(chunked(await realMedia.png(24), 1024), { maxBytes: 1024 * 1024 });
  const { id, mimeType, size, sha256 } = stored;
  return { id, kind: "image", mimeType, size, sha256, filename: null, caption: null, sourceUrl: null, error: null };
}

describe("BaileysConnector: conversations sent", () => {
  it("a reply quotes our earlier message, and a received one", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection, events } = await openSession(sim, ME);
    const ours = await sentTarget(connection, "meeting at noon?");
    const question = await sim.inbound({ from: CONTACT, to: ME, text: "which room?" });
    await events.waitFor("inbound", (e) => e.message.providerMessageId === question.id);

    const toOurs = toContact({ text: "or at one", replyTo: "our-id", target: ours });
    const toTheirs = toContact({
      text: "room 4",
      replyTo: "their-id",
      target: { providerMessageId: question.id, fromMe: false, text: "which room?" },
    });
    await connection.send(toOurs);
    await connection.send(toTheirs);

    expect(await arrived(sim, toOurs)).toMatchObject({
      kind: "text",
      text: "or at one",
      replyTo: ours.providerMessageId,
    });
    expect(await arrived(sim, toTheirs)).toMatchObject({ kind: "text", text: "room 4", replyTo: question.id });
  });

  it("a photo can be a reply too, its caption kept", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const media = mediaStore();
    const { connection } = await openSession(sim, ME, { media });
    const ours = await sentTarget(connection, "send me the plan");

    const reply = toContact({
      kind: "media",
      text: "here",
      media: [await heldImage(media)],
      replyTo: "our-id",
      target: ours,
    });
    await connection.send(reply);

    const entry = await arrived(sim, reply);
    expect(entry).toMatchObject({ kind: "media", replyTo: ours.providerMessageId, media: { caption: "here" } });
    expect(entry.mediaError).toBeUndefined();
  });

  it("a reaction names the message and the emoji; an empty emoji takes it back", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection, events } = await openSession(sim, ME);
    const theirs = await sim.inbound({ from: CONTACT, to: ME, text: "we won!" });
    await events.waitFor("inbound", (e) => e.message.providerMessageId === theirs.id);
    const target: MessageTarget = { providerMessageId: theirs.id, fromMe: false, text: "we won!" };

    const added = toContact({ ...plainConversation("reaction"), reaction: { messageId: "x", emoji: "🎉" }, target });
    const removed = toContact({ ...plainConversation("reaction"), reaction: { messageId: "x", emoji: "" }, target });
    await connection.send(added);
    await connection.send(removed);

    expect(await arrived(sim, added)).toMatchObject({ kind: "reaction", reaction: { id: theirs.id, emoji: "🎉" } });
    expect(await arrived(sim, removed)).toMatchObject({ kind: "reaction", reaction: { id: theirs.id, emoji: "" } });
  });

  it("an edit gives our message its new text; a revoke deletes it for everyone", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection } = await openSession(sim, ME);
    const ours = await sentTarget(connection, "see you at 5");

    const edit = toContact({ kind: "edit", text: "see you at 6", edit: { messageId: "ours", text: "see you at 6" } });
    const revoke = toContact({ kind: "revoke", revoke: { messageId: "ours" } });
    await connection.send({ ...edit, target: ours });
    await connection.send({ ...revoke, target: ours });

    expect(await arrived(sim, edit)).toMatchObject({
      kind: "edit",
      edit: { id: ours.providerMessageId, text: "see you at 6" },
    });
    expect(await arrived(sim, revoke)).toMatchObject({ kind: "revoke", revoke: { id: ours.providerMessageId } });
  });

  it("a location arrives with its coordinates, name and address", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection } = await openSession(sim, ME);
    const place = toContact({
      kind: "location",
      location: {
        latitude: 44.4268,
        longitude: 26.1025,
        name: "Piața Universității",
        address: "Bulevardul Regina Elisabeta",
      },
    });
    const pin = toContact({
      kind: "location",
      location: { latitude: -33.8568, longitude: 151.2153, name: null, address: null },
    });

    await connection.send(place);
    await connection.send(pin);

    expect(await arrived(sim, place)).toMatchObject({
      kind: "location",
      location: {
        latitude: 44.4268,
        longitude: 26.1025,
        name: "Piața Universității",
        address: "Bulevardul Regina Elisabeta",
      },
    });
    expect((await arrived(sim, pin)).location).toEqual({ latitude: -33.8568, longitude: 151.2153 });
  });

  it("contact cards arrive with their names and every phone number", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection } = await openSession(sim, ME);
    const one = toContact({
      kind: "contacts",
      contacts: [{ name: "Ana Pop, Sales", phones: ["+40712345678", "+15550309999"] }],
    });
    const two = toContact({
      kind: "contacts",
      contacts: [
        { name: "Ana Pop", phones: ["+40712345678"] },
        { name: "Bob", phones: ["+15550309998"] },
      ],
    });

    await connection.send(one);
    await connection.send(two);

    expect((await arrived(sim, one)).contacts).toEqual([
      { name: "Ana Pop, Sales", phones: ["+40712345678", "+15550309999"] },
    ]);
    expect((await arrived(sim, two)).contacts).toEqual([
      { name: "Ana Pop", phones: ["+40712345678"] },
      { name: "Bob", phones: ["+15550309998"] },
    ]);
  });

  it("a location or contacts can reply to a message", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection } = await openSession(sim, ME);
    const ours = await sentTarget(connection, "where and who?");
    const where = toContact({
      kind: "location",
      location: { latitude: 1, longitude: 2, name: null, address: null },
      replyTo: "ours",
      target: ours,
    });
    const who = toContact({
      kind: "contacts",
      contacts: [{ name: "Ana", phones: ["+40712345678"] }],
      replyTo: "ours",
      target: ours,
    });

    await connection.send(where);
    await connection.send(who);

    expect(await arrived(sim, where)).toMatchObject({ kind: "location", replyTo: ours.providerMessageId });
    expect(await arrived(sim, who)).toMatchObject({ kind: "contacts", replyTo: ours.providerMessageId });
  });

  it("every kind keeps its WhatsApp id across a second send: one message at the recipient", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const { connection } = await openSession(sim, ME);
    const ours = await sentTarget(connection, "first");
    const reaction = toContact({ kind: "reaction", reaction: { messageId: "ours", emoji: "👍" }, target: ours });
    let written = 0;

    const first = await connection.send(reaction, { written: () => written++ });
    const again = await connection.send(reaction, { written: () => written++ });

    expect(first).toEqual({ providerMessageId: deriveWaMessageId(reaction.id), status: "sent" });
    expect(again.providerMessageId).toBe(first.providerMessageId);
    expect(written).toBe(2);
    expect(sim.stats().accounts[ME]).toMatchObject({ messagesReceived: 3, uniqueIds: 2, duplicates: 1 });
  });

  it("refuses for good a reply, reaction, edit or revoke whose target is unknown, sending nothing", async () => {
    const sim = await startSim();
    const { connection } = await openSession(sim, ME);
    const pointing: Array<Partial<Message>> = [
      { text: "reply", replyTo: "unknown" },
      { kind: "reaction", reaction: { messageId: "unknown", emoji: "👍" } },
      { kind: "edit", edit: { messageId: "unknown", text: "new" } },
      { kind: "revoke", revoke: { messageId: "unknown" } },
    ];

    for (const overrides of pointing) {
      await expect(connection.send(toContact(overrides))).rejects.toMatchObject({
        providerId: "baileys",
        retryable: false,
        providerCode: "target-unknown",
      });
    }
    expect(sim.messages(ME)).toEqual([]);
  });
});
