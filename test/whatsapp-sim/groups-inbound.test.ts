import { randomBytes } from "node:crypto";
import { downloadMediaMessage } from "@whiskeysockets/baileys";
import type { WAMessage } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import type { BareClient } from "../fakes/whatsapp/baileys-client.ts";
import type { InboundRequest, WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { mediaTrust } from "../fakes/whatsapp/media-trust.ts";
import { lidForPhone } from "../fakes/whatsapp/registry.ts";
import { jid, linkedClient, startSim, textOf } from "./harness.ts";

const ALICE = "15550007311";
const BOB = "15550007312";
const M1 = "15550009741";
const M2 = "15550009742";
const M3 = "15550009743";
const lid = (phone: string): string => `${lidForPhone(phone)}@lid`;

/** A member writes to the group; resolves with Baileys' upsert of it. */
async function receive(
  sim: WhatsAppSimulator,
  client: BareClient,
  request: Omit<InboundRequest, "to">,
): Promise<WAMessage> {
  const { id } = await sim.inbound(request);
  return client.waitFor(() => client.received.find((m) => m.key.id === id), `upsert of ${id}`);
}

describe("groups: what simulated members send reaches Baileys in the group chat", () => {
  it("a member's texts arrive with remoteJid the group and participant the member, by LID with its number", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const group = sim.createGroup({ subject: "Inbound", members: [M1, M2, ALICE] });

    const one = await receive(sim, alice, { from: M1, group: group.id, text: "hi all", pushName: "Em One" });
    const two = await receive(sim, alice, { from: M1, group: group.jid, text: "again" });
    const other = await receive(sim, alice, { from: M2, group: group.id, text: "me too" });

    expect([one, two, other].map(textOf)).toEqual(["hi all", "again", "me too"]);
    expect(one.key).toMatchObject({
      remoteJid: group.jid,
      participant: lid(M1),
      participantAlt: jid(M1),
      fromMe: false,
    });
    expect(one.pushName).toBe("Em One");
    expect(other.key.participant).toBe(lid(M2));
  });

  it("in a group addressed by number the participant is the number; fromLid makes it the LID", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const group = sim.createGroup({ subject: "By number", members: [M1, ALICE], addressingMode: "pn" });

    const byNumber = await receive(sim, alice, { from: M1, group: group.id, text: "pn" });
    const byLid = await receive(sim, alice, { from: M1, group: group.id, text: "lid", fromLid: true });

    expect(byNumber.key).toMatchObject({ participant: jid(M1), participantAlt: lid(M1), addressingMode: "pn" });
    expect(byLid.key).toMatchObject({ participant: lid(M1), participantAlt: jid(M1), addressingMode: "lid" });
    expect(textOf(byLid)).toBe("lid");
  });

  it("media, a reply quoting Baileys' message, a reaction, a location and contacts work in a group", async () => {
    const sim = await startSim();
    const trust = await mediaTrust(sim.caFile);
    const alice = await linkedClient(sim, ALICE, { fetchAgent: trust.fetchAgent });
    const group = sim.createGroup({ subject: "Rich", members: [ALICE, M1] });
    const mine = await alice.sock!.sendMessage(group.jid, { text: "who's in?" });
    await sim.waitForMessages(ALICE, 1);
    const bytes = randomBytes(500);

    const photo = await receive(sim, alice, {
      from: M1,
      group: group.id,
      media: { kind: "image", base64: bytes.toString("base64"), mimeType: "image/jpeg", caption: "me" },
    });
    const reply = await receive(sim, alice, { from: M1, group: group.id, text: "I am", replyTo: mine!.key.id! });
    const reaction = await receive(sim, alice, {
      from: M1,
      group: group.id,
      reaction: { id: mine!.key.id!, emoji: "🎉" },
    });
    const place = await receive(sim, alice, { from: M1, group: group.id, location: { latitude: 1.5, longitude: 2.5 } });
    const card = await receive(sim, alice, {
      from: M1,
      group: group.id,
      contacts: [{ name: "Ann", phones: ["+15550001111"] }],
    });

    expect(photo.message?.imageMessage?.caption).toBe("me");
    const downloaded = await downloadMediaMessage(photo, "buffer", { options: { dispatcher: trust.dispatcher } });
    expect(downloaded.equals(bytes)).toBe(true);
    expect(reply.message?.extendedTextMessage?.contextInfo).toMatchObject({
      stanzaId: mine!.key.id,
      participant: lid(ALICE),
      quotedMessage: { extendedTextMessage: { text: "who's in?" } },
    });
    expect(reaction.message?.reactionMessage).toMatchObject({ text: "🎉" });
    expect(reaction.message?.reactionMessage?.key).toMatchObject({
      remoteJid: group.jid,
      id: mine!.key.id,
      participant: lid(ALICE),
    });
    expect(place.message?.locationMessage).toMatchObject({ degreesLatitude: 1.5, degreesLongitude: 2.5 });
    expect(card.message?.contactMessage?.displayName).toBe("Ann");
    for (const m of [photo, reply, reaction, place, card]) expect(m.key.remoteJid).toBe(group.jid);
  });

  it("every linked member gets it; a sender or a group that is not right is refused", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const bob = await linkedClient(sim, BOB);
    const group = sim.createGroup({ subject: "Both", members: [ALICE, BOB, M1] });

    const { id } = await sim.inbound({ from: M1, group: group.id, text: "to both" });
    const atBob = await bob.waitFor(() => bob.received.find((m) => m.key.id === id), "bob");
    const atAlice = await alice.waitFor(() => alice.received.find((m) => m.key.id === id), "alice");

    expect([atAlice, atBob].map(textOf)).toEqual(["to both", "to both"]);
    await expect(sim.inbound({ from: M3, group: group.id, text: "let me" })).rejects.toMatchObject({ status: 409 });
    await expect(sim.inbound({ from: M1, group: "120363000000000000", text: "?" })).rejects.toMatchObject({
      status: 404,
    });
  });

  it("a member added later reads what follows, not what came before; after a removal a new sender key still reaches the rest", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const bob = await linkedClient(sim, BOB);
    const group = sim.createGroup({ subject: "Late", members: [ALICE, M1, M2] });
    await receive(sim, alice, { from: M1, group: group.id, text: "before bob" });

    sim.updateParticipants(group.id, { add: [BOB] });
    const toBob = await receive(sim, bob, { from: M1, group: group.id, text: "hi bob" });
    sim.updateParticipants(group.id, { remove: [M2] });
    const afterRemoval = await receive(sim, alice, { from: M1, group: group.id, text: "after" });
    const atBob = await bob.waitFor(() => bob.received.find((m) => m.key.id === afterRemoval.key.id), "bob's");

    expect(textOf(toBob)).toBe("hi bob");
    expect(textOf(afterRemoval)).toBe("after");
    expect(textOf(atBob)).toBe("after");
    expect(bob.received.map(textOf)).not.toContain("before bob");
  });
});
