import { randomBytes } from "node:crypto";
import { proto } from "@whiskeysockets/baileys";
import type { WAMessageUpdate } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import type { BareClient } from "../fakes/whatsapp/baileys-client.ts";
import type { InboundRequest, WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { parseVcard } from "../fakes/whatsapp/vcard.ts";
import { jid, linkedClient, startSim } from "./harness.ts";

const ALICE = "15550007101";
const CONTACT = "15550009711";
const OTHER = "15550009712";
const { Type } = proto.Message.ProtocolMessage;

/** Sends as the contact and waits for Baileys' upsert of that message. */
async function receive(sim: WhatsAppSimulator, alice: BareClient, request: Omit<InboundRequest, "from" | "to">) {
  const { id } = await sim.inbound({ from: CONTACT, to: ALICE, ...request });
  return alice.waitFor(() => alice.received.find((m) => m.key.id === id), `upsert of ${id}`);
}

/** Every messages.update Baileys emits from now on. */
function updatesOf(alice: BareClient): WAMessageUpdate[] {
  const updates: WAMessageUpdate[] = [];
  alice.sock!.ev.on("messages.update", (batch) => updates.push(...batch));
  return updates;
}

describe("what a simulated contact sends, as Baileys receives it", () => {
  it("a reply to the account's message quotes it: stanzaId, author, the quoted text", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const question = await alice.sock!.sendMessage(jid(CONTACT), { text: "are you coming?" });
    await sim.waitForMessages(ALICE, 1);

    const reply = await receive(sim, alice, { text: "yes", replyTo: question!.key.id! });

    expect(reply.message?.conversation).toBeFalsy();
    expect(reply.message?.extendedTextMessage?.text).toBe("yes");
    const context = reply.message?.extendedTextMessage?.contextInfo;
    expect(context?.stanzaId).toBe(question!.key.id);
    expect(context?.participant).toBe(jid(ALICE));
    // The quote is the content as Baileys sent it (rc14 sends a text as extendedTextMessage).
    const quoted = context?.quotedMessage;
    expect(quoted?.conversation ?? quoted?.extendedTextMessage?.text).toBe("are you coming?");
  });

  it("a reply to the contact's own message names the contact; an unknown id gives the id alone", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const first = await receive(sim, alice, { text: "one thing" });

    const own = await receive(sim, alice, { text: "and another", replyTo: first.key.id! });
    const unknown = await receive(sim, alice, { text: "about that", replyTo: "NEVER-SEEN-ID" });
    const chain = await receive(sim, alice, { text: "so?", replyTo: own.key.id! });

    expect(own.message?.extendedTextMessage?.contextInfo).toMatchObject({
      stanzaId: first.key.id,
      participant: jid(CONTACT),
      quotedMessage: { conversation: "one thing" },
    });
    // A quote does not carry the quoted reply's own quote.
    const quotedReply = chain.message?.extendedTextMessage?.contextInfo?.quotedMessage;
    expect(quotedReply?.extendedTextMessage?.text).toBe("and another");
    expect(quotedReply?.extendedTextMessage?.contextInfo).toBeFalsy();
    const bare = unknown.message?.extendedTextMessage?.contextInfo;
    expect(bare?.stanzaId).toBe("NEVER-SEEN-ID");
    expect(bare?.quotedMessage).toBeFalsy();
    expect(bare?.participant).toBeFalsy();
  });

  it("media can reply too: the contextInfo sits on the media message", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const asked = await alice.sock!.sendMessage(jid(CONTACT), { text: "send the photo" });

    const photo = await receive(sim, alice, {
      media: { kind: "image", base64: randomBytes(200).toString("base64"), caption: "here" },
      replyTo: asked!.key.id!,
    });

    expect(photo.message?.imageMessage?.caption).toBe("here");
    expect(photo.message?.imageMessage?.contextInfo?.stanzaId).toBe(asked!.key.id);
  });

  it("a reaction names the account's message; Baileys sees it as a reaction to its own message", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const sent = await alice.sock!.sendMessage(jid(CONTACT), { text: "good news" });
    const reactions: Array<{ id?: string | null; emoji?: string | null }> = [];
    alice.sock!.ev.on("messages.reaction", (list) =>
      reactions.push(...list.map((r) => ({ id: r.key.id, emoji: r.reaction.text }))),
    );

    const added = await receive(sim, alice, { reaction: { id: sent!.key.id!, emoji: "🎉" } });
    const removed = await receive(sim, alice, { reaction: { id: sent!.key.id!, emoji: "" } });

    expect(added.message?.reactionMessage).toMatchObject({ text: "🎉", key: { id: sent!.key.id, fromMe: true } });
    expect(removed.message?.reactionMessage?.text).toBe("");
    await expect
      .poll(() => reactions)
      .toEqual([
        { id: sent!.key.id, emoji: "🎉" },
        { id: sent!.key.id, emoji: "" },
      ]);
  });

  it("an edit of the contact's message comes as a phone sends it and Baileys applies it", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const typo = await receive(sim, alice, { text: "helo" });
    const updates = updatesOf(alice);

    const edit = await receive(sim, alice, { edit: { id: typo.key.id!, text: "hello" } });

    const protocol = edit.message?.editedMessage?.message?.protocolMessage;
    expect(protocol?.type).toBe(Type.MESSAGE_EDIT);
    expect(protocol?.key).toMatchObject({ id: typo.key.id, fromMe: true });
    expect(protocol?.editedMessage?.conversation).toBe("hello");
    await expect
      .poll(() => updates.find((u) => u.key.id === typo.key.id)?.update.message?.editedMessage?.message?.conversation)
      .toBe("hello");
  });

  it("a delete for everyone of the contact's message revokes it at Baileys", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const regret = await receive(sim, alice, { text: "never mind" });
    const updates = updatesOf(alice);

    const revoke = await receive(sim, alice, { revoke: { id: regret.key.id! } });

    expect(revoke.message?.protocolMessage).toMatchObject({ type: Type.REVOKE, key: { id: regret.key.id } });
    await expect
      .poll(() => updates.find((u) => u.key.id === regret.key.id)?.update.messageStubType)
      .toBe(proto.WebMessageInfo.StubType.REVOKE);
  });

  it("an edit or delete of a message the contact did not send is refused", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const mine = await alice.sock!.sendMessage(jid(CONTACT), { text: "mine" });
    await sim.waitForMessages(ALICE, 1);
    const theirs = await receive(sim, alice, { text: "from someone else" }).then((m) => m.key.id!);

    const edit = sim.inbound({ from: CONTACT, to: ALICE, edit: { id: mine!.key.id!, text: "hijack" } });
    const revoke = sim.inbound({ from: OTHER, to: ALICE, revoke: { id: theirs } });

    await expect(edit).rejects.toMatchObject({ status: 409 });
    await expect(revoke).rejects.toMatchObject({ status: 409 });
  });

  it("a location arrives as a locationMessage", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);

    const place = await receive(sim, alice, {
      location: { latitude: 52.3731, longitude: 4.8922, name: "Dam Square", address: "Amsterdam" },
    });
    const pin = await receive(sim, alice, { location: { latitude: -1.5, longitude: -78.25 } });

    expect(place.message?.locationMessage).toMatchObject({
      degreesLatitude: 52.3731,
      degreesLongitude: 4.8922,
      name: "Dam Square",
      address: "Amsterdam",
    });
    expect(pin.message?.locationMessage).toMatchObject({ degreesLatitude: -1.5, degreesLongitude: -78.25 });
    expect(pin.message?.locationMessage?.name).toBeFalsy();
  });

  it("one contact arrives as a contactMessage, several as a contactsArrayMessage, with phone-style vCards", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const jeff = { name: "Jeff Singh", phones: ["+911234567890"] };
    const ana = { name: "Ana Lima, MD", phones: ["+5511987654321", "+5511912340000"] };

    const one = await receive(sim, alice, { contacts: [jeff] });
    const two = await receive(sim, alice, { contacts: [jeff, ana] });

    const card = one.message?.contactMessage;
    expect(card?.displayName).toBe("Jeff Singh");
    expect(card?.vcard).toContain("TEL;type=CELL;type=VOICE;waid=911234567890:+911234567890");
    expect(parseVcard(card!.vcard!)).toEqual(jeff);
    const array = two.message?.contactsArrayMessage;
    expect(array?.contacts?.map((c) => c.displayName)).toEqual(["Jeff Singh", "Ana Lima, MD"]);
    expect(array?.contacts?.map((c) => parseVcard(c.vcard!))).toEqual([jeff, ana]);
  });

  it("refuses content it cannot send, naming the field", async () => {
    const sim = await startSim();
    await linkedClient(sim, ALICE);
    const send = (request: Partial<InboundRequest>) => sim.inbound({ from: CONTACT, to: ALICE, ...request });
    const bad: Array<[Partial<InboundRequest>, RegExp]> = [
      [{}, /is needed/],
      [{ text: "hi", location: { latitude: 1, longitude: 2 } }, /text does not go with location/],
      [{ reaction: { id: "A", emoji: "👍" }, revoke: { id: "A" } }, /one of reaction, revoke/],
      [{ reaction: { id: "A", emoji: "👍" }, replyTo: "B" }, /replyTo does not go with reaction/],
      [{ location: { latitude: 91, longitude: 0 } }, /location.latitude/],
      [{ contacts: [] }, /contacts must be a non-empty array/],
      [{ contacts: [{ name: "X", phones: ["5551234"] }] }, /\+E\.164/],
      [{ edit: { id: "A", text: "" } }, /edit.text/],
      [{ reaction: { id: "", emoji: "x" } }, /reaction.id/],
    ];

    for (const [request, message] of bad) {
      await expect(send(request), JSON.stringify(request)).rejects.toMatchObject({ status: 400, message });
    }
  });
});
