import type { WAMessage } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import type { WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import type { BareClient } from "../fakes/whatsapp/baileys-client.ts";
import { jid, linkedClient, startSim } from "./harness.ts";

const ALICE = "15550007001";
const CONTACT = "15550009701";

/** A linked account and one message the contact sent it, as Baileys holds it (to quote or react to). */
async function withInbound(sim: WhatsAppSimulator): Promise<{ alice: BareClient; inbound: WAMessage }> {
  const alice = await linkedClient(sim, ALICE);
  const { id } = await sim.inbound({ from: CONTACT, to: ALICE, text: "what time is it?" });
  const inbound = await alice.waitFor(() => alice.received.find((m) => m.key.id === id), "inbound message");
  return { alice, inbound };
}

/** The simulator's entry for a message Alice sent. */
async function entryFor(sim: WhatsAppSimulator, id: string | null | undefined) {
  await expect.poll(() => sim.messages(ALICE).some((m) => m.id === id)).toBe(true);
  return sim.messages(ALICE).find((m) => m.id === id)!;
}

describe("what a linked Baileys client sends, decoded by the simulated recipient", () => {
  it("a plain text is kind text, without replyTo", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);

    const sent = await alice.sock!.sendMessage(jid(CONTACT), { text: "plain" });

    const entry = await entryFor(sim, sent!.key.id);
    expect(entry).toMatchObject({ kind: "text", text: "plain", to: CONTACT });
    expect(entry.replyTo).toBeUndefined();
  });

  it("a quoted reply carries the quoted message's id", async () => {
    const sim = await startSim();
    const { alice, inbound } = await withInbound(sim);

    const sent = await alice.sock!.sendMessage(jid(CONTACT), { text: "noon" }, { quoted: inbound });

    expect(await entryFor(sim, sent!.key.id)).toMatchObject({ kind: "text", text: "noon", replyTo: inbound.key.id });
  });

  it("a reaction names the message and the emoji; an empty one is a removal", async () => {
    const sim = await startSim();
    const { alice, inbound } = await withInbound(sim);

    const added = await alice.sock!.sendMessage(jid(CONTACT), { react: { text: "👍", key: inbound.key } });
    const removed = await alice.sock!.sendMessage(jid(CONTACT), { react: { text: "", key: inbound.key } });

    expect(await entryFor(sim, added!.key.id)).toMatchObject({
      kind: "reaction",
      reaction: { id: inbound.key.id, emoji: "👍" },
    });
    expect(await entryFor(sim, removed!.key.id)).toMatchObject({
      kind: "reaction",
      reaction: { id: inbound.key.id, emoji: "" },
    });
  });

  it("an edit names the edited message and its new text", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const original = await alice.sock!.sendMessage(jid(CONTACT), { text: "see you at 5" });

    const edit = await alice.sock!.sendMessage(jid(CONTACT), { edit: original!.key, text: "see you at 6" });

    const entry = await entryFor(sim, edit!.key.id);
    expect(entry).toMatchObject({ kind: "edit", edit: { id: original!.key.id, text: "see you at 6" } });
    expect(entry.id).not.toBe(original!.key.id);
  });

  it("a delete for everyone is kind revoke with the deleted message's id", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const original = await alice.sock!.sendMessage(jid(CONTACT), { text: "oops" });
    // rc14 writes the delete's own id into the key object it is given: keep the original's id first.
    const originalId = original!.key.id;

    const deletion = await alice.sock!.sendMessage(jid(CONTACT), { delete: { ...original!.key } });

    expect(await entryFor(sim, deletion!.key.id)).toMatchObject({
      kind: "revoke",
      text: null,
      revoke: { id: originalId },
    });
  });

  it("a location gives its coordinates, name and address, and may reply", async () => {
    const sim = await startSim();
    const { alice, inbound } = await withInbound(sim);

    const sent = await alice.sock!.sendMessage(
      jid(CONTACT),
      { location: { degreesLatitude: 48.8584, degreesLongitude: 2.2945, name: "Eiffel Tower", address: "Paris" } },
      { quoted: inbound },
    );
    const bare = await alice.sock!.sendMessage(jid(CONTACT), {
      location: { degreesLatitude: -33.8568, degreesLongitude: 151.2153 },
    });

    expect(await entryFor(sim, sent!.key.id)).toMatchObject({
      kind: "location",
      replyTo: inbound.key.id,
      location: { latitude: 48.8584, longitude: 2.2945, name: "Eiffel Tower", address: "Paris" },
    });
    expect((await entryFor(sim, bare!.key.id)).location).toEqual({ latitude: -33.8568, longitude: 151.2153 });
  });

  it("shared contacts give each vCard's name and numbers (waid first, else the number's digits)", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const jeff = [
      "BEGIN:VCARD",
      "VERSION:3.0",
      "FN:Jeff Singh",
      "ORG:Ashoka Uni;",
      "TEL;type=CELL;type=VOICE;waid=911234567890:+91 12345 67890",
      "END:VCARD",
    ].join("\n");
    const ana = [
      "BEGIN:VCARD",
      "VERSION:3.0",
      "N:Lima;Ana;;;",
      "FN:Ana Lima",
      "TEL;type=CELL:+55 (11) 98765-4321",
      "TEL;type=WORK;waid=5511912340000:+55 11 91234-0000",
      "END:VCARD",
    ].join("\r\n");

    const one = await alice.sock!.sendMessage(jid(CONTACT), {
      contacts: { displayName: "Jeff", contacts: [{ vcard: jeff }] },
    });
    const two = await alice.sock!.sendMessage(jid(CONTACT), {
      contacts: {
        displayName: "2 contacts",
        contacts: [
          { displayName: "Jeff", vcard: jeff },
          { displayName: "Ana", vcard: ana },
        ],
      },
    });

    expect(await entryFor(sim, one!.key.id)).toMatchObject({
      kind: "contacts",
      contacts: [{ name: "Jeff Singh", phones: ["+911234567890"] }],
    });
    expect((await entryFor(sim, two!.key.id)).contacts).toEqual([
      { name: "Jeff Singh", phones: ["+911234567890"] },
      { name: "Ana Lima", phones: ["+5511987654321", "+5511912340000"] },
    ]);
  });
});
