import { proto } from "@whiskeysockets/baileys";
import type { WAMessage } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { toInboundMessage, type InboundContext } from "../../../src/adapters/messaging/baileys/inbound-mapping.ts";
import { buildVcard } from "../../../src/adapters/messaging/baileys/vcard.ts";
import type { InboundWhatsAppMessage } from "../../../src/domain/ports/whatsapp-connector.port.ts";

const PN = "15550002222@s.whatsapp.net";
const LID = "987654321012345@lid";

const context = (stored: Record<string, string> = {}): InboundContext => ({
  to: "whatsapp:+15550001111",
  pnForLid: async () => null,
  lidForPn: async (pn) => stored[pn] ?? null,
  now: () => new Date(0),
  downloads: { idleTimeoutMs: 1_000, reupload: () => Promise.reject(new Error("no phone in a mapping test")) },
});

/** A message from the contact in its phone-number chat, mapped; fails the test if it was skipped. */
async function mapped(message: proto.IMessage, key: Partial<WAMessage["key"]> = {}): Promise<InboundWhatsAppMessage> {
  const result = await toInboundMessage(
    { key: { remoteJid: PN, fromMe: false, id: "IN1", ...key }, message, messageTimestamp: 1_800_000_000 },
    context(),
  );
  if (result.kind !== "message") throw new Error(`skipped: ${result.why}`);
  return result.message;
}

const { Type } = proto.Message.ProtocolMessage;

describe("toInboundMessage: conversations", () => {
  it("a reply of any content names the quoted message", async () => {
    const quote = { stanzaId: "Q1", participant: "15550001111@s.whatsapp.net", quotedMessage: { conversation: "?" } };

    const text = await mapped({ extendedTextMessage: { text: "yes", contextInfo: quote } });
    const photo = await mapped({ imageMessage: { caption: "this", mimetype: "image/jpeg", contextInfo: quote } });
    const place = await mapped({ locationMessage: { degreesLatitude: 1, degreesLongitude: 2, contextInfo: quote } });

    expect(text).toMatchObject({ text: "yes", conversation: { kind: "text", replyTo: "Q1" } });
    expect(photo).toMatchObject({ text: "this", conversation: { kind: "media", replyTo: "Q1" } });
    expect(place.conversation).toMatchObject({ kind: "location", replyTo: "Q1" });
  });

  it("a plain text or file from a sender whose LID is unknown has no conversation facts", async () => {
    const text = await mapped({ conversation: "hi" });
    const notQuoting = await mapped({ extendedTextMessage: { text: "hi", contextInfo: { isForwarded: true } } });

    expect(text.conversation).toBeUndefined();
    expect(notQuoting.conversation).toBeUndefined();
  });

  it("a reaction names the message and the emoji, empty when taken back", async () => {
    const added = await mapped({ reactionMessage: { key: { id: "T1", fromMe: true }, text: "👍" } });
    const removed = await mapped({ reactionMessage: { key: { id: "T1", fromMe: true }, text: "" } });

    expect(added).toMatchObject({
      text: "",
      conversation: { kind: "reaction", reaction: { messageId: "T1", emoji: "👍" } },
    });
    expect(removed.conversation).toMatchObject({ kind: "reaction", reaction: { messageId: "T1", emoji: "" } });
  });

  it("an edit, bare or in its editedMessage wrapper, a text or a caption, names the edited message", async () => {
    const edit = (editedMessage: proto.IMessage): proto.IMessage => ({
      protocolMessage: { type: Type.MESSAGE_EDIT, key: { id: "E0", fromMe: true }, editedMessage },
    });

    const bare = await mapped(edit({ conversation: "new text" }));
    const wrapped = await mapped({ editedMessage: { message: edit({ extendedTextMessage: { text: "wrapped" } }) } });
    const caption = await mapped(edit({ imageMessage: { caption: "new caption" } }));

    expect(bare).toMatchObject({
      text: "new text",
      conversation: { kind: "edit", edit: { messageId: "E0", text: "new text" } },
    });
    expect(wrapped.conversation?.edit).toEqual({ messageId: "E0", text: "wrapped" });
    expect(caption.conversation?.edit).toEqual({ messageId: "E0", text: "new caption" });
  });

  it("a delete for everyone names the deleted message", async () => {
    const revoke = await mapped({ protocolMessage: { type: Type.REVOKE, key: { id: "R0", fromMe: true } } });

    expect(revoke).toMatchObject({
      text: "",
      media: [],
      conversation: { kind: "revoke", revoke: { messageId: "R0" } },
    });
  });

  it("a location, named or not, live or not", async () => {
    const named = await mapped({
      locationMessage: { degreesLatitude: 44.4, degreesLongitude: 26.1, name: "Home", address: "Str. Lungă 1" },
    });
    const live = await mapped({ liveLocationMessage: { degreesLatitude: -1.5, degreesLongitude: 2.5 } });

    expect(named.conversation?.location).toEqual({
      latitude: 44.4,
      longitude: 26.1,
      name: "Home",
      address: "Str. Lungă 1",
    });
    expect(live.conversation?.location).toEqual({ latitude: -1.5, longitude: 2.5, name: null, address: null });
  });

  it("one contact card, or several, with their numbers", async () => {
    const ana = { name: "Ana", phones: ["+40712345678", "+15550309999"] };
    const bob = { name: "Bob", phones: ["+15550309998"] };

    const one = await mapped({ contactMessage: { displayName: "Ana", vcard: buildVcard(ana) } });
    const two = await mapped({
      contactsArrayMessage: {
        displayName: "2 contacts",
        contacts: [
          { displayName: "Ana", vcard: buildVcard(ana) },
          { displayName: "Bob", vcard: buildVcard(bob) },
        ],
      },
    });

    expect(one.conversation).toMatchObject({ kind: "contacts", contacts: [ana] });
    expect(two.conversation?.contacts).toEqual([ana, bob]);
  });
});

describe("toInboundMessage: the sender's LID", () => {
  it("a LID chat: the sender by number, its LID, and the chat as LID-addressed", async () => {
    const result = await toInboundMessage(
      {
        key: { remoteJid: LID, remoteJidAlt: "15550002222:0@s.whatsapp.net", fromMe: false, id: "L1" },
        message: { conversation: "from my LID" },
      },
      context(),
    );

    expect(result).toMatchObject({
      kind: "message",
      message: { from: "whatsapp:+15550002222", conversation: { kind: "text", lid: LID } },
      chat: { pnJid: PN, lidJid: LID },
    });
  });

  it("a phone chat: the LID from sender_lid, else from the mapping store, else none", async () => {
    const fromAlt = await toInboundMessage(
      {
        key: { remoteJid: PN, remoteJidAlt: "987654321012345:3@lid", fromMe: false, id: "P1" },
        message: { conversation: "a" },
      },
      context(),
    );
    const fromStore = await toInboundMessage(
      { key: { remoteJid: PN, fromMe: false, id: "P2" }, message: { conversation: "b" } },
      context({ [PN]: LID }),
    );

    expect(fromAlt).toMatchObject({ message: { conversation: { lid: LID } }, chat: { pnJid: PN } });
    expect(fromStore).toMatchObject({ message: { conversation: { lid: LID } } });
    expect(fromStore.kind === "message" && "lidJid" in fromStore.chat).toBe(false);
  });
});
